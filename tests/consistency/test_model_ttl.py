"""Model TTL (issue 12, item 12): a model unused for ``deploy_setting.model_ttl_minutes`` on every node
serving it is undeployed, as ML Commons' MLSyncUpCron does (its IT: TTL 1, predict, 71 s later the
profile is empty). Time is a manual clock shared by the two nodes; nothing waits for real."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlgate.bootstrap import Node
from mlgate.domain import model as model_domain
from mlgate.domain.node import NodeInfo
from mlgate.mockprovider import MockProvider
from mlgate.services.cluster import NodeRegistry
from mlgate.services.environment import Environment
from mlgate.storage.sqlite import SqliteStore
from tests.api.fixtures import chat_connector
from tests.conftest import LOOPBACK_TRUSTED, ManualClock
from tests.consistency.conftest import caught_up, start_nodes

ML = "/_plugins/_ml"
MESSAGES = {"parameters": {"messages": [{"role": "user", "content": "hi"}]}}
Pair = tuple[Node, Node]


@pytest.fixture
async def ttl_pair(store_url: str | None, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Pair]:
    """Two nodes on the manual clock; heartbeats never expire (the clock jumps by minutes)."""
    nodes = await start_nodes(
        store_url, tmp_path, now_ms=lambda: int(clock.now * 1000), heartbeat_expiry_ms=10**12
    )
    yield nodes[0], nodes[1]
    for node in nodes:
        await node.stop()


def _client(node: Node) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=node.app), base_url="http://mlgate")


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _settle(pair: Pair) -> None:
    """Both nodes heartbeat (serving models, last use) and apply every published change."""
    for node in pair:
        await node.services.nodes.beat()
    for node in pair:
        await node.services.nodes.refresh()
    await caught_up(pair)


async def _deployed_model(pair: Pair, provider: MockProvider, **deploy_setting: Any) -> str:
    await _settle(pair)  # each node knows the other: the deploy plans both
    async with _client(pair[0]) as a:
        settings = {
            "plugins.ml_commons.trusted_connector_endpoints_regex": [LOOPBACK_TRUSTED],
            "plugins.ml_commons.connector.private_ip_enabled": True,
        }
        await _ok(await a.put("/_cluster/settings", json={"persistent": settings}))
        body: dict[str, Any] = {
            "name": "ttl",
            "function_name": "remote",
            "connector": chat_connector(provider.url),
        }
        if deploy_setting:
            body["deploy_setting"] = deploy_setting
        model_id = str((await _ok(await a.post(f"{ML}/models/_register", json=body)))["model_id"])
        await _ok(await a.post(f"{ML}/models/{model_id}/_deploy"))
    await _settle(pair)
    return model_id


async def _predict(node: Node, model_id: str) -> None:
    async with _client(node) as client:
        await _ok(await client.post(f"{ML}/models/{model_id}/_predict", json=MESSAGES))


async def _state_after_sweep(pair: Pair, model_id: str) -> str:
    await _settle(pair)
    assert await pair[1].services.housekeeping.expire_idle_models() == []  # only the lowest id sweeps
    await pair[0].services.housekeeping.expire_idle_models()
    await caught_up(pair)
    stored = await pair[0].store.load(model_domain.INDEX, model_id)
    assert stored is not None
    return str(stored.source["model_state"])


def _served(pair: Pair, model_id: str) -> list[bool]:
    return [bool(node.services.stats.local_profile(models=True, wanted={model_id})) for node in pair]


async def test_a_model_idle_on_every_node_for_its_ttl_is_undeployed(
    ttl_pair: Pair, clock: ManualClock, provider: MockProvider
) -> None:
    model_id = await _deployed_model(ttl_pair, provider, model_ttl_minutes=1)
    assert _served(ttl_pair, model_id) == [True, True]
    for node in ttl_pair:
        await _predict(node, model_id)
    clock.advance(59)
    assert await _state_after_sweep(ttl_pair, model_id) == "DEPLOYED"
    await _predict(ttl_pair[1], model_id)  # only node B is used again
    clock.advance(59)  # A idle for 118 s, B for 59 s: not expired everywhere
    assert await _state_after_sweep(ttl_pair, model_id) == "DEPLOYED"
    assert _served(ttl_pair, model_id) == [True, True]
    clock.advance(10)  # the next check (one sync-up interval later): B idle for 69 s too
    assert await _state_after_sweep(ttl_pair, model_id) == "UNDEPLOYED"
    assert _served(ttl_pair, model_id) == [False, False]


async def test_a_model_without_ttl_is_never_undeployed(
    ttl_pair: Pair, clock: ManualClock, provider: MockProvider
) -> None:
    model_id = await _deployed_model(ttl_pair, provider)
    clock.advance(86_400)
    assert await _state_after_sweep(ttl_pair, model_id) == "DEPLOYED"
    other = await _deployed_model(ttl_pair, provider, model_ttl_minutes=-1)
    clock.advance(86_400)
    assert await _state_after_sweep(ttl_pair, other) == "DEPLOYED"


async def test_the_sync_up_interval_paces_the_check_and_zero_turns_it_off(
    ttl_pair: Pair, clock: ManualClock, provider: MockProvider
) -> None:
    interval = "plugins.ml_commons.sync_up_job_interval_in_seconds"
    async with _client(ttl_pair[0]) as a:
        await _ok(await a.put("/_cluster/settings", json={"persistent": {interval: 0}}))
        model_id = await _deployed_model(ttl_pair, provider, model_ttl_minutes=0)
        clock.advance(3_600)
        assert await _state_after_sweep(ttl_pair, model_id) == "DEPLOYED"
        await _ok(await a.put("/_cluster/settings", json={"persistent": {interval: 600}}))
        await _settle(ttl_pair)
        clock.advance(600)
        assert await _state_after_sweep(ttl_pair, model_id) == "UNDEPLOYED"


async def test_processes_of_one_node_report_its_latest_use(tmp_path: Path) -> None:
    # --workers: the processes of one node share its heartbeat row; the row keeps the latest use.
    store = SqliteStore(tmp_path / "store.sqlite3")
    await store.open()
    me = NodeInfo(node_id="n1", name="n1", roles=("ml",), url="http://n1", last_seen_ms=0)
    env = Environment(node_id="n1", node_name="n1", now_ms=lambda: 1_000)
    busy = NodeRegistry(store, env, me, lambda: frozenset({"m1"}), last_access=lambda: {"m1": 900})
    idle = NodeRegistry(store, env, me, lambda: frozenset({"m1"}), last_access=lambda: {"m1": 100})
    try:
        await busy.beat()
        await idle.beat()
        await busy.beat()
        await idle.beat()
        assert idle.last_access("n1", "m1") == 900
        assert (await store.load_nodes())[0][1]["last_access"] == {"m1": 900}
    finally:
        await store.close()
