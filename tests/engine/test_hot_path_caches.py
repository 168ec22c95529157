"""What the predict path prepares once (egress verdicts, rendered headers, the client pool) follows every
change that affects it on the very next request: a stale view is a bug, not a speed-up."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
from aiohttp import web

from mlgate.mockprovider import MockProvider
from mlgate.remote.client_config import IMPLICIT_MAX_CONNECTION, ClientConfig
from tests.engine.support import (
    CHAT_KEY,
    MESSAGES,
    ML,
    chat_connector,
    chat_path,
    create_connector,
    deploy_model,
    predict,
    unique,
)

BODY = {"parameters": {"messages": MESSAGES}}


async def put_setting(client: httpx.AsyncClient, name: str, value: object) -> None:
    response = await client.put(
        "/_cluster/settings", json={"persistent": {f"plugins.ml_commons.{name}": value}}
    )
    assert response.status_code == 200, response.text


async def test_egress_settings_apply_to_the_next_predict(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    model_id = await deploy_model(loopback, chat_connector(f"{provider.url}{chat_path()}"))
    assert (await predict(loopback, model_id, BODY)).status_code == 200
    await put_setting(loopback, "connector.private_ip_enabled", False)
    refused = await predict(loopback, model_id, BODY)
    assert refused.status_code == 400, refused.text
    assert "private" in refused.json()["error"]["reason"].lower()
    await put_setting(loopback, "connector.private_ip_enabled", True)
    assert (await predict(loopback, model_id, BODY)).status_code == 200
    await put_setting(loopback, "trusted_connector_endpoints_regex", [r"^https://nowhere\.example/.*$"])
    assert (await predict(loopback, model_id, BODY)).status_code == 400


async def test_connector_update_changes_the_headers_of_the_next_predict(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    path = chat_path()
    connector_id = await create_connector(loopback, chat_connector(f"{provider.url}{path}"))
    registered = await loopback.post(
        f"{ML}/models/_register?deploy=true",
        json={"name": unique(), "function_name": "remote", "connector_id": connector_id},
    )
    model_id = registered.json()["model_id"]
    assert (await predict(loopback, model_id, BODY)).status_code == 200
    assert provider.requests(1, path)[0].headers["Authorization"] == f"Bearer {CHAT_KEY}"

    await loopback.post(f"{ML}/models/{model_id}/_undeploy")
    updated = await loopback.put(
        f"{ML}/connectors/{connector_id}", json={"credential": {"openAI_key": "sk-rotated-key-42"}}
    )
    assert updated.status_code == 200, updated.text
    assert (await loopback.post(f"{ML}/models/{model_id}/_deploy")).status_code == 200
    assert (await predict(loopback, model_id, BODY)).status_code == 200
    assert provider.requests(1, path)[0].headers["Authorization"] == "Bearer sk-rotated-key-42"


async def test_headers_with_request_parameters_are_rendered_per_request(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    path = chat_path()
    connector = chat_connector(f"{provider.url}{path}")
    connector["actions"][0]["headers"]["X-Tenant"] = "${parameters.tenant:-none}"
    model_id = await deploy_model(loopback, connector)
    assert (await predict(loopback, model_id, BODY)).status_code == 200
    assert provider.requests(1, path)[0].headers["X-Tenant"] == "none"
    body = {"parameters": {"messages": MESSAGES, "tenant": "blue"}}
    assert (await predict(loopback, model_id, body)).status_code == 200
    assert provider.requests(1, path)[0].headers["X-Tenant"] == "blue"


async def test_a_connector_without_client_config_keeps_every_request_in_flight(
    loopback: httpx.AsyncClient,
) -> None:
    # More concurrent predicts than ML Commons' default pool of 30: the provider holds each one until
    # all have arrived, which they only can when the pool does not cap them at 30.
    wanted = 40
    in_flight = most = 0
    everyone = asyncio.Event()

    async def answer(request: web.Request) -> web.Response:
        nonlocal in_flight, most
        await request.read()
        in_flight += 1
        most = max(most, in_flight)
        if in_flight >= wanted:
            everyone.set()
        with contextlib.suppress(TimeoutError):
            # A bound so that a regression fails instead of hanging; not a timing assertion.
            await asyncio.wait_for(everyone.wait(), 10)
        in_flight -= 1
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/v1/chat/completions"
        model_id = await deploy_model(loopback, chat_connector(url))
        responses = await asyncio.gather(*(predict(loopback, model_id, BODY) for _ in range(wanted)))
        assert [r.status_code for r in responses] == [200] * wanted
        assert most == wanted, f"only {most} requests were in flight at once"
    finally:
        await runner.cleanup()


async def test_get_shows_client_config_only_when_one_was_given(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    implicit = await deploy_model(loopback, chat_connector(f"{provider.url}{chat_path()}"))
    given = await deploy_model(
        loopback, chat_connector(f"{provider.url}{chat_path()}", client_config={"read_timeout": 20})
    )
    implicit_model = (await loopback.get(f"{ML}/models/{implicit}")).json()
    given_model = (await loopback.get(f"{ML}/models/{given}")).json()
    assert "client_config" not in implicit_model["connector"]
    # Given: ML Commons' defaults fill the rest (max_connection 30), and apply.
    assert given_model["connector"]["client_config"]["max_connection"] == 30
    assert ClientConfig.for_connector(None).max_connection == IMPLICIT_MAX_CONNECTION
    assert ClientConfig.for_connector({"read_timeout": 20}) == ClientConfig(read_timeout=20)
