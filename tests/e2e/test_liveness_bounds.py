"""Against ``mlgate serve`` (uvicorn, real sockets): a trickling provider holds one predict until its
deadline while the server keeps answering others; a body the memory budget cannot take is refused
before it is read."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mlgate.mockprovider import MockProvider
from tests.conftest import LOOPBACK_TRUSTED, TEST_MASTER_KEY
from tests.engine.support import chat_path
from tests.smoke.conftest import Process, free_port, start, stop

PASSWORD = "e2e-Copper-Meadow-Falcon-77"
AUTH = ("admin", PASSWORD)
# A deadline of 12 s: ample time for the health checks below, however busy the machine.
CLIENT_CONFIG = {"connection_timeout": 10, "read_timeout": 2}
DEADLINE = (
    "Error communicating with remote model: Request did not complete within 12 seconds "
    "(connection_timeout + read_timeout)"
)
BUDGET = 1024 * 1024


@pytest.fixture(scope="module")
def bounded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """``mlgate serve --max-in-flight-bytes 1mb`` on a free port."""
    port = free_port()
    folder = tmp_path_factory.mktemp("bounds")
    env = dict(
        os.environ,
        MLGATE_PORT=str(port),
        MLGATE_DATA_DIR=str(folder / "data"),
        MLGATE_MASTER_KEY=TEST_MASTER_KEY,
        MLGATE_INITIAL_ADMIN_PASSWORD=PASSWORD,
    )
    env.pop("MLGATE_SECURITY", None)
    args = ["serve", "--max-in-flight-bytes", "1mb"]
    process = start(args, f"http://127.0.0.1:{port}/", port, Path(folder / "serve.log"), env)
    yield process
    stop(process)


async def trickling_model(http: httpx.AsyncClient, url: str) -> str:
    settings = {
        "plugins.ml_commons.trusted_connector_endpoints_regex": [LOOPBACK_TRUSTED],
        "plugins.ml_commons.connector.private_ip_enabled": True,
    }
    assert (await http.put("/_cluster/settings", json={"persistent": settings})).status_code == 200
    connector = {
        "name": "trickle",
        "version": "1",
        "protocol": "http",
        "parameters": {},
        "credential": {"key": "sk-liveness-0123456789"},
        "client_config": CLIENT_CONFIG,
        "actions": [
            {
                "action_type": "predict",
                "method": "POST",
                "url": url,
                "headers": {"Authorization": "Bearer ${credential.key}"},
                "request_body": '{ "messages": [{"role": "user", "content": "${parameters.input}"}] }',
            }
        ],
    }
    body = {"name": "trickle", "function_name": "remote", "connector": connector}
    response = await http.post("/_plugins/_ml/models/_register?deploy=true", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["model_id"])


async def test_health_answers_while_a_trickling_provider_holds_a_predict(
    bounded_server: Process, provider: MockProvider
) -> None:
    path = chat_path()
    async with httpx.AsyncClient(base_url=bounded_server.url, auth=AUTH, timeout=120) as http:
        model_id = await trickling_model(http, f"{provider.url}{path}?mock_trickle_ms=200&mock_chunked=1")
        held = asyncio.ensure_future(
            http.post(f"/_plugins/_ml/models/{model_id}/_predict", json={"parameters": {"input": "hi"}})
        )
        for _ in range(600):  # the provider has the call: it is trickling its answer now (bounded: 30 s)
            if provider.requests(path=path):
                break
            await asyncio.sleep(0.05)
        assert provider.requests(path=path), "the predict never reached the provider"
        async with httpx.AsyncClient(base_url=bounded_server.url, auth=AUTH, timeout=30) as other:
            health = await other.get("/_cluster/health")
        assert health.status_code == 200 and health.json()["status"] in ("green", "yellow")
        assert not held.done()  # answered while the hostile call was still running
        response = await held
    assert response.status_code == 500, response.text
    assert response.json()["error"]["reason"] == DEADLINE


async def test_a_body_the_budget_cannot_take_is_refused_unread(bounded_server: Process) -> None:
    body = b'{"query": {"match_all": {}}, "pad": "' + b"x" * (2 * BUDGET) + b'"}'
    async with httpx.AsyncClient(base_url=bounded_server.url, auth=AUTH, timeout=60) as http:
        response = await http.post(
            "/_plugins/_ml/connectors/_search", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 429, response.text
        error = response.json()["error"]
        assert error["type"] == "circuit_breaking_exception"
        assert error["bytes_wanted"] == len(body) and error["bytes_limit"] == BUDGET
        assert (await http.get("/_cluster/health")).status_code == 200
