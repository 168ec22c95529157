"""Log formats and the access log: one line per request, text or JSON (``--log-format``).

The access log is the hot path's: a line is formatted (orjson for JSON) and kept in a buffer that is
written out every half second, when it grows past 64 KiB, and at stop — one write per batch instead
of the logging machinery per request. Writes are cut at line ends and stay under the pipe's atomic
size, so the lines of several workers sharing stderr never interleave. A line holds the request's
method, path and route, status, user, client address, timings, retries and tokens: never a header
value, a query string or a body, so no credential can reach it.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import IO, Any

import orjson

from mlgate.domain.request_trace import RequestTrace

FORMATS = ("text", "json")
_ATOMIC_WRITE = 4096  # PIPE_BUF on Linux
_FLUSH_BYTES = 65536
_MAX_ID = 128


def _timestamp(now: float) -> str:
    # ISO 8601 UTC with milliseconds, as log shippers parse it.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


class JsonFormatter(logging.Formatter):
    """Every log record as one JSON object per line: ``ts``, ``level``, ``logger``, ``message``."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON (with ``exception`` when it carries a traceback)."""
        out: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(out).decode()


def configure_logging(level: str, log_format: str, stream: IO[str]) -> None:
    """The process's logging: ``text`` (``time LEVEL logger: message``) or ``json`` lines."""
    handler = logging.StreamHandler(stream)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


class AccessLog:
    """Buffered access-log lines for one process."""

    def __init__(
        self, stream: IO[str], log_format: str = "json", clock: Callable[[], float] = time.time
    ) -> None:
        if log_format not in FORMATS:
            raise ValueError(f"log format must be one of {', '.join(FORMATS)}")
        self._stream = stream
        self._json = log_format == "json"
        self._clock = clock
        self._lines: list[str] = []
        self._size = 0
        # Request ids: this process's random prefix and a sequence number (no syscall per request).
        self._prefix = secrets.token_hex(4)
        self._sequence = 0
        # The formatted second of the last line (formatting a time costs more than a whole line).
        self._second = -1
        self._stamp = ""

    def request_id(self, given: str | None) -> str:
        """The caller's ``X-Opaque-Id`` (cut to 128 characters), or a new id."""
        if given:
            return given[:_MAX_ID]
        self._sequence += 1
        return f"{self._prefix}-{self._sequence:x}"

    def write(self, trace: RequestTrace, method: str, path: str, status: int, client: str) -> None:
        """Log one answered request."""
        now = self._clock()
        second = int(now)
        if second != self._second:
            self._second, self._stamp = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        fields: dict[str, Any] = {
            "ts": f"{self._stamp}.{int((now - second) * 1000):03d}Z",
            "type": "access",
            "request_id": trace.request_id,
            "method": method,
            "path": path,
            "route": trace.route,
            "status": status,
            "user": trace.user,
            "client": client,
            "duration_ms": trace.total_ns // 1000 / 1000,
        }
        if trace.predict:
            fields["model_id"] = trace.model_id
            fields["overhead_ms"] = trace.overhead_ns // 1000 / 1000
            fields["provider_ms"] = trace.provider_ns // 1000 / 1000
            fields["attempts"] = trace.attempts
            fields["retries"] = [reason for reason, _ in trace.retries or ()]
            fields["input_tokens"] = trace.input_tokens
            fields["output_tokens"] = trace.output_tokens
        if trace.trace_id:
            fields["trace_id"] = trace.trace_id
        line = orjson.dumps(fields).decode() if self._json else _text(fields)
        self._lines.append(line + "\n")
        self._size += len(line) + 1
        if self._size >= _FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write the buffered lines out."""
        if not self._lines:
            return
        lines, self._lines, self._size = self._lines, [], 0
        chunk: list[str] = []
        size = 0
        for line in lines:
            if chunk and size + len(line) > _ATOMIC_WRITE:
                self._stream.write("".join(chunk))
                chunk, size = [], 0
            chunk.append(line)
            size += len(line)
        self._stream.write("".join(chunk))
        self._stream.flush()


def _text(fields: dict[str, Any]) -> str:
    ts = fields.pop("ts")
    head = f"{ts} INFO mlgate.access: {fields.pop('method')} {fields.pop('path')} {fields.pop('status')}"
    fields.pop("type")
    rest = " ".join(f"{k}={v}" for k, v in fields.items() if v not in ("", None, []))
    return f"{head} {rest}"
