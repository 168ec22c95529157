"""OTLP/HTTP trace export, received by a collector stand-in on loopback that decodes the protobuf export
requests; W3C traceparent from the caller to the provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from mlgate.bootstrap import Node, build_node
from mlgate.config import Config, config_from
from mlgate.mockprovider import MockProvider
from tests.conftest import LOOPBACK_TRUSTED, TEST_MASTER_KEY
from tests.engine.support import CHAT_KEY, MESSAGES, chat_connector, chat_path, deploy_model, predict

ML = "/_plugins/_ml"
CHAT = {"parameters": {"messages": MESSAGES}}
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"


@dataclass
class Collector:
    """An OTLP/HTTP endpoint: every export request it received, decoded."""

    url: str
    exports: list[ExportTraceServiceRequest] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)

    def spans(self) -> list[Span]:
        return [
            span
            for export in self.exports
            for resource in export.resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        ]

    def service_names(self) -> set[str]:
        return {
            attribute.value.string_value
            for export in self.exports
            for resource in export.resource_spans
            for attribute in resource.resource.attributes
            if attribute.key == "service.name"
        }


@pytest.fixture
async def collector() -> AsyncIterator[Collector]:
    received = Collector("")

    async def traces(request: web.Request) -> web.Response:
        assert request.content_type == "application/x-protobuf"
        body = await request.read()
        export = ExportTraceServiceRequest()
        export.ParseFromString(body)
        received.raw.append(body)
        received.exports.append(export)
        reply = ExportTraceServiceResponse().SerializeToString()
        return web.Response(body=reply, content_type="application/x-protobuf")

    app = web.Application()
    app.router.add_post("/v1/traces", traces)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    received.url = f"http://127.0.0.1:{port}"
    yield received
    await runner.cleanup()


def attributes(span: Span) -> dict[str, object]:
    out: dict[str, object] = {}
    for attribute in span.attributes:
        value = attribute.value
        out[attribute.key] = value.int_value if value.HasField("int_value") else value.string_value
    return out


async def traced_node(data_dir: Path, collector: Collector, monkeypatch: pytest.MonkeyPatch) -> Node:
    # The standard variables, as an operator sets them; the SDK reads them itself.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"{collector.url}/v1/traces")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "mlgate-under-test")
    config = config_from(
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{collector.url}/v1/traces"}, data_dir=str(data_dir)
    )
    assert config.tracing and not config.trace_content
    node = await build_node(
        Config(data_dir=data_dir, master_key=TEST_MASTER_KEY, security=False, tracing=True)
    )
    await node.start()
    return node


async def test_spans_reach_an_otlp_collector(
    data_dir: Path, collector: Collector, provider: MockProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = await traced_node(data_dir, collector, monkeypatch)
    try:
        transport = httpx.ASGITransport(app=node.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mlgate") as client:
            settings = {
                "plugins.ml_commons.trusted_connector_endpoints_regex": [LOOPBACK_TRUSTED],
                "plugins.ml_commons.connector.private_ip_enabled": True,
            }
            assert (await client.put("/_cluster/settings", json={"persistent": settings})).status_code == 200
            path = chat_path()
            model_id = await deploy_model(client, chat_connector(provider.url + path))
            answer = await client.post(
                f"{ML}/models/{model_id}/_predict", json=CHAT, headers={"traceparent": TRACEPARENT}
            )
            assert answer.status_code == 200
            usage = answer.json()["inference_results"][0]["output"][0]["dataAsMap"]["usage"]
            failing = await deploy_model(
                client, chat_connector(f"{provider.url}{chat_path()}?mock_status=500")
            )
            assert (await predict(client, failing, CHAT)).status_code == 500
    finally:
        await node.stop()  # exports what is still queued
    # The provider got a traceparent of the caller's trace, naming mlgate's client span.
    (sent,) = provider.requests(path=path)
    version, trace_id, parent_id, flags = sent.headers["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", CALLER_TRACE, "01")

    assert collector.service_names() == {"mlgate-under-test"}
    spans = collector.spans()
    by_id = {span.span_id.hex(): span for span in spans}
    client_span = by_id[parent_id]
    assert client_span.kind == Span.SPAN_KIND_CLIENT
    assert client_span.name == "chat gpt-4o-mini"
    assert client_span.trace_id.hex() == CALLER_TRACE
    assert attributes(client_span) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "mlgate.model_id": model_id,
        "http.response.status_code": 200,
        "gen_ai.usage.input_tokens": usage["prompt_tokens"],
        "gen_ai.usage.output_tokens": usage["completion_tokens"],
    }
    server_span = by_id[client_span.parent_span_id.hex()]
    assert server_span.kind == Span.SPAN_KIND_SERVER
    assert server_span.name == "POST /_plugins/_ml/models/{model_id}/_predict"
    assert server_span.parent_span_id.hex() == CALLER_SPAN
    assert attributes(server_span)["http.response.status_code"] == 200
    assert server_span.start_time_unix_nano <= client_span.start_time_unix_nano
    assert client_span.end_time_unix_nano <= server_span.end_time_unix_nano
    # The failed call: an error span with the provider's status as error.type.
    (failed,) = [s for s in spans if s.kind == Span.SPAN_KIND_CLIENT and attributes(s).get("error.type")]
    assert attributes(failed)["error.type"] == "500"
    assert failed.status.code == Status.STATUS_CODE_ERROR
    # Nothing of a message or a credential goes out without the opt-in.
    exported = b"".join(collector.raw)
    assert b"Hello engine" not in exported and CHAT_KEY.encode() not in exported


async def test_message_content_only_when_opted_in(
    data_dir: Path, collector: Collector, provider: MockProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"{collector.url}/v1/traces")
    config = Config(
        data_dir=data_dir, master_key=TEST_MASTER_KEY, security=False, tracing=True, trace_content=True
    )
    node = await build_node(config)
    await node.start()
    try:
        transport = httpx.ASGITransport(app=node.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mlgate") as client:
            settings = {
                "plugins.ml_commons.trusted_connector_endpoints_regex": [LOOPBACK_TRUSTED],
                "plugins.ml_commons.connector.private_ip_enabled": True,
            }
            assert (await client.put("/_cluster/settings", json={"persistent": settings})).status_code == 200
            model_id = await deploy_model(client, chat_connector(provider.url + chat_path()))
            assert (await predict(client, model_id, CHAT)).status_code == 200
    finally:
        await node.stop()
    (client_span,) = [s for s in collector.spans() if s.kind == Span.SPAN_KIND_CLIENT]
    shown = attributes(client_span)
    assert "Hello engine" in str(shown["gen_ai.input.messages"])
    assert "Mock response to: Hello engine" in str(shown["gen_ai.output.messages"])
    assert CHAT_KEY.encode() not in b"".join(collector.raw)


async def test_without_tracing_the_callers_traceparent_goes_on(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    path = chat_path()
    model_id = await deploy_model(loopback, chat_connector(provider.url + path))
    answer = await loopback.post(
        f"{ML}/models/{model_id}/_predict", json=CHAT, headers={"traceparent": TRACEPARENT}
    )
    assert answer.status_code == 200
    (sent,) = provider.requests(path=path)
    assert sent.headers["traceparent"] == TRACEPARENT


def test_tracing_follows_the_standard_variables() -> None:
    endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    assert config_from(endpoint).tracing
    assert not config_from({}).tracing
    assert not config_from({**endpoint, "OTEL_SDK_DISABLED": "true"}).tracing
    assert not config_from({**endpoint, "OTEL_TRACES_EXPORTER": "none"}).tracing
    opted = config_from({**endpoint, "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"})
    assert opted.trace_content
