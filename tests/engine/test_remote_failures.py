"""Remote failures through a real predict: each yields ML Commons' status and reason, no secret.

ml-commons: MLSdkAsyncHttpResponseHandler.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from mlgate.mockprovider import MockProvider
from tests.conftest import assert_error
from tests.engine.support import (
    CHAT_KEY,
    MESSAGES,
    chat_connector,
    chat_path,
    deploy_model,
    predict,
    unique,
)

BODY = {"parameters": {"messages": MESSAGES}}
COMMUNICATION = "Error communicating with remote model: "
REMOTE = "Error from remote service: "


async def failing_model(client: httpx.AsyncClient, url: str, client_config: dict | None = None) -> str:
    connector = chat_connector(url)
    if client_config is not None:
        connector["client_config"] = client_config
    return await deploy_model(client, connector)


async def call(
    client: httpx.AsyncClient, provider: MockProvider, query: str, **config: int
) -> httpx.Response:
    model_id = await failing_model(client, f"{provider.url}{chat_path()}?{query}", config or None)
    return await predict(client, model_id, BODY)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500, 502, 503])
async def test_provider_error_status_is_kept(
    loopback: httpx.AsyncClient, provider: MockProvider, status: int
) -> None:
    body = assert_error(await call(loopback, provider, f"mock_status={status}"), status, "status_exception")
    reason = body["error"]["reason"]
    assert reason.startswith(REMOTE + "{") and '"error"' in reason


async def test_provider_error_with_empty_body(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    assert_error(
        await call(loopback, provider, "mock_status=500&mock_body=empty"),
        500,
        "status_exception",
        "Remote service returned error status 500 with empty body",
    )


async def test_aws_throttling(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    assert_error(
        await call(loopback, provider, "mock_throttle=1"),
        400,
        "status_exception",
        REMOTE + "The request was denied due to remote server throttling. "
        "To change the retry policy and behavior, please update the connector client_config.",
    )


async def test_empty_success_body_is_502(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    assert_error(
        await call(loopback, provider, "mock_body=empty"),
        502,
        "status_exception",
        "Remote service returned empty response body",
    )


@pytest.mark.parametrize("mode", ["text", "invalid"])
async def test_non_json_success_body(loopback: httpx.AsyncClient, provider: MockProvider, mode: str) -> None:
    body = assert_error(
        await call(loopback, provider, f"mock_body={mode}"), 400, "illegal_argument_exception"
    )
    assert body["error"]["reason"].startswith("Invalid JSON format: ")


async def test_oversize_body(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    settings = {"persistent": {"plugins.ml_commons.max_json_size": 4096}}
    assert (await loopback.put("/_cluster/settings", json=settings)).status_code == 200
    assert_error(
        await call(loopback, provider, "mock_body=huge&mock_huge_bytes=20000"),
        400,
        "illegal_argument_exception",
        "JSON string size exceeds maximum allowed size (4096 bytes)",
    )


async def test_read_timeout(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    # The provider holds its headers back longer than read_timeout (1 s, the smallest non-zero value).
    response = await call(loopback, provider, "mock_delay_ms=20000", read_timeout=1)
    assert_error(response, 500, "status_exception", COMMUNICATION + "Read timed out after 1 seconds")


async def test_slow_body_times_out_after_the_headers(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    # Headers come at once, then one body chunk every 3 s: the second read outlasts read_timeout.
    response = await call(loopback, provider, "mock_slow_body_ms=30000", read_timeout=1)
    body = assert_error(response, 500, "status_exception")
    assert body["error"]["reason"] == COMMUNICATION + "Read timed out after 1 seconds"


async def test_connection_reset(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    body = assert_error(await call(loopback, provider, "mock_reset=1"), 500, "status_exception")
    assert body["error"]["reason"].startswith(COMMUNICATION)


async def test_connection_refused(loopback: httpx.AsyncClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    model_id = await failing_model(loopback, f"http://127.0.0.1:{port}/v1/chat/completions")
    body = assert_error(await predict(loopback, model_id, BODY), 500, "status_exception")
    reason = body["error"]["reason"]
    assert reason.startswith(COMMUNICATION) and f"127.0.0.1:{port}" in reason


@pytest.fixture
async def echo_server() -> AsyncIterator[str]:
    """A provider that answers 401 quoting the Authorization header it got, as some real ones do."""

    async def handle(request: web.Request) -> web.Response:
        quoted = request.headers.get("Authorization", "")
        return web.json_response({"error": f"Incorrect API key provided: {quoted}"}, status=401)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_secret_echoed_by_provider_is_masked(loopback: httpx.AsyncClient, echo_server: str) -> None:
    model_id = await failing_model(loopback, f"{echo_server}/{unique()}")
    response = await predict(loopback, model_id, BODY)
    body = assert_error(response, 401, "status_exception")
    assert CHAT_KEY not in response.text
    assert body["error"]["reason"] == REMOTE + '{"error": "Incorrect API key provided: Bearer *****"}'
