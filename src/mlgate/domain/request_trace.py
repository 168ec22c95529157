"""Per-request stage timings: collected once per request, they feed ``Server-Timing``, the metrics, the
access log and ``?trace=true`` (docs/observability.md).

Stages are monotonic nanoseconds added up by the code that runs them (``perf_counter_ns`` deltas): the
API edge times authentication and the access check, the executor pre-processing, rendering, signing,
guardrails and post-processing, the client the pool wait, the connect, the provider's first byte and
body. A predict whose documents go out as several calls in parallel adds the calls' stages up.
"""

from __future__ import annotations

from collections.abc import Mapping
from time import perf_counter_ns
from typing import Any

from mlgate.domain.telemetry import Span, Telemetry

# Server-Timing names, in the order they are reported, and the slot each one reads.
STAGES = (
    ("auth", "auth"),
    ("access", "access"),
    ("pre", "pre"),
    ("render", "render"),
    ("sign", "sign"),
    ("guardrail", "guard"),
    ("pool", "pool"),
    ("connect", "connect"),
    ("ttfb", "ttfb"),
    ("body", "body"),
    ("post", "post"),
)

_SERVER_TIMING = ", ".join(
    f"{name};dur=%d.%03d" for name in (*(name for name, _ in STAGES), "overhead", "total")
)


class RequestTrace:
    """The timeline of one request; the API edge creates it, the predict path fills it in."""

    __slots__ = (
        "access",
        "attempts",
        "auth",
        "backoff",
        "body",
        "capture",
        "client",
        "connect",
        "content",
        "end",
        "genai",
        "guard",
        "input_tokens",
        "model_id",
        "output_tokens",
        "pool",
        "post",
        "pre",
        "predict",
        "provider_status",
        "render",
        "request_id",
        "requests",
        "retries",
        "route",
        "sign",
        "span",
        "start",
        "traceparent",
        "tracer",
        "ttfb",
        "user",
    )

    def __init__(self, start: int | None = None) -> None:
        self.start = perf_counter_ns() if start is None else start
        self.end = 0
        self.auth = self.access = self.pre = self.render = self.sign = self.guard = 0
        self.pool = self.connect = self.ttfb = self.body = self.post = self.backoff = 0
        self.attempts = 0
        self.provider_status = 0
        # Set by predict: Server-Timing is sent for predicts only.
        self.predict = False
        self.model_id = ""
        self.user = ""
        self.input_tokens = 0
        self.output_tokens = 0
        # (reason, backoff ns) per retry; None until the first one (most requests never retry).
        self.retries: list[tuple[str, int]] | None = None
        # ?trace=true: the rendered requests (the executor's RenderedRequest objects) are kept.
        self.capture = False
        self.requests: list[Any] | None = None
        # The W3C traceparent the caller sent (continued by the server span); the trace's id once a
        # span records it (for the access log).
        self.traceparent: str | None = None
        # Tracing on: the server span, the port to start client spans with, the GenAI span name and
        # attributes of the model, and whether message content goes on spans.
        self.span: Span | None = None
        self.tracer: Telemetry | None = None
        self.genai: tuple[str, Mapping[str, str | int]] | None = None
        self.content = False
        # For the access log: the request's id and the route template it matched.
        self.request_id = ""
        self.route = ""
        self.client = ""

    @property
    def trace_id(self) -> str:
        """The W3C trace id of the request ("" when none): from its traceparent."""
        parts = self.traceparent.split("-") if self.traceparent else ()
        return parts[1] if len(parts) == 4 else ""

    def sent(self, sent_ns: int, headers_ns: int, done_ns: int, connect_ns: int, pool_was_full: bool) -> None:
        """One send to the provider: started at ``sent_ns``; ``connect_ns`` of it went to getting a
        connection (a pool wait when the pool was full, else a connect or the reuse of an idle
        keep-alive connection); headers at ``headers_ns`` (0: none came), done at ``done_ns``."""
        if pool_was_full:
            self.pool += connect_ns
        else:
            self.connect += connect_ns
        if headers_ns:
            self.ttfb += max(0, headers_ns - sent_ns - connect_ns)
            self.body += done_ns - headers_ns
        else:
            self.ttfb += max(0, done_ns - sent_ns - connect_ns)

    def retried(self, reason: str, backoff_ns: int) -> None:
        """A provider call is retried for ``reason`` after waiting ``backoff_ns``."""
        if self.retries is None:
            self.retries = []
        self.retries.append((reason, backoff_ns))
        self.backoff += backoff_ns

    def usage(self, input_tokens: int, output_tokens: int) -> None:
        """Tokens one provider reply reported."""
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens

    @property
    def provider_ns(self) -> int:
        """Time spent waiting on the provider: first bytes and bodies of every attempt."""
        return self.ttfb + self.body

    @property
    def call_ns(self) -> int:
        """The model call as a GenAI client sees it: connections, provider replies and retry waits."""
        return self.pool + self.connect + self.ttfb + self.body + self.backoff

    def finish(self, end: int | None = None) -> int:
        """Stop the clock (once); the total in nanoseconds."""
        if not self.end:
            self.end = perf_counter_ns() if end is None else end
        return self.end - self.start

    @property
    def total_ns(self) -> int:
        """Start to finish (to now while running)."""
        return (self.end or perf_counter_ns()) - self.start

    @property
    def overhead_ns(self) -> int:
        """What mlgate adds: the total minus connect, the provider's time and retry waits."""
        return max(0, self.total_ns - self.connect - self.ttfb - self.body - self.backoff)

    def server_timing(self) -> bytes:
        """The ``Server-Timing`` header value in milliseconds: every stage (0 when it did not run), each
        retry with its reason, the overhead and the total."""
        args: list[int] = []
        for ns in (
            self.auth,
            self.access,
            self.pre,
            self.render,
            self.sign,
            self.guard,
            self.pool,
            self.connect,
            self.ttfb,
            self.body,
            self.post,
            self.overhead_ns,
            self.total_ns,
        ):
            # Whole microseconds, rounded up so that a stage that ran never shows 0; two integers per
            # stage into one constant template cost far less than formatting floats.
            milliseconds, micros = divmod((ns + 999) // 1000, 1000)
            args.append(milliseconds)
            args.append(micros)
        header = _SERVER_TIMING % tuple(args)
        for reason, ns in self.retries or ():
            milliseconds, micros = divmod((ns + 999) // 1000, 1000)
            header += f', retry;dur={milliseconds}.{micros:03d};desc="{reason}"'
        return header.encode("latin-1")

    def timeline(self) -> dict[str, Any]:
        """The same timings as JSON (milliseconds), for ``?trace=true``."""
        out: dict[str, Any] = {
            name: round(getattr(self, slot) / 1e6, 3) for name, slot in STAGES if getattr(self, slot)
        }
        out["retries"] = [{"reason": r, "backoff_ms": round(ns / 1e6, 3)} for r, ns in self.retries or ()]
        out["attempts"] = self.attempts
        out["overhead"] = round(self.overhead_ns / 1e6, 3)
        out["total"] = round(self.total_ns / 1e6, 3)
        return out
