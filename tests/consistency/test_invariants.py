"""Check-then-act races through the REST API of two nodes on one store (issue 12, item 3).

Each scenario runs the racing operations at once, round after round, on both stores, and checks the
invariant the store now enforces: one group per name, no model whose connector or group was deleted
under it, no controller outliving its model, no model deleted while a deploy of it went ahead.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from mlgate.bootstrap import Node
from mlgate.domain import controller as controller_domain
from mlgate.domain import model as model_domain
from mlgate.domain import model_group as group_domain
from mlgate.mockprovider import MockProvider
from mlgate.services.connectors import INDEX as CONNECTOR_INDEX
from tests.api.fixtures import chat_connector
from tests.consistency.conftest import ROUNDS, caught_up

ML = "/_plugins/_ml"
Clients = tuple[httpx.AsyncClient, httpx.AsyncClient]


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _connector(client: httpx.AsyncClient, provider: MockProvider) -> str:
    created = await _ok(await client.post(f"{ML}/connectors/_create", json=chat_connector(provider.url)))
    return str(created["connector_id"])


def _model(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "function_name": "remote", **fields}


async def test_concurrent_group_registers_of_one_name_create_one_group(
    pair: tuple[Node, Node], clients: Clients
) -> None:
    for round_ in range(ROUNDS):
        name = f"team-{round_}"
        answers = await asyncio.gather(
            *(clients[n % 2].post(f"{ML}/model_groups/_register", json={"name": name}) for n in range(8))
        )
        created = [r.json()["model_group_id"] for r in answers if r.status_code == 200]
        assert len(created) == 1, f"round {round_}: {[r.text for r in answers]}"
        refused = [r.json() for r in answers if r.status_code != 200]
        assert {r["error"]["reason"] for r in refused} == {
            f"The name you provided is already being used by a model group with ID: {created[0]}."
        }
        assert len(await pair[0].store.load_where(group_domain.INDEX, "name", name)) == 1


async def test_concurrent_registers_of_one_model_name_share_one_group(
    pair: tuple[Node, Node], clients: Clients, provider: MockProvider
) -> None:
    connector_id = await _connector(clients[0], provider)
    for round_ in range(ROUNDS // 3):
        name = f"chat-{round_}"
        answers = await asyncio.gather(
            *(
                clients[n % 2].post(f"{ML}/models/_register", json=_model(name, connector_id=connector_id))
                for n in range(6)
            )
        )
        models = [(await _ok(r))["model_id"] for r in answers]
        docs = [await pair[0].store.load(model_domain.INDEX, m) for m in models]
        assert len({d.source["model_group_id"] for d in docs if d is not None}) == 1
        assert sorted(int(d.source["model_version"]) for d in docs if d is not None) == list(range(1, 7))
        assert len(await pair[0].store.load_where(group_domain.INDEX, "name", name)) == 1


async def test_deleting_a_connector_while_a_model_is_registered_on_it(
    pair: tuple[Node, Node], clients: Clients, provider: MockProvider
) -> None:
    a, b = clients
    store = pair[0].store
    for round_ in range(ROUNDS):
        connector_id = await _connector(a, provider)
        registered, deleted = await asyncio.gather(
            b.post(f"{ML}/models/_register", json=_model(f"m{round_}", connector_id=connector_id)),
            a.delete(f"{ML}/connectors/{connector_id}"),
        )
        users = await store.load_where(model_domain.INDEX, "connector_id", connector_id)
        connector = await store.load(CONNECTOR_INDEX, connector_id)
        assert not (users and connector is None), f"round {round_}: a model points at a deleted connector"
        if registered.status_code == 200:
            model_id = registered.json()["model_id"]
            assert deleted.status_code == 409, deleted.text
            assert deleted.json()["error"]["reason"] == (
                "1 models are still using this connector, please delete or update the models first: "
                f"[{model_id}]"
            )
        else:
            assert deleted.status_code == 200 and registered.status_code == 404, registered.text
            assert registered.json()["error"]["reason"] == f"Failed to find connector:{connector_id}"


async def test_deleting_a_group_while_a_model_is_registered_into_it(
    pair: tuple[Node, Node], clients: Clients, provider: MockProvider
) -> None:
    a, b = clients
    store = pair[0].store
    connector_id = await _connector(a, provider)
    for round_ in range(ROUNDS):
        group_id = (await _ok(await a.post(f"{ML}/model_groups/_register", json={"name": f"g{round_}"})))[
            "model_group_id"
        ]
        registered, deleted = await asyncio.gather(
            b.post(
                f"{ML}/models/_register",
                json=_model(f"m{round_}", connector_id=connector_id, model_group_id=group_id),
            ),
            a.delete(f"{ML}/model_groups/{group_id}"),
        )
        members = await store.load_where(model_domain.INDEX, "model_group_id", group_id)
        group = await store.load(group_domain.INDEX, group_id)
        assert not (members and group is None), f"round {round_}: a model is in a deleted group"
        if registered.status_code == 200:
            assert deleted.status_code == 409, deleted.text
        else:
            assert deleted.status_code == 200 and registered.status_code == 404, registered.text


async def test_a_controller_created_while_its_model_is_deleted_does_not_outlive_it(
    pair: tuple[Node, Node], clients: Clients, provider: MockProvider
) -> None:
    a, b = clients
    store = pair[0].store
    connector_id = await _connector(a, provider)
    limits = {"user_rate_limiter": {"alice": {"limit": "1", "unit": "MINUTES"}}}
    for round_ in range(ROUNDS):
        model_id = (
            await _ok(
                await a.post(f"{ML}/models/_register", json=_model(f"m{round_}", connector_id=connector_id))
            )
        )["model_id"]
        created, deleted = await asyncio.gather(
            b.post(f"{ML}/controllers/{model_id}", json=limits), a.delete(f"{ML}/models/{model_id}")
        )
        assert deleted.status_code == 200, deleted.text
        assert created.status_code in (200, 404), created.text
        assert await store.load(model_domain.INDEX, model_id) is None
        assert await store.load(controller_domain.INDEX, model_id) is None, (
            f"round {round_}: orphan controller"
        )


async def test_a_model_deleted_while_it_is_deployed_is_not_served(
    pair: tuple[Node, Node], clients: Clients, provider: MockProvider
) -> None:
    a, b = clients
    connector_id = await _connector(a, provider)
    for round_ in range(ROUNDS // 3):
        model_id = (
            await _ok(
                await a.post(f"{ML}/models/_register", json=_model(f"m{round_}", connector_id=connector_id))
            )
        )["model_id"]
        deployed, deleted = await asyncio.gather(
            b.post(f"{ML}/models/{model_id}/_deploy"), a.delete(f"{ML}/models/{model_id}")
        )
        await caught_up(pair)
        stored = await pair[0].store.load(model_domain.INDEX, model_id)
        if deleted.status_code == 200:
            assert stored is None
            if deployed.status_code == 200:  # the deploy started before the delete: it must not succeed
                task = await _ok(await a.get(f"{ML}/tasks/{deployed.json()['task_id']}"))
                assert task["state"] == "FAILED", f"round {round_}: deployed a deleted model: {task}"
            else:
                assert deployed.status_code == 404, deployed.text
            for node in pair:
                assert node.services.stats.local_profile(models=True, wanted={model_id}) == {}
        else:
            assert deleted.status_code == 400 and deployed.status_code == 200, deleted.text
            assert stored is not None and stored.source["model_state"] in model_domain.ACTIVE_STATES
            await _ok(await a.post(f"{ML}/models/{model_id}/_undeploy"))
