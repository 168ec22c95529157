"""Connection pools are closed once no deployed model sends through them (issue 12, item 4).

A standalone connector's pool used to stay for the life of the process after its last model was
undeployed and the connector deleted (+13.7 KB RSS per cycle), and a deleted model's predict counters
stayed too. The test counts those live objects (ConnectorClient, aiohttp sessions, ModelCounters) on
both nodes of a pair, not RSS.
"""

from __future__ import annotations

import gc
from typing import Any

import aiohttp
import httpx

from mlgate.bootstrap import Node
from mlgate.mockprovider import MockProvider
from mlgate.remote.client import ConnectorClient
from mlgate.services.stats import ModelCounters
from tests.api.fixtures import chat_connector
from tests.consistency.conftest import caught_up

ML = "/_plugins/_ml"
MESSAGES = {"parameters": {"messages": [{"role": "user", "content": "hi"}]}}
CYCLES = 12


def live_pools() -> int:
    """Pool objects still alive in this process (both nodes of the pair live here)."""
    gc.collect()
    return sum(isinstance(o, ConnectorClient | aiohttp.ClientSession) for o in gc.get_objects())


def live_model_counters() -> int:
    gc.collect()
    return sum(isinstance(o, ModelCounters) for o in gc.get_objects())


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _deploy_and_predict(
    pair: tuple[Node, Node], clients: tuple[httpx.AsyncClient, httpx.AsyncClient], model_id: str
) -> None:
    await _ok(await clients[0].post(f"{ML}/models/{model_id}/_deploy"))
    await caught_up(pair)
    for client in clients:
        await _ok(await client.post(f"{ML}/models/{model_id}/_predict", json=MESSAGES))


async def test_create_deploy_predict_undeploy_delete_cycles_keep_no_pool(
    pair: tuple[Node, Node], clients: tuple[httpx.AsyncClient, httpx.AsyncClient], provider: MockProvider
) -> None:
    a, b = clients
    before, counters_before = live_pools(), live_model_counters()
    for cycle in range(CYCLES):
        connector_id = (
            await _ok(await a.post(f"{ML}/connectors/_create", json=chat_connector(provider.url)))
        )["connector_id"]
        standalone = {"name": f"s{cycle}", "function_name": "remote", "connector_id": connector_id}
        inline = {"name": f"i{cycle}", "function_name": "remote", "connector": chat_connector(provider.url)}
        model_ids = [
            (await _ok(await b.post(f"{ML}/models/_register", json=body)))["model_id"]
            for body in (standalone, inline)
        ]
        for model_id in model_ids:
            await _deploy_and_predict(pair, clients, model_id)
        assert live_pools() > before
        for model_id in model_ids:
            await _ok(await b.post(f"{ML}/models/{model_id}/_undeploy"))
            await _ok(await a.delete(f"{ML}/models/{model_id}"))
        await _ok(await b.delete(f"{ML}/connectors/{connector_id}"))
        await caught_up(pair)
        assert live_pools() == before, f"cycle {cycle}: a pool outlived its last model"
        assert live_model_counters() == counters_before, f"cycle {cycle}: a deleted model's counters stayed"


async def test_a_pool_stays_while_another_deployed_model_uses_the_connector(
    pair: tuple[Node, Node], clients: tuple[httpx.AsyncClient, httpx.AsyncClient], provider: MockProvider
) -> None:
    a, _ = clients
    connector_id = (await _ok(await a.post(f"{ML}/connectors/_create", json=chat_connector(provider.url))))[
        "connector_id"
    ]
    body = {"function_name": "remote", "connector_id": connector_id}
    first, second = [
        (await _ok(await a.post(f"{ML}/models/_register", json={"name": name, **body})))["model_id"]
        for name in ("first", "second")
    ]
    before = live_pools()
    await _deploy_and_predict(pair, clients, first)
    await _deploy_and_predict(pair, clients, second)
    shared = live_pools()
    assert shared > before
    await _ok(await a.post(f"{ML}/models/{first}/_undeploy"))
    await caught_up(pair)
    assert live_pools() == shared  # the second model still sends through it
    await _ok(await a.post(f"{ML}/models/{second}/_undeploy"))
    await caught_up(pair)
    assert live_pools() == before
