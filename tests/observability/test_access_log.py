"""The access log: one line per request, JSON or text, with no secret in any encoding."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mlgate.bootstrap import Node, build_node
from mlgate.config import Config
from mlgate.domain.request_trace import RequestTrace
from mlgate.mockprovider import MockProvider
from mlgate.telemetry.logs import AccessLog, JsonFormatter
from tests.conftest import ADMIN_PASSWORD, LOOPBACK_TRUSTED, TEST_MASTER_KEY
from tests.engine.support import CHAT_KEY, MESSAGES, chat_connector, chat_path, deploy_model

ML = "/_plugins/_ml"


@pytest.fixture
def stream() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
async def logged(data_dir: Path, stream: io.StringIO) -> AsyncIterator[tuple[Node, httpx.AsyncClient]]:
    """A secure node whose access log goes to ``stream`` as JSON, and an admin client of it."""
    config = Config(
        data_dir=data_dir, master_key=TEST_MASTER_KEY, security=True, initial_admin_password=ADMIN_PASSWORD
    )
    node = await build_node(config, bcrypt_rounds=4, access_log=AccessLog(stream, "json"))
    await node.start()
    transport = httpx.ASGITransport(app=node.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://mlgate", auth=("admin", ADMIN_PASSWORD)
    ) as admin:
        settings = {
            "plugins.ml_commons.trusted_connector_endpoints_regex": [LOOPBACK_TRUSTED],
            "plugins.ml_commons.connector.private_ip_enabled": True,
        }
        assert (await admin.put("/_cluster/settings", json={"persistent": settings})).status_code == 200
        yield node, admin
    await node.stop()


def lines(node: Node, stream: io.StringIO) -> list[dict]:
    assert node.access_log is not None
    node.access_log.flush()
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_one_json_line_per_request_without_secrets(
    logged: tuple[Node, httpx.AsyncClient], stream: io.StringIO, provider: MockProvider
) -> None:
    node, admin = logged
    model_id = await deploy_model(admin, chat_connector(provider.url + chat_path()))
    before = len(lines(node, stream))
    answer = await admin.post(
        f"{ML}/models/{model_id}/_predict",
        json={"parameters": {"messages": MESSAGES}},
        headers={"X-Opaque-Id": "my-request-7"},
    )
    assert answer.status_code == 200
    usage = answer.json()["inference_results"][0]["output"][0]["dataAsMap"]["usage"]
    async with httpx.AsyncClient(
        transport=admin._transport, base_url="http://mlgate", auth=("admin", "Wrong-Password-1234")
    ) as wrong:
        assert (await wrong.get("/")).status_code == 401
    logged_lines = lines(node, stream)
    assert len(logged_lines) == before + 2
    predict_line, failed_login = logged_lines[-2:]
    assert predict_line["type"] == "access"
    assert predict_line["request_id"] == "my-request-7"
    assert predict_line["method"] == "POST"
    assert predict_line["path"] == f"{ML}/models/{model_id}/_predict"
    assert predict_line["route"] == f"{ML}/models/{{model_id}}/_predict"
    assert predict_line["status"] == 200
    assert predict_line["user"] == "admin"
    assert predict_line["client"] == "127.0.0.1"
    assert predict_line["model_id"] == model_id
    assert predict_line["attempts"] == 1 and predict_line["retries"] == []
    assert predict_line["input_tokens"] == usage["prompt_tokens"]
    assert predict_line["output_tokens"] == usage["completion_tokens"]
    assert 0 <= predict_line["overhead_ms"] <= predict_line["duration_ms"]
    assert predict_line["provider_ms"] > 0
    assert predict_line["ts"].endswith("Z")
    assert (failed_login["status"], failed_login["user"], failed_login["route"]) == (401, "", "/")
    assert failed_login["request_id"] and failed_login["request_id"] != "my-request-7"
    text = stream.getvalue()
    for secret in (CHAT_KEY, ADMIN_PASSWORD, "Wrong-Password-1234"):
        assert secret not in text
        assert base64.b64encode(f"admin:{secret}".encode()).decode() not in text


def test_text_lines_and_batched_writes() -> None:

    stream = io.StringIO()
    log = AccessLog(stream, "text", clock=lambda: 0.25)
    trace = RequestTrace(0)
    trace.request_id, trace.route, trace.user = log.request_id(None), "/", "alice"
    trace.finish(2_500_000)
    for _ in range(300):
        log.write(trace, "GET", "/", 200, "10.0.0.9")
    assert stream.getvalue() == ""  # buffered until flushed
    log.flush()
    written = stream.getvalue().splitlines()
    assert len(written) == 300
    assert written[0].startswith("1970-01-01T00:00:00.250Z INFO mlgate.access: GET / 200 request_id=")
    assert "route=/ user=alice client=10.0.0.9 duration_ms=2.5" in written[0]
    with pytest.raises(ValueError, match="text, json"):
        AccessLog(stream, "xml")


def test_json_formatter_for_every_log_record() -> None:
    record = logging.LogRecord("mlgate.api", logging.ERROR, __file__, 1, "failed %s", ("here",), None)
    out = json.loads(JsonFormatter().format(record))
    assert (out["level"], out["logger"], out["message"]) == ("error", "mlgate.api", "failed here")
