"""``knn_vector`` fields: mapping parameters, vector validation, distances and k-NN scores.

Scores follow k-NN 3.x (``src/main/java/org/opensearch/knn/index/SpaceType.java`` and the Faiss
translations in ``.../index/engine/faiss/Faiss.java``), in 32-bit floats, with d the distance an
engine reports:

=============  ==========================  ==============================================
space          d                           score
=============  ==========================  ==============================================
l2             Σ (xᵢ − yᵢ)²                1 / (1 + d)
l1             Σ |xᵢ − yᵢ|                 1 / (1 + d)
linf           max |xᵢ − yᵢ|               1 / (1 + d)
cosinesimil    1 − cos(x, y)               max((2 − d) / 2, 0) = (1 + cos) / 2
innerproduct   −(x · y)                    d ≥ 0: 1 / (1 + d); d < 0: 1 − d
=============  ==========================  ==============================================

Radial search keeps every document whose score reaches a threshold: ``max_distance`` becomes the
score of that distance, ``min_score`` is used as given (the engine turns both into a radius and back;
ExactSearcher compares ``score >= threshold``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.indices.errors import MapperParsingError
from mlgate.domain.indices.floats import f32

# SpaceType.VALID_VALUES, in enum order.
SPACE_TYPES = ("l2", "cosinesimil", "l1", "linf", "innerproduct", "hamming")
DEFAULT_SPACE = "l2"
DEFAULT_ENGINE = "faiss"
ENGINES = ("faiss", "lucene", "nmslib")
METHODS = ("hnsw", "ivf", "flat")
MAX_DIMENSION = 16_000
# Spaces each engine supports (mlgate computes every space; only the mapping is validated).
_ENGINE_SPACES = {
    "faiss": frozenset({"l2", "innerproduct", "cosinesimil", "hamming"}),
    "lucene": frozenset({"l2", "cosinesimil", "innerproduct"}),
    "nmslib": frozenset({"l2", "innerproduct", "cosinesimil", "l1", "linf"}),
}
_PARAMETERS = frozenset(
    {
        "dimension",
        "method",
        "space_type",
        "data_type",
        "mode",
        "compression_level",
        "model_id",
        "doc_values",
        "store",
        "meta",
    }
)


@dataclass(frozen=True)
class KnnMethod:
    """The resolved k-NN configuration of a ``knn_vector`` field."""

    dimension: int
    space_type: str = DEFAULT_SPACE
    engine: str = DEFAULT_ENGINE
    name: str = "hnsw"
    parameters: Mapping[str, Any] = field(default_factory=dict)
    data_type: str = "float"


def parse_knn_field(
    name: str, params: Mapping[str, Any], *, knn_enabled: bool, index_space_type: str | None
) -> KnnMethod:
    """Validate a ``knn_vector`` mapping (its parameters without ``type``) as KNNVectorFieldMapper does."""
    for key in params:
        if key not in _PARAMETERS:
            raise _wrapped(
                "mapper_parsing_exception",
                f"unknown parameter [{key}] on mapper [{name}] of type [knn_vector]",
            )
    if "model_id" in params:
        raise _wrapped(
            "illegal_argument_exception", "[model_id] (trained k-NN models) is not supported by mlgate"
        )
    data_type = str(params.get("data_type", "float")).lower()
    if data_type != "float":
        raise _wrapped("illegal_argument_exception", f"[data_type] [{data_type}] is not supported by mlgate")
    if "dimension" not in params:
        raise _wrapped("illegal_argument_exception", f"Dimension value missing for vector: {name}")
    dimension = _dimension(name, params["dimension"])
    top_space = _space(params.get("space_type"))
    method = params.get("method")
    if method is not None and not knn_enabled:
        raise _wrapped(
            "illegal_argument_exception",
            "Cannot set modelId or method parameters when index.knn setting is false",
        )
    engine, method_space, method_name, parameters = (
        _method(method) if method is not None else (None, None, "hnsw", {})
    )
    if top_space is not None and method_space is not None and top_space != method_space:
        raise _wrapped(
            "mapper_parsing_exception",
            'Space type in "method" and top level space type should be same or one of them should be defined',
        )
    space = method_space or top_space or _space(index_space_type) or DEFAULT_SPACE
    if space == "hamming":
        raise _wrapped(
            "illegal_argument_exception", "Space type [hamming] is not supported with [float] data type"
        )
    engine = engine or DEFAULT_ENGINE
    if dimension > MAX_DIMENSION:
        raise _wrapped(
            "validation_exception",
            f"Validation Failed: 1: Dimension value cannot be greater than {MAX_DIMENSION} for vector with engine: {engine};",
        )
    if method is not None and space not in _ENGINE_SPACES[engine]:
        raise _wrapped(
            "validation_exception",
            f'Validation Failed: 1: "{method_name}" with "{engine}" configuration does not support space type: "{space}".;',
        )
    return KnnMethod(dimension, space, engine, method_name, parameters, data_type)


def _dimension(name: str, value: Any) -> int:
    # XContentMapValues.nodeIntegerValue: a number is truncated, a string must be an integer.
    if value is None:
        raise _wrapped("illegal_argument_exception", "Dimension cannot be null")
    is_number = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not (is_number or (isinstance(value, str) and value.strip().lstrip("+-").isdigit())):
        raise _wrapped(
            "illegal_argument_exception",
            f"Unable to parse [dimension] from provided value [{_java_str(value)}] for vector [{name}]",
        )
    number = int(value)
    if number <= 0:
        raise _wrapped(
            "illegal_argument_exception", f"Dimension value must be greater than 0 for vector: {name}"
        )
    return number


def _space(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).lower()
    if text not in SPACE_TYPES:
        raise _wrapped(
            "illegal_argument_exception",
            f"Unable to find space: {value} . Valid values are: [{', '.join(SPACE_TYPES)}]",
        )
    return text


def _method(method: Any) -> tuple[str | None, str | None, str, dict[str, Any]]:
    """KNNMethodContext.parse, with its messages."""
    if not isinstance(method, Mapping):
        raise _wrapped(
            "mapper_parsing_exception",
            'Unable to parse mapping into KNNMethodContext. Object not of type "Map"',
        )
    engine: str | None = None
    space: str | None = None
    name = ""
    parameters: dict[str, Any] = {}
    for key, value in method.items():
        if key == "engine":
            if value is not None and not isinstance(value, str):
                raise _wrapped("mapper_parsing_exception", '"engine" must be a string')
            if value is not None and value.lower() not in ENGINES:
                raise _wrapped("mapper_parsing_exception", f"Invalid engine: {value}")
            engine = value.lower() if value is not None else None
        elif key == "space_type":
            if value is not None and not isinstance(value, str):
                raise _wrapped("mapper_parsing_exception", '"space_type" must be a string')
            if value is not None and value.lower() not in SPACE_TYPES:
                raise _wrapped("mapper_parsing_exception", f"Invalid space_type: {value}")
            space = value.lower() if value is not None else None
        elif key == "name":
            if not isinstance(value, str):
                raise _wrapped("mapper_parsing_exception", "namehas to be a string")
            name = value
        elif key == "parameters":
            if value is not None and not isinstance(value, Mapping):
                raise _wrapped(
                    "mapper_parsing_exception", "Unable to parse parameters for main method component"
                )
            parameters = dict(value or {})
        else:
            raise _wrapped("mapper_parsing_exception", f"Invalid parameter: {key}")
    if not name:
        raise _wrapped("mapper_parsing_exception", "name needs to be set")
    if name not in METHODS:
        raise _wrapped("illegal_argument_exception", f"Invalid method name: {name}")
    return engine, space, name, parameters


def _java_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _wrapped(inner_type: str, reason: str) -> MapperParsingError:
    return MapperParsingError(f"Failed to parse mapping [_doc]: {reason}", caused_by=(inner_type, reason))


# --- vectors --------------------------------------------------------------------------------------------


def parse_vector(value: Any, method: KnnMethod) -> tuple[float, ...]:
    """A document's vector as 32-bit floats; raises InvalidRequestError with KNNValidationUtil's reason
    (the caller wraps it into the field's ``mapper_parsing_exception``)."""
    if not isinstance(value, list) or not all(
        isinstance(x, int | float) and not isinstance(x, bool) for x in value
    ):
        raise InvalidRequestError("Vector values must be an array of numbers")
    if len(value) != method.dimension:
        raise InvalidRequestError(
            f"Vector dimension mismatch. Expected: {method.dimension}, Given: {len(value)}"
        )
    vector = tuple(f32(float(x)) for x in value)
    for x in vector:
        if math.isnan(x):
            raise InvalidRequestError("KNN vector values cannot be NaN")
        if math.isinf(x):
            raise InvalidRequestError("KNN vector values cannot be infinity")
    if method.space_type == "cosinesimil" and not any(vector):
        raise InvalidRequestError("zero vector is not supported when space type is [cosinesimil]")
    return vector


def distance(space: str, query: Sequence[float], doc: Sequence[float]) -> float:
    """The engine distance d of the module table, in 32-bit floats (reference implementation; the
    stores compute the same with numpy)."""
    if space == "l2":
        return f32(math.fsum((a - b) * (a - b) for a, b in zip(query, doc, strict=True)))
    if space == "l1":
        return f32(math.fsum(abs(a - b) for a, b in zip(query, doc, strict=True)))
    if space == "linf":
        return f32(max(abs(a - b) for a, b in zip(query, doc, strict=True)))
    dot = math.fsum(a * b for a, b in zip(query, doc, strict=True))
    if space == "innerproduct":
        return f32(-dot)
    if space == "cosinesimil":
        norms = math.sqrt(math.fsum(a * a for a in query)) * math.sqrt(math.fsum(b * b for b in doc))
        return f32(1.0 - dot / norms) if norms else 1.0
    raise ValueError(f"unknown space type {space}")


def score(space: str, d: float) -> float:
    """The k-NN ``_score`` of a document at engine distance ``d``."""
    d = f32(d)
    if space == "cosinesimil":
        return max(f32(f32(2.0 - d) / 2.0), 0.0)
    if space == "innerproduct" and d < 0:
        return f32(1.0 - d)
    return f32(1.0 / f32(1.0 + d))


def max_distance_threshold(space: str, max_distance: float) -> float:
    """The minimum score of ``max_distance`` radial search: the distance becomes the engine's radius
    (``Faiss.distanceToRadialThreshold``) and ExactSearcher scores that radius."""
    if max_distance < 0 and space != "innerproduct":
        raise InvalidRequestError(f"[knn] requires distance to be non-negative for space type: {space}")
    d = f32(max_distance)
    if space == "cosinesimil":
        return score(space, f32(1.0 - f32(1.0 - d)))  # radius = a cosine, 1 - d
    return score(space, d)


def min_score_threshold(space: str, min_score: float) -> float:
    """The minimum score of ``min_score`` radial search, after KNNQueryBuilder's checks: the score
    becomes a radius (``Faiss.scoreToRadialThreshold``) and ExactSearcher scores that radius."""
    if min_score <= 0:
        raise InvalidRequestError("[knn] requires minScore to be greater than 0")
    if min_score > 1 and space != "innerproduct":
        raise InvalidRequestError(f"[knn] requires score to be in the range [0, 1] for space type: {space}")
    s = f32(min_score)
    if space == "cosinesimil":
        radius = f32(f32(2.0 * s) - 1.0)  # a cosine
        return score(space, f32(1.0 - radius))
    if space == "innerproduct":
        radius = f32(s - 1.0) if s > 1 else f32(1.0 - f32(1.0 / s))  # a dot product
        return score(space, f32(-radius))
    # l2 (SpaceType.scoreToDistanceTranslation); l1 and linf have none in k-NN, the same inverse serves.
    return score(space, f32(f32(1.0 / s) - 1.0))
