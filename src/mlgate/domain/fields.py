"""Typed reads of JSON request bodies with OpenSearch-style parse errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from mlgate.domain.errors import InvalidRequestError

_SAFE_TEXT = re.compile(r"^[\w\s.,!?():@\-/'\"]*$", re.UNICODE)
SAFE_TEXT_DESCRIPTION = "can only contain letters, numbers, spaces, and basic punctuation (.,!?():@-_'/\")"


def parse_error(message: str) -> InvalidRequestError:
    """A body that does not have the expected shape."""
    return InvalidRequestError(message, error_type="x_content_parse_exception")


def token_name(value: Any) -> str:
    """The name of the JSON token ``value`` starts with, as OpenSearch's parser reports it."""
    if isinstance(value, Mapping):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    if isinstance(value, bool):
        return "VALUE_BOOLEAN"
    if isinstance(value, int | float):
        return "VALUE_NUMBER"
    if value is None:
        return "VALUE_NULL"
    return "VALUE_STRING"


def require_object(body: Any, what: str) -> dict[str, Any]:
    """The body must be a JSON object."""
    if not isinstance(body, dict):
        raise parse_error(f"[{what}] request body must be a JSON object")
    return body


def opt_str(body: Mapping[str, Any], key: str) -> str | None:
    """An optional string field; numbers and booleans are accepted as their text, like OpenSearch."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        raise parse_error(f"[{key}] must be a string")
    return value


def opt_bool(body: Mapping[str, Any], key: str) -> bool | None:
    """An optional boolean field (also "true"/"false" strings)."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return str(value) == "true"
    raise parse_error(f"[{key}] must be a boolean")


def opt_str_list(body: Mapping[str, Any], key: str) -> list[str] | None:
    """An optional list of strings."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise parse_error(f"[{key}] must be an array of strings")
    return list(value)


def opt_object(body: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    """An optional JSON object field."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise parse_error(f"[{key}] must be an object")
    return value


def string_map(value: Mapping[str, Any]) -> dict[str, str]:
    """ML Commons keeps parameter maps as strings: strings verbatim, anything else as compact JSON."""
    return {k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in value.items()}


def is_safe_text(value: str) -> bool:
    """ML Commons' safe-text rule for names and descriptions (3.1+)."""
    return bool(_SAFE_TEXT.match(value)) and "\x00" not in value


def validate_safe_fields(fields: list[tuple[str, str | None, bool]]) -> None:
    """Raise action_request_validation_exception listing every unsafe (label, value, required) field."""
    errors: list[str] = []
    for label, value, required in fields:
        if required and (value is None or not value.strip()):
            errors.append(f"{label} is required and cannot be null or blank")
        elif value is not None and value.strip() and not is_safe_text(value):
            errors.append(f"{label} {SAFE_TEXT_DESCRIPTION}")
    if errors:
        numbered = "".join(f"{i}: {e};" for i, e in enumerate(errors, start=1))
        raise InvalidRequestError(
            f"Validation Failed: {numbered}", error_type="action_request_validation_exception"
        )
