"""``PUT /_cluster/settings`` from several admins at once: every update takes effect (issue 12, item 2).

Each update is applied to the settings as stored and written with compare-and-set, so two updates of
different keys through two nodes (or one) never revert each other.
"""

from __future__ import annotations

import asyncio

import httpx

from mlgate.bootstrap import Node
from tests.consistency.conftest import ROUNDS, caught_up

P = "plugins.ml_commons."


async def _flat(client: httpx.AsyncClient) -> dict[str, dict[str, object]]:
    response = await client.get("/_cluster/settings?flat_settings=true")
    assert response.status_code == 200
    body: dict[str, dict[str, object]] = response.json()
    return body


async def test_concurrent_updates_of_different_keys_all_take_effect(
    pair: tuple[Node, Node], clients: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    a, b = clients
    for round_ in range(ROUNDS):
        value = str(round_)
        answers = await asyncio.gather(
            a.put("/_cluster/settings", json={"persistent": {f"{P}max_ml_task_per_node": value}}),
            b.put("/_cluster/settings", json={"persistent": {f"{P}max_model_on_node": value}}),
            a.put("/_cluster/settings", json={"persistent": {f"{P}monitoring_request_count": value}}),
            b.put(
                "/_cluster/settings", json={"transient": {f"{P}max_deploy_model_tasks_per_node": round_ % 11}}
            ),
        )
        assert [r.status_code for r in answers] == [200] * 4, [r.text for r in answers]
        await caught_up(pair)
        for client in clients:
            flat = await _flat(client)
            persistent = {
                k: flat["persistent"].get(P + k)
                for k in ("max_ml_task_per_node", "max_model_on_node", "monitoring_request_count")
            }
            assert persistent == dict.fromkeys(persistent, value), f"round {round_}: {persistent}"
            assert flat["persistent"][f"{P}connector.private_ip_enabled"] == "true"
            assert flat["transient"][f"{P}max_deploy_model_tasks_per_node"] == str(round_ % 11)
