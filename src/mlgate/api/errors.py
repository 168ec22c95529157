"""The one table from error class to HTTP status, and the one OpenSearch error envelope renderer."""

from __future__ import annotations

from typing import Any

from mlgate.domain.errors import (
    CircuitBreakingError,
    ConflictError,
    ExecutionError,
    ForbiddenError,
    InvalidRequestError,
    LimitExceededError,
    MlgateError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    RemoteError,
    UnauthorizedError,
)

_STATUS: tuple[tuple[type[MlgateError], int], ...] = (
    (PayloadTooLargeError, 413),
    (InvalidRequestError, 400),
    (NotFoundError, 404),
    (ConflictError, 409),
    (ForbiddenError, 403),
    (UnauthorizedError, 401),
    (RateLimitedError, 429),
    (CircuitBreakingError, 429),
    (ExecutionError, 500),
    (LimitExceededError, 503),
)


def status_of(error: MlgateError) -> int:
    """HTTP status for an error (a remote error keeps the provider's status)."""
    if isinstance(error, RemoteError):
        return error.status
    for cls, status in _STATUS:
        if isinstance(error, cls):
            return status
    return 500


def error_body(
    error_type: str,
    reason: str,
    status: int,
    caused_by: tuple[str, str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``{"error": {"root_cause": [...], "type", "reason"[, metadata…][, "caused_by"]}, "status"}``."""
    cause = {"type": error_type, "reason": reason, **(metadata or {})}
    error: dict[str, Any] = {"root_cause": [cause], **cause}
    if caused_by is not None:
        error["caused_by"] = {"type": caused_by[0], "reason": caused_by[1]}
    return {"error": error, "status": status}


def render_error(error: MlgateError) -> tuple[int, dict[str, Any]]:
    """Status and body for a domain error."""
    status = status_of(error)
    metadata = None
    if isinstance(error, CircuitBreakingError):
        # OpenSearch's CircuitBreakingException adds these beside the reason.
        metadata = {
            "bytes_wanted": error.bytes_wanted,
            "bytes_limit": error.bytes_limit,
            "durability": "TRANSIENT",
        }
    return status, error_body(error.error_type, error.message, status, error.caused_by, metadata)


def error_headers(error: MlgateError) -> list[tuple[bytes, bytes]]:
    """Headers an error answer carries: ``Retry-After`` when throttled, the Basic challenge on 401."""
    if isinstance(error, RateLimitedError) and error.retry_after is not None:
        return [(b"retry-after", str(error.retry_after).encode())]
    if isinstance(error, UnauthorizedError):
        return [(b"www-authenticate", b'Basic realm="OpenSearch Security"')]
    return []


def internal_error() -> tuple[int, dict[str, Any]]:
    """Anything unexpected: a generic reason; the traceback goes to the log only."""
    return 500, error_body("exception", "Internal server error; see the mlgate log for details", 500)
