"""What the mock sends back: encoded JSON answers and provider-style error bodies."""

from __future__ import annotations

import http
from dataclasses import dataclass, field
from typing import Any

import orjson

from mlgate.mockprovider.shape import Family

JSON = "application/json"

_AWS_ERROR_TYPES = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
_OPENAI_ERROR_TYPES = {
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}
_GOOGLE_STATUSES = {
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    503: "UNAVAILABLE",
}
THROTTLING_ERROR_TYPE = "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/"


@dataclass(frozen=True, slots=True)
class Reply:
    """A finished answer: status, encoded body and the headers to send with it."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(
    payload: Any, *, status: int = 200, content_type: str = JSON, headers: dict[str, str] | None = None
) -> Reply:
    """Encode ``payload`` with orjson (the mock also serves benchmarks, so encoding must be cheap)."""
    return Reply(status, orjson.dumps(payload), content_type, headers or {})


def status_message(status: int) -> str:
    """A readable default message for an injected status."""
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return f"{phrase} (status {status} injected by the mlgate mock provider)"


def _aws_error_type(status: int) -> str:
    if status in _AWS_ERROR_TYPES:
        return _AWS_ERROR_TYPES[status]
    return "InternalServerException" if status >= 500 else "ValidationException"


def error_reply(family: Family, status: int, message: str, *, error_type: str | None = None) -> Reply:
    """The error body ``family``'s real service would send for ``status``.

    AWS services also name the error in ``x-amzn-ErrorType``, which ML Commons inspects to recognise
    throttling.
    """
    if family is Family.OPENAI:
        kind, code = _OPENAI_ERROR_TYPES.get(
            status, ("server_error" if status >= 500 else "invalid_request_error", None)
        )
        body = {"error": {"message": message, "type": error_type or kind, "param": None, "code": code}}
        return json_reply(body, status=status)
    if family is Family.GOOGLE:
        google_status = _GOOGLE_STATUSES.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT")
        return json_reply(
            {"error": {"code": status, "message": message, "status": google_status}}, status=status
        )
    if family is Family.AWS:
        aws_type = error_type or _aws_error_type(status)
        headers = {"x-amzn-ErrorType": f"{aws_type}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
        return json_reply({"message": message}, status=status, headers=headers)
    if family is Family.AWS_JSON:
        aws_type = error_type or _aws_error_type(status)
        return json_reply(
            {"__type": aws_type, "message": message},
            status=status,
            content_type="application/x-amz-json-1.1",
            headers={"x-amzn-ErrorType": aws_type},
        )
    return json_reply({"message": message}, status=status)


def throttling_reply(status: int = 400) -> Reply:
    """AWS throttling as ML Commons recognises it: an error status + ``x-amzn-ErrorType: Throttling…``."""
    return json_reply(
        {"message": "Rate exceeded"}, status=status, headers={"x-amzn-ErrorType": THROTTLING_ERROR_TYPE}
    )
