"""The one error tree of mlgate.

Every failure a caller can see is one of these. ``message`` is the OpenSearch ``reason`` and keeps
ML Commons' wording verbatim. ``error_type`` overrides the OpenSearch ``type`` where ML Commons uses a
different exception class for the same kind of failure (for example ``parse_exception``); the HTTP
status is decided in one table at the API edge, never here.
"""

from __future__ import annotations


class MlgateError(Exception):
    """Base of every error mlgate reports to a caller."""

    default_type = "exception"

    def __init__(
        self,
        message: str,
        *,
        error_type: str | None = None,
        caused_by: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type or self.default_type
        self.caused_by = caused_by


class InvalidRequestError(MlgateError):
    """Bad body, failed validation, unfilled placeholder (400)."""

    default_type = "illegal_argument_exception"


class PayloadTooLargeError(InvalidRequestError):
    """A request body over the configured limit (413)."""

    default_type = "content_too_long_exception"


class NotFoundError(MlgateError):
    """Unknown id (404)."""

    default_type = "status_exception"


class ConflictError(MlgateError):
    """Duplicate, illegal state transition, object still in use (409)."""

    default_type = "status_exception"


class ForbiddenError(MlgateError):
    """Access control says no (403)."""

    default_type = "status_exception"


class UnauthorizedError(MlgateError):
    """No or wrong credentials (401)."""

    default_type = "security_exception"


class RateLimitedError(MlgateError):
    """A rate limiter or throttle says no (429)."""

    default_type = "status_exception"

    def __init__(
        self, message: str, *, retry_after: int | None = None, error_type: str | None = None
    ) -> None:
        super().__init__(message, error_type=error_type)
        self.retry_after = retry_after


class LimitExceededError(MlgateError):
    """A request needs more than a server-side limit allows, e.g. ``search.max_buckets`` (503)."""

    default_type = "too_many_buckets_exception"


class CircuitBreakingError(MlgateError):
    """Taking more memory would pass a limit (429, as OpenSearch's circuit breakers answer); the
    request may succeed once others finish."""

    default_type = "circuit_breaking_exception"

    def __init__(self, message: str, *, bytes_wanted: int, bytes_limit: int) -> None:
        super().__init__(message)
        self.bytes_wanted = bytes_wanted
        self.bytes_limit = bytes_limit


class ExecutionError(MlgateError):
    """Server-side failure with a known reason, e.g. a post-process path not found (500)."""

    default_type = "m_l_exception"


class RemoteError(MlgateError):
    """The provider failed; carries the status to answer with (the provider's, when it sent one)."""

    default_type = "status_exception"

    def __init__(
        self,
        message: str,
        *,
        status: int,
        retryable: bool = False,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message, error_type=error_type)
        self.status = status
        self.retryable = retryable


class RemoteTimeoutError(RemoteError):
    """The provider did not answer in time."""
