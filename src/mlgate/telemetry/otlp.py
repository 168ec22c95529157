"""Trace export over OTLP/HTTP with the OpenTelemetry SDK: off unless the standard variables ask for it.

``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_ENDPOINT`` turns it on (and
``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none`` keeps it off: see mlgate.config); the SDK
reads every other
``OTEL_*`` variable itself (headers, timeout, compression, certificates, ``OTEL_SERVICE_NAME``,
``OTEL_RESOURCE_ATTRIBUTES``, batch sizes). Spans are batched and exported from the SDK's own thread.
The tracer provider is this object's, never the process-global one.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span as OtelSpan
from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from mlgate import __version__
from mlgate.domain.telemetry import Span

_KINDS = {"server": SpanKind.SERVER, "client": SpanKind.CLIENT}
_PROPAGATOR = TraceContextTextMapPropagator()


class _Span:
    """An SDK span behind the port's Span."""

    __slots__ = ("_span",)

    def __init__(self, span: OtelSpan) -> None:
        self._span = span

    def set_attribute(self, key: str, value: str | int | float | bool) -> None:
        self._span.set_attribute(key, value)

    def traceparent(self) -> str | None:
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier, context=set_span_in_context(self._span))
        return carrier.get("traceparent")

    def end(self, error_type: str | None = None) -> None:
        if error_type is not None:
            self._span.set_attribute("error.type", error_type)
            self._span.set_status(Status(StatusCode.ERROR))
        self._span.end()


class OtlpTracer:
    """Spans exported over OTLP/HTTP, configured by the ``OTEL_*`` environment."""

    def __init__(self) -> None:
        resource = Resource.create({"service.version": __version__})
        if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
            # No OTEL_SERVICE_NAME (nor service.name in OTEL_RESOURCE_ATTRIBUTES): name it.
            resource = resource.merge(Resource({"service.name": "mlgate"}))
        self._provider = TracerProvider(resource=resource)
        self._provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        self._tracer = self._provider.get_tracer("mlgate", __version__)

    def span(
        self,
        name: str,
        *,
        kind: str,
        attributes: Mapping[str, str | int | float | bool],
        parent: str | None,
        start_ns: int | None,
    ) -> Span:
        """Start a span, a child of the W3C ``parent`` when one is given (and valid)."""
        context = _PROPAGATOR.extract({"traceparent": parent}) if parent else None
        span = self._tracer.start_span(
            name, context=context, kind=_KINDS[kind], attributes=dict(attributes), start_time=start_ns
        )
        return _Span(span)

    def close(self) -> None:
        """Export the spans still queued, then stop the exporter (blocks: call off the event loop)."""
        self._provider.shutdown()
