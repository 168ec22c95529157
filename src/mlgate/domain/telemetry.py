"""The Telemetry port: how services and the remote edge report metrics and spans, and the metric catalogue.

Services and ``remote`` speak only to this protocol; the implementation (Prometheus exposition,
OpenTelemetry export) lives in ``mlgate.telemetry`` and is chosen in bootstrap. Hot paths pre-bind a
metric's label values once (:meth:`Telemetry.counter`, :meth:`Telemetry.histogram`) and then pay for a
method call per event; :meth:`Telemetry.count` / :meth:`Telemetry.observe` look the child up each time
and serve rare events (retries, refusals). Labels stay low-cardinality: ids, provider names, states,
status classes — never request text. See docs/observability.md for every metric.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from mlgate.domain.egress import EgressVerdict
from mlgate.domain.errors import (
    InvalidRequestError,
    MlgateError,
    RateLimitedError,
    RemoteError,
    RemoteTimeoutError,
)
from mlgate.domain.guardrails import INPUT_TRIGGERED, OUTPUT_TRIGGERED
from mlgate.domain.rate_limit import THROTTLED_AT_USER_LEVEL

COUNTER = "counter"
HISTOGRAM = "histogram"
GAUGE = "gauge"


@dataclass(frozen=True)
class Metric:
    """One metric family: Prometheus name (without ``_total``), help, kind, label names, buckets."""

    name: str
    help: str
    kind: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()


class Counter(Protocol):
    """A counter bound to its label values."""

    def inc(self, amount: float = 1.0) -> None:
        """Add ``amount`` (≥ 0)."""


class Histogram(Protocol):
    """A histogram bound to its label values."""

    def observe(self, value: float) -> None:
        """Record one observation."""


class Span(Protocol):
    """A span in progress (a no-op object when tracing is off)."""

    def set_attribute(self, key: str, value: str | int | float | bool) -> None:
        """Attach an attribute."""

    def traceparent(self) -> str | None:
        """The W3C ``traceparent`` naming this span, to send downstream; None when not recording."""

    def end(self, error_type: str | None = None) -> None:
        """Finish the span, as failed with ``error_type`` when given."""


@dataclass(frozen=True)
class Reading:
    """A gauge value read when metrics are collected (pool usage, models by state…)."""

    metric: Metric
    labels: tuple[str, ...]
    value: float


class Telemetry(Protocol):
    """The port: count, observe, span."""

    def counter(self, metric: Metric, *labels: str) -> Counter:
        """The child of ``metric`` for ``labels`` (created once; keep it)."""

    def histogram(self, metric: Metric, *labels: str) -> Histogram:
        """The child of ``metric`` for ``labels`` (created once; keep it)."""

    def count(self, metric: Metric, *labels: str, amount: float = 1.0) -> None:
        """Add to a counter (looks the child up: for rare events)."""

    def observe(self, metric: Metric, value: float, *labels: str) -> None:
        """Record into a histogram (looks the child up: for rare events)."""

    def span(
        self,
        name: str,
        *,
        kind: str,
        attributes: Mapping[str, str | int | float | bool],
        parent: str | None = None,
        start_ns: int | None = None,
    ) -> Span:
        """Start a span (``kind`` "server" or "client"); ``parent`` is a W3C traceparent to continue."""

    @property
    def tracing(self) -> bool:
        """Whether spans are recorded and exported (callers skip building attributes otherwise)."""

    @property
    def content_type(self) -> bytes:
        """The media type of :meth:`exposition`."""

    def exposition(self, readings: Iterable[Reading] = ()) -> bytes:
        """Every metric, with ``readings`` (gauges read at collection time) added."""


# --- the catalogue ----------------------------------------------------------------------------------

# ML Commons' tags of a remote model (ml-commons: common/.../MLModel.java, getRemoteModelTags), plus the id.
MODEL_TAGS = ("model_id", "deployment", "service_provider", "algorithm", "model", "type")
# OpenTelemetry GenAI semantic conventions, attribute names as Prometheus labels.
GENAI_LABELS = ("gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model")
# The buckets the GenAI conventions advise for gen_ai.client.operation.duration and token usage.
GENAI_DURATION_BUCKETS = (
    0.01,
    0.02,
    0.04,
    0.08,
    0.16,
    0.32,
    0.64,
    1.28,
    2.56,
    5.12,
    10.24,
    20.48,
    40.96,
    81.92,
)
GENAI_TOKEN_BUCKETS = (
    1.0,
    4.0,
    16.0,
    64.0,
    256.0,
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262144.0,
    1048576.0,
    4194304.0,
    16777216.0,
    67108864.0,
)
_MS_BUCKETS = (1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0)
_OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
_PROVIDER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

PREDICT_COUNT = Metric(
    "ml_commons_model_predict_count", "Total number of predict calls made (ML Commons)", COUNTER, MODEL_TAGS
)
PREDICT_LATENCY = Metric(
    "ml_commons_model_predict_latency_milliseconds",
    "Latency for model predict (ML Commons), milliseconds",
    HISTOGRAM,
    MODEL_TAGS,
    _MS_BUCKETS,
)
GENAI_DURATION = Metric(
    "gen_ai_client_operation_duration_seconds",
    "GenAI operation duration (OpenTelemetry gen_ai.client.operation.duration)",
    HISTOGRAM,
    (*GENAI_LABELS, "error_type"),
    GENAI_DURATION_BUCKETS,
)
GENAI_TOKENS = Metric(
    "gen_ai_client_token_usage",
    "Tokens used per operation (OpenTelemetry gen_ai.client.token.usage)",
    HISTOGRAM,
    (*GENAI_LABELS, "gen_ai_token_type"),
    GENAI_TOKEN_BUCKETS,
)
OVERHEAD = Metric(
    "mlgate_predict_overhead_seconds",
    "Time mlgate adds to a predict: total minus connect, provider first byte and body, and retry waits",
    HISTOGRAM,
    ("model_id",),
    _OVERHEAD_BUCKETS,
)
PROVIDER_LATENCY = Metric(
    "mlgate_provider_latency_seconds",
    "The model call alone: provider first byte and body, every attempt of a predict",
    HISTOGRAM,
    ("model_id", "provider", "status_class"),
    _PROVIDER_BUCKETS,
)
RETRIES = Metric(
    "mlgate_provider_retries", "Provider calls retried, by reason", COUNTER, ("model_id", "reason")
)
THROTTLED = Metric(
    "mlgate_throttled_requests",
    "Predicts refused by a rate limiter (model: the model's; user: the model controller's)",
    COUNTER,
    ("model_id", "level"),
)
EGRESS_REFUSALS = Metric(
    "mlgate_egress_refusals", "Provider calls refused by the egress rules", COUNTER, ("reason",)
)
GUARDRAIL_REFUSALS = Metric(
    "mlgate_guardrail_refusals", "Predicts stopped by a guardrail", COUNTER, ("model_id", "stage")
)
TOKENS = Metric(
    "mlgate_tokens",
    "Tokens the providers reported, per model and user",
    COUNTER,
    ("model_id", "user", "type"),
)
SPEND = Metric(
    "mlgate_spend",
    "Spend from the price table, per model and user (in the table's currency)",
    COUNTER,
    ("model_id", "user", "currency"),
)
LOGIN_FAILURES = Metric("mlgate_login_failures", "Failed logins (wrong or malformed credentials)", COUNTER)
LOGIN_LOCKOUTS = Metric(
    "mlgate_login_lockouts",
    "Logins refused while the user and address (or the address) are throttled",
    COUNTER,
)
POOL_IN_USE = Metric(
    "mlgate_pool_connections_in_use", "Outbound connections in use, per connector pool", GAUGE, ("connector",)
)
POOL_WAITING = Metric(
    "mlgate_pool_requests_waiting",
    "Provider calls waiting for a pooled connection, per connector pool",
    GAUGE,
    ("connector",),
)
POOL_MAX = Metric(
    "mlgate_pool_connections_max", "The pool's max_connection, per connector pool", GAUGE, ("connector",)
)
TASKS = Metric("mlgate_tasks", "ML tasks in the cluster, by type and state", GAUGE, ("type", "state"))
MODELS = Metric("mlgate_models", "Models in the cluster, by state", GAUGE, ("state",))
BUILD_INFO = Metric("mlgate_build_info", "mlgate build information", GAUGE, ("version", "python_version"))


def status_class(status: int) -> str:
    """``2xx``…``5xx`` (``error`` when no HTTP status came back)."""
    return f"{status // 100}xx" if 100 <= status < 600 else "error"


def egress_refusal_kind(verdict: EgressVerdict) -> str:
    """A refused egress verdict as a label: ``endpoint`` (URL not trusted or invalid),
    ``private_address`` or ``address`` (restricted, or no address)."""
    if verdict.destination is None:
        return "endpoint"
    return "private_address" if verdict.private else "address"


def error_type(error: BaseException) -> str:
    """OpenTelemetry's ``error.type`` of a failed call: ``timeout``, the provider's status code, or the
    OpenSearch error type."""
    if isinstance(error, RemoteTimeoutError):
        return "timeout"
    if isinstance(error, RemoteError):
        return str(error.status)
    if isinstance(error, MlgateError):
        return error.error_type
    return "_OTHER"


def refusal(error: BaseException) -> tuple[Metric, str] | None:
    """The refusal counter (and its ``level``/``stage`` label) a predict failure counts in, if any."""
    if isinstance(error, RateLimitedError):
        return THROTTLED, "user" if error.message == THROTTLED_AT_USER_LEVEL else "model"
    if isinstance(error, InvalidRequestError):
        if error.message == INPUT_TRIGGERED:
            return GUARDRAIL_REFUSALS, "input"
        if error.message == OUTPUT_TRIGGERED:
            return GUARDRAIL_REFUSALS, "output"
    return None
