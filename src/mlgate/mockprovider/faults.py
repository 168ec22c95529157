"""Fault injection knobs, read from the query string so that a connector URL can ask for them.

=====================  =======================================================================
``mock_status=<code>``  answer ``code`` with the provider's error body
``mock_throttle=1``     AWS throttling: 400 (or ``mock_status``) + ``x-amzn-ErrorType: ThrottlingException:…``
``mock_reset=1``        abort the connection without any response
``mock_fail_times=<n>`` apply the failure above (default: 503) only to the first ``n`` requests for
``mock_key=<k>``        key ``k`` (default: the request path), then answer normally — for retry tests
``mock_body=<mode>``    ``empty`` | ``text`` | ``huge`` | ``invalid`` (truncated JSON)
``mock_huge_bytes=<n>`` padding size for ``mock_body=huge`` (default 4 MiB)
``mock_delay_ms=<n>``   wait before sending the headers
``mock_slow_body_ms=<n>`` send the headers, then trickle the body over ``n`` ms
``mock_trickle_ms=<n>`` send the headers, then the body one byte every ``n`` ms (never silent longer)
``mock_chunked=1``      with ``mock_trickle_ms``: chunked transfer encoding, one chunk per byte
``mock_slow_headers_ms=<n>`` send the status line and headers one byte every ``n`` ms, then the body
=====================  =======================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mlgate.mockprovider.reply import Reply

BODY_MODES = ("empty", "text", "huge", "invalid")
DEFAULT_HUGE_BYTES = 4 * 1024 * 1024
MAX_HUGE_BYTES = 512 * 1024 * 1024
MAX_WAIT_MS = 600_000
PLAIN_TEXT_BODY = b"mock provider plain text answer"


class FaultSpecError(Exception):
    """A ``mock_*`` knob has a value the mock does not understand."""


@dataclass(frozen=True, slots=True)
class Faults:
    """The faults one request asked for."""

    status: int | None = None
    throttle: bool = False
    reset: bool = False
    fail_times: int | None = None
    key: str | None = None
    body: str | None = None
    huge_bytes: int = DEFAULT_HUGE_BYTES
    delay_ms: int = 0
    slow_body_ms: int = 0
    trickle_ms: int = 0
    chunked: bool = False
    slow_headers_ms: int = 0

    @property
    def has_failure(self) -> bool:
        """True when the request asks to fail (always, or for its first ``fail_times`` attempts)."""
        return self.status is not None or self.throttle or self.reset or self.fail_times is not None


def _int(query: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise FaultSpecError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise FaultSpecError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _flag(query: Mapping[str, str], name: str) -> bool:
    raw = query.get(name)
    if raw is None:
        return False
    if raw not in ("0", "1", "true", "false"):
        raise FaultSpecError(f"{name} must be 1 or 0, got {raw!r}")
    return raw in ("1", "true")


def parse_faults(query: Mapping[str, str]) -> Faults | None:
    """The faults in ``query``, or ``None`` when it has no ``mock_*`` parameter (the common, fast case)."""
    if not any(name.startswith("mock_") for name in query):
        return None
    body = query.get("mock_body")
    if body is not None and body not in BODY_MODES:
        raise FaultSpecError(f"mock_body must be one of {', '.join(BODY_MODES)}, got {body!r}")
    return Faults(
        status=_int(query, "mock_status", 100, 599),
        throttle=_flag(query, "mock_throttle"),
        reset=_flag(query, "mock_reset"),
        fail_times=_int(query, "mock_fail_times", 0, 1_000_000),
        key=query.get("mock_key"),
        body=body,
        huge_bytes=_int(query, "mock_huge_bytes", 0, MAX_HUGE_BYTES) or DEFAULT_HUGE_BYTES,
        delay_ms=_int(query, "mock_delay_ms", 0, MAX_WAIT_MS) or 0,
        slow_body_ms=_int(query, "mock_slow_body_ms", 0, MAX_WAIT_MS) or 0,
        trickle_ms=_int(query, "mock_trickle_ms", 0, MAX_WAIT_MS) or 0,
        chunked=_flag(query, "mock_chunked"),
        slow_headers_ms=_int(query, "mock_slow_headers_ms", 0, MAX_WAIT_MS) or 0,
    )


class FailureCounters:
    """How many requests each ``mock_key`` has seen, so that only the first ``n`` fail."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def should_fail(self, key: str, times: int) -> bool:
        """Count this request under ``key``; true while fewer than ``times`` came before it."""
        seen = self._seen.get(key, 0)
        self._seen[key] = seen + 1
        return seen < times

    def clear(self) -> None:
        """Forget every key."""
        self._seen.clear()


def transform_body(reply: Reply, mode: str, huge_bytes: int) -> Reply:
    """Replace or damage an encoded answer as ``mock_body`` asks; status and headers are kept."""
    if mode == "empty":
        return Reply(reply.status, b"", reply.content_type, reply.headers)
    if mode == "text":
        return Reply(reply.status, PLAIN_TEXT_BODY, "text/plain", reply.headers)
    if mode == "invalid":
        # Answers are JSON objects or arrays, so any strict prefix of them has an unclosed bracket.
        return Reply(
            reply.status, reply.body[: len(reply.body) // 2] or b"{", reply.content_type, reply.headers
        )
    padding = b'"mock_padding":"' + b"x" * huge_bytes + b'"'
    body = reply.body
    if body.startswith(b"{") and body != b"{}":
        huge = body[:-1] + b"," + padding + b"}"
    elif body == b"{}":
        huge = b"{" + padding + b"}"
    else:
        huge = b'{"response":' + (body or b"null") + b"," + padding + b"}"
    return Reply(reply.status, huge, reply.content_type, reply.headers)
