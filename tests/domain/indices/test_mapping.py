"""Mappings as typed records: parsing, rendering as given, knn_vector validation, merge rules."""

from __future__ import annotations

from typing import Any

import pytest

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.indices.errors import MapperParsingError
from mlgate.domain.indices.knn import KnnMethod
from mlgate.domain.indices.mapping import parse_mappings
from mlgate.domain.indices.mapping_merge import merge_mappings

TUTORIAL = {
    "properties": {
        "id": {"type": "text"},
        "passage_embedding": {
            "type": "knn_vector",
            "dimension": 768,
            "method": {"engine": "lucene", "space_type": "l2", "name": "hnsw", "parameters": {}},
        },
        "passage_text": {"type": "text"},
    }
}


def test_the_tutorial_mapping_parses_and_renders_as_given() -> None:
    mappings = parse_mappings(TUTORIAL)
    assert mappings.to_json() == TUTORIAL
    vector = mappings.lookup("passage_embedding")
    assert vector is not None
    assert vector.knn == KnnMethod(768, "l2", "lucene", "hnsw", {}, "float")
    assert mappings.lookup("id") is not None and mappings.lookup("id").type == "text"  # type: ignore[union-attr]


def test_knn_defaults_top_level_space_and_the_index_level_space() -> None:
    plain = parse_mappings({"properties": {"v": {"type": "knn_vector", "dimension": "3"}}}).lookup("v")
    assert plain is not None and plain.knn == KnnMethod(3, "l2", "faiss", "hnsw", {}, "float")
    top = parse_mappings(
        {"properties": {"v": {"type": "knn_vector", "dimension": 3, "space_type": "innerproduct"}}}
    )
    assert top.lookup("v").knn.space_type == "innerproduct"  # type: ignore[union-attr]
    legacy = parse_mappings(
        {"properties": {"v": {"type": "knn_vector", "dimension": 3}}}, index_space_type="cosinesimil"
    )
    assert legacy.lookup("v").knn.space_type == "cosinesimil"  # type: ignore[union-attr]
    nmslib = {
        "type": "knn_vector",
        "dimension": 2,
        "method": {"name": "hnsw", "engine": "nmslib", "space_type": "linf"},
    }
    assert parse_mappings({"properties": {"v": nmslib}}).lookup("v").knn.engine == "nmslib"  # type: ignore[union-attr]


def test_dotted_names_expand_into_objects_and_objects_nest() -> None:
    mappings = parse_mappings(
        {
            "properties": {
                "user.name": {"type": "keyword"},
                "user.age": {"type": "integer"},
                "n": {"type": "nested", "properties": {"x": {"type": "date"}}},
            }
        }
    )
    assert mappings.to_json() == {
        "properties": {
            "user": {"properties": {"name": {"type": "keyword"}, "age": {"type": "integer"}}},
            "n": {"type": "nested", "properties": {"x": {"type": "date"}}},
        }
    }
    assert set(mappings.leaves()) == {"user.name", "user.age", "n.x"}


def _reason(body: dict[str, Any], **options: Any) -> tuple[str, tuple[str, str] | None]:
    with pytest.raises(MapperParsingError) as caught:
        parse_mappings(body, **options)
    assert caught.value.error_type == "mapper_parsing_exception"
    return caught.value.message, caught.value.caused_by


def _vector(**params: Any) -> dict[str, Any]:
    return {"properties": {"v": {"type": "knn_vector", **params}}}


@pytest.mark.parametrize(
    ("body", "inner_type", "reason"),
    [
        (
            {"properties": {"f": {"type": "foo"}}},
            "mapper_parsing_exception",
            "No handler for type [foo] declared on field [f]",
        ),
        (
            {"properties": {"f": {"analyzer": "standard"}}},
            "mapper_parsing_exception",
            "No type specified for field [f]",
        ),
        ({"properties": {"f": {}}}, "mapper_parsing_exception", "No type specified for field [f]"),
        (
            {"properties": {"f": {"type": "text", "bogus": 1}}},
            "mapper_parsing_exception",
            "unknown parameter [bogus] on mapper [f] of type [text]",
        ),
        (_vector(), "illegal_argument_exception", "Dimension value missing for vector: v"),
        (
            _vector(dimension=0),
            "illegal_argument_exception",
            "Dimension value must be greater than 0 for vector: v",
        ),
        (
            _vector(dimension="abc"),
            "illegal_argument_exception",
            "Unable to parse [dimension] from provided value [abc] for vector [v]",
        ),
        (
            _vector(dimension=16001),
            "validation_exception",
            "Validation Failed: 1: Dimension value cannot be greater than 16000 for vector with engine: faiss;",
        ),
        (
            _vector(dimension=3, space_type="foo"),
            "illegal_argument_exception",
            "Unable to find space: foo . Valid values are: [l2, cosinesimil, l1, linf, innerproduct, hamming]",
        ),
        (
            _vector(dimension=3, method={"name": "hnsw", "engine": "x"}),
            "mapper_parsing_exception",
            "Invalid engine: x",
        ),
        (
            _vector(dimension=3, method={"engine": "faiss"}),
            "mapper_parsing_exception",
            "name needs to be set",
        ),
        (
            _vector(dimension=3, method={"name": "hnsw", "k": 1}),
            "mapper_parsing_exception",
            "Invalid parameter: k",
        ),
        (
            _vector(dimension=3, space_type="l2", method={"name": "hnsw", "space_type": "innerproduct"}),
            "mapper_parsing_exception",
            'Space type in "method" and top level space type should be same or one of them should be defined',
        ),
        (
            _vector(dimension=3, method={"name": "hnsw", "engine": "lucene", "space_type": "l1"}),
            "validation_exception",
            'Validation Failed: 1: "hnsw" with "lucene" configuration does not support space type: "l1".;',
        ),
    ],
)
def test_refusals(body: dict[str, Any], inner_type: str, reason: str) -> None:
    assert _reason(body) == (f"Failed to parse mapping [_doc]: {reason}", (inner_type, reason))


def test_an_object_without_type_needs_properties_or_just_enabled() -> None:
    mappings = parse_mappings({"properties": {"o": {"enabled": False}, "p": {"properties": {}}}})
    assert mappings.lookup("o") is not None and mappings.lookup("o").type == "object"  # type: ignore[union-attr]
    assert mappings.lookup("p") is not None and mappings.lookup("p").is_object  # type: ignore[union-attr]


def test_method_needs_index_knn() -> None:
    reason = "Cannot set modelId or method parameters when index.knn setting is false"
    assert _reason(_vector(dimension=3, method={"name": "hnsw"}), knn_enabled=False)[1] == (
        "illegal_argument_exception",
        reason,
    )
    # Without a method, a vector field is allowed either way (exact search only).
    parse_mappings(_vector(dimension=3), knn_enabled=False)


def test_merge_adds_fields_and_keeps_types() -> None:
    current = parse_mappings(
        {"properties": {"a": {"type": "text"}, "o": {"properties": {"x": {"type": "long"}}}}}
    )
    update = parse_mappings(
        {
            "properties": {
                "b": {"type": "keyword"},
                "o": {"properties": {"y": {"type": "boolean"}}},
                "a": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
            }
        }
    )
    merged = merge_mappings(current, update)
    assert merged.to_json() == {
        "properties": {
            "a": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
            "o": {"properties": {"x": {"type": "long"}, "y": {"type": "boolean"}}},
            "b": {"type": "keyword"},
        }
    }


@pytest.mark.parametrize(
    ("update", "reason"),
    [
        ({"a": {"type": "long"}}, "mapper [a] cannot be changed from type [text] to [long]"),
        ({"o": {"type": "keyword"}}, "can't merge a non object mapping [o] with an object mapping"),
        (
            {"o": {"properties": {"x": {"type": "text"}}}},
            "mapper [o.x] cannot be changed from type [long] to [text]",
        ),
        (
            {"v": {"type": "knn_vector", "dimension": 4}},
            "Mapper for [v] conflicts with existing mapper:\n\tCannot update parameter [dimension] from [3] to [4]",
        ),
    ],
)
def test_merge_conflicts(update: dict[str, Any], reason: str) -> None:
    current = parse_mappings(
        {
            "properties": {
                "a": {"type": "text"},
                "o": {"properties": {"x": {"type": "long"}}},
                "v": {"type": "knn_vector", "dimension": 3},
            }
        }
    )
    with pytest.raises(InvalidRequestError) as caught:
        merge_mappings(current, parse_mappings({"properties": update}))
    assert caught.value.message == reason
    assert caught.value.error_type == "illegal_argument_exception"
