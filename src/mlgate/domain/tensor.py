"""ModelTensor wire dicts: construction in ML Commons' key order, parsing script output, generic wrapping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.template import is_json_container

# MLResultDataType in declaration order: the first whose ".NAME" occurs in a filter wins.
DATA_TYPES = (
    "FLOAT32",
    "FLOAT64",
    "FLOAT16",
    "UINT8",
    "INT32",
    "INT8",
    "INT64",
    "BOOLEAN",
    "UNKNOWN",
    "STRING",
    "BINARY",
    "UBINARY",
)
RESPONSE_KEY = "response"
_DATA_TYPE_ENUM = "org.opensearch.ml.common.output.model.MLResultDataType"


def model_tensor(
    *,
    name: str | None = None,
    data_type: str | None = None,
    shape: Sequence[int] | None = None,
    data: Sequence[Any] | None = None,
    byte_buffer: Mapping[str, Any] | None = None,
    result: str | None = None,
    data_as_map: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One ModelTensor as its JSON object: null fields omitted, keys in ML Commons' wire order."""
    tensor: dict[str, Any] = {}
    if name is not None:
        tensor["name"] = name
    if data_type is not None:
        tensor["data_type"] = data_type
    if shape is not None:
        tensor["shape"] = list(shape)
    if data is not None:
        tensor["data"] = list(data)
    if byte_buffer is not None:
        tensor["byte_buffer"] = dict(byte_buffer)
    if result is not None:
        tensor["result"] = result
    if data_as_map is not None:
        tensor["dataAsMap"] = dict(data_as_map)
    return tensor


def data_type_for_filter(response_filter: str | None) -> str:
    """The tensor ``data_type`` implied by a filter (``$.embeddings.int8`` ⇒ ``INT8``), else ``FLOAT32``."""
    if response_filter:
        lowered = response_filter.lower()
        for data_type in DATA_TYPES:
            if "." + data_type.lower() in lowered:
                return data_type
    return "FLOAT32"


def build_response_tensors(value: Any, *, from_script: bool) -> list[dict[str, Any]]:
    """The tensors of one remote call when no built-in post function applies.

    ml-commons: common/.../connector/AbstractConnector.java (parseResponse).

    ``from_script`` with JSON text ⇒ the text is one ModelTensor object or an array of them. Otherwise
    JSON object/array text is parsed first; a map becomes ``dataAsMap``; anything else (plain text,
    number, list) becomes ``dataAsMap: {"response": value}``; the tensor is named ``response``.
    """
    if from_script and isinstance(value, str) and is_json_container(value):
        parsed = orjson.loads(value)
        items = parsed if isinstance(parsed, list) else [parsed]
        return [parse_model_tensor(item) for item in items]
    if isinstance(value, str) and is_json_container(value):
        value = orjson.loads(value)
    if isinstance(value, Mapping):
        return [model_tensor(name=RESPONSE_KEY, data_as_map=value)]
    return [model_tensor(name=RESPONSE_KEY, data_as_map={RESPONSE_KEY: value})]


def parse_model_tensor(item: Any) -> dict[str, Any]:
    """A ModelTensor object written by a script, read the way ``ModelTensor.parser`` reads it.

    ``data`` is kept only with a ``data_type`` and when non-empty; ``byte_buffer`` is read but, as in
    ML Commons, not carried over; unknown fields are ignored.
    """
    if not isinstance(item, Mapping):
        raise InvalidRequestError(
            "Failed to parse ModelTensor: expected an object", error_type="parsing_exception"
        )
    name = _optional_text(item.get("name"))
    data_type = None
    raw_type = item.get("data_type")
    if raw_type is not None:
        data_type = _optional_text(raw_type)
        if data_type not in DATA_TYPES:
            raise InvalidRequestError(f"No enum constant {_DATA_TYPE_ENUM}.{data_type}")
    shape = item.get("shape")
    if shape is not None and not (
        isinstance(shape, list) and all(isinstance(n, int) and not isinstance(n, bool) for n in shape)
    ):
        raise InvalidRequestError("Failed to parse ModelTensor shape: expected an array of integers")
    data = item.get("data")
    if data is not None and not isinstance(data, list):
        raise InvalidRequestError("Failed to parse ModelTensor data: expected an array")
    keep_data = data_type is not None and bool(data)
    data_as_map = item.get("dataAsMap")
    if data_as_map is not None and not isinstance(data_as_map, Mapping):
        raise InvalidRequestError("Failed to parse ModelTensor dataAsMap: expected an object")
    return model_tensor(
        name=name,
        data_type=data_type,
        shape=shape,
        data=data if keep_data else None,
        result=_optional_text(item.get("result")),
        data_as_map=data_as_map,
    )


def _optional_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise InvalidRequestError(
        "Failed to parse ModelTensor: expected a text value", error_type="parsing_exception"
    )
