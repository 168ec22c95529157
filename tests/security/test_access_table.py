"""Who may do what: users × objects × operations, every cell asserting status and message (issue 4).

ml-commons: ConnectorAccessControlHelper, ModelAccessControlHelper and the transport actions using them.

Each cell runs against a fresh secure node with connector and model access control on. ``owner``
creates the objects; ``shared`` has full ML access and shares the owner's backend role ``team_a``;
``stranger`` has full ML access and only ``team_z``; ``reader`` has ``ml_read_access`` and ``team_a``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mlgate.bootstrap import Node
from mlgate.mockprovider import MockProvider
from tests.api.fixtures import MESSAGES, chat_connector
from tests.conftest import assert_error

ML = "/_plugins/_ml"
ACTION = "cluster:admin/opensearch/ml"
PASSWORD = "Marigold-Seaside-Falcon-2291"
USERS = {  # name: (role, backend roles)
    "owner": ("ml_full_access", ["team_a"]),
    "shared": ("ml_full_access", ["team_a"]),
    "stranger": ("ml_full_access", ["team_z"]),
    "reader": ("ml_read_access", ["team_a"]),
}
CALLERS = ("admin", "owner", "shared", "stranger", "reader", "anonymous", "wrong_password")


@dataclass(frozen=True)
class Expect:
    """The outcome of one cell: a status, and for errors the OpenSearch type and reason."""

    status: int
    error_type: str | None = None
    reason: str | None = None
    visible: bool | None = None  # searches: is the object among the hits


OK = Expect(200)
SEEN = Expect(200, visible=True)
HIDDEN = Expect(200, visible=False)


def perm(action: str) -> Expect:
    """The Security plugin's 403 for a missing action permission (the user string is filled in later)."""
    return Expect(403, "security_exception", f"no permissions for [{ACTION}/{action}] and ")


def denied(status: int, reason: str, error_type: str | None = None) -> Expect:
    """An ML Commons access-control refusal."""
    default = {400: "illegal_argument_exception", 403: "status_exception"}[status]
    return Expect(status, error_type or default, reason)


CONNECTOR_GET_DENIED = denied(403, "You don't have permission to access this connector")
CONNECTOR_UPDATE_DENIED = denied(400, "You don't have permission to update the connector, connector id: {id}")
CONNECTOR_DELETE_DENIED = denied(
    403, "You are not allowed to delete this connector", "m_l_validation_exception"
)
GROUP_GET_DENIED = denied(403, "User doesn't have privilege to perform this operation on this model group")
GROUP_UPDATE_DENIED = denied(400, "You don't have permission to update this model group.")
GROUP_DELETE_DENIED = denied(
    403, "User doesn't have privilege to delete this model group", "m_l_validation_exception"
)
ROLES_MISSING = denied(400, "You don't have the backend roles specified.")
MODEL_DENIED = denied(403, "User doesn't have privilege to perform this operation on this model")
MODEL_UPDATE_DENIED = denied(
    403, "User doesn't have privilege to perform this operation on this model, model ID {id}"
)
UNDEPLOY_DENIED = denied(400, "No permission to undeploy model {id}")
REGISTER_DENIED = denied(400, "You don't have permissions to perform this operation on this model.")

# (object, operation) → outcomes for (admin, owner, shared, stranger, reader); anonymous and a wrong
# password are 401 in every cell.
TABLE: dict[tuple[str, str], tuple[Expect, Expect, Expect, Expect, Expect]] = {
    # The connector is restricted to team_a.
    ("connector", "get"): (OK, OK, OK, CONNECTOR_GET_DENIED, OK),
    ("connector", "search"): (SEEN, SEEN, SEEN, HIDDEN, SEEN),
    ("connector", "create"): (OK, OK, OK, OK, perm("create_connector")),
    ("connector", "update"): (OK, OK, OK, CONNECTOR_UPDATE_DENIED, perm("connectors/update")),
    ("connector", "delete"): (OK, OK, OK, CONNECTOR_DELETE_DENIED, perm("connectors/delete")),
    ("group:public", "get"): (OK, OK, OK, OK, OK),
    ("group:public", "search"): (SEEN, SEEN, SEEN, SEEN, SEEN),
    ("group:public", "create"): (OK, OK, OK, OK, perm("register_model_group")),
    ("group:public", "update"): (OK, OK, OK, OK, perm("update_model_group")),
    ("group:public", "delete"): (OK, OK, OK, OK, perm("delete_model_group")),
    ("group:private", "get"): (OK, OK, GROUP_GET_DENIED, GROUP_GET_DENIED, GROUP_GET_DENIED),
    ("group:private", "search"): (SEEN, SEEN, HIDDEN, HIDDEN, HIDDEN),
    ("group:private", "create"): (OK, OK, OK, OK, perm("register_model_group")),
    ("group:private", "update"): (
        OK,
        OK,
        GROUP_UPDATE_DENIED,
        GROUP_UPDATE_DENIED,
        perm("update_model_group"),
    ),
    ("group:private", "delete"): (
        OK,
        OK,
        GROUP_DELETE_DENIED,
        GROUP_DELETE_DENIED,
        perm("delete_model_group"),
    ),
    ("group:restricted", "get"): (OK, OK, OK, GROUP_GET_DENIED, OK),
    ("group:restricted", "search"): (SEEN, SEEN, SEEN, HIDDEN, SEEN),
    ("group:restricted", "create"): (OK, OK, OK, ROLES_MISSING, perm("register_model_group")),
    ("group:restricted", "update"): (OK, OK, OK, GROUP_UPDATE_DENIED, perm("update_model_group")),
    ("group:restricted", "delete"): (OK, OK, OK, GROUP_DELETE_DENIED, perm("delete_model_group")),
    ("model:public", "get"): (OK, OK, OK, OK, OK),
    ("model:public", "search"): (SEEN, SEEN, SEEN, SEEN, SEEN),
    ("model:public", "create"): (OK, OK, OK, OK, perm("register_model")),
    ("model:public", "update"): (OK, OK, OK, OK, perm("models/update")),
    ("model:public", "delete"): (OK, OK, OK, OK, perm("models/delete")),
    ("model:public", "deploy"): (OK, OK, OK, OK, perm("deploy_model")),
    ("model:public", "predict"): (OK, OK, OK, OK, perm("predict")),
    ("model:public", "undeploy"): (OK, OK, OK, OK, perm("undeploy_model")),
    ("model:private", "get"): (OK, OK, MODEL_DENIED, MODEL_DENIED, MODEL_DENIED),
    ("model:private", "search"): (SEEN, SEEN, HIDDEN, HIDDEN, HIDDEN),
    ("model:private", "create"): (OK, OK, REGISTER_DENIED, REGISTER_DENIED, perm("register_model")),
    ("model:private", "update"): (OK, OK, MODEL_UPDATE_DENIED, MODEL_UPDATE_DENIED, perm("models/update")),
    ("model:private", "delete"): (OK, OK, MODEL_DENIED, MODEL_DENIED, perm("models/delete")),
    ("model:private", "deploy"): (OK, OK, MODEL_DENIED, MODEL_DENIED, perm("deploy_model")),
    ("model:private", "predict"): (OK, OK, MODEL_DENIED, MODEL_DENIED, perm("predict")),
    ("model:private", "undeploy"): (OK, OK, UNDEPLOY_DENIED, UNDEPLOY_DENIED, perm("undeploy_model")),
    ("model:restricted", "get"): (OK, OK, OK, MODEL_DENIED, OK),
    ("model:restricted", "search"): (SEEN, SEEN, SEEN, HIDDEN, SEEN),
    ("model:restricted", "create"): (OK, OK, OK, REGISTER_DENIED, perm("register_model")),
    ("model:restricted", "update"): (OK, OK, OK, MODEL_UPDATE_DENIED, perm("models/update")),
    ("model:restricted", "delete"): (OK, OK, OK, MODEL_DENIED, perm("models/delete")),
    ("model:restricted", "deploy"): (OK, OK, OK, MODEL_DENIED, perm("deploy_model")),
    ("model:restricted", "predict"): (OK, OK, OK, MODEL_DENIED, perm("predict")),
    ("model:restricted", "undeploy"): (OK, OK, OK, UNDEPLOY_DENIED, perm("undeploy_model")),
}
UNAUTHORIZED = Expect(401, "security_exception", "Unauthorized")
CELLS = [
    (obj, op, caller, TABLE[(obj, op)][i] if i < 5 else UNAUTHORIZED)
    for (obj, op) in TABLE
    for i, caller in enumerate(CALLERS)
]


@dataclass
class World:
    """The objects of one cell and a client per caller."""

    node: Node
    clients: dict[str, httpx.AsyncClient]
    connector_id: str = ""
    group_id: str = ""
    model_id: str = ""


def _client(node: Node, auth: tuple[str, str] | None) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=node.app), base_url="http://mlgate", auth=auth)


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def _group_body(mode: str, name: str) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "access_mode": mode}
    if mode == "restricted":
        body["backend_roles"] = ["team_a"]
    return body


@pytest.fixture
async def world(secure_node: Node, admin: httpx.AsyncClient, provider: MockProvider) -> AsyncIterator[World]:
    """Users, access control on, and clients for every caller (objects are made per cell)."""
    await _ok(
        await admin.put(
            "/_cluster/settings",
            json={
                "persistent": {
                    "plugins.ml_commons.connector_access_control_enabled": True,
                    "plugins.ml_commons.model_access_control_enabled": True,
                }
            },
        )
    )
    for name, (_, roles) in USERS.items():
        await _ok(
            await admin.put(
                f"/_plugins/_security/api/internalusers/{name}",
                json={"password": PASSWORD, "backend_roles": roles},
            )
        )
    for role in ("ml_full_access", "ml_read_access"):
        users = [n for n, (r, _) in USERS.items() if r == role]
        await _ok(await admin.put(f"/_plugins/_security/api/rolesmapping/{role}", json={"users": users}))
    clients = {name: _client(secure_node, (name, PASSWORD)) for name in USERS}
    clients["admin"] = admin
    clients["anonymous"] = _client(secure_node, None)
    clients["wrong_password"] = _client(secure_node, ("owner", "Not-The-Password-0000"))
    yield World(secure_node, clients)
    for name, client in clients.items():
        if name != "admin":
            await client.aclose()


async def _make_objects(world: World, obj: str, provider: MockProvider) -> None:
    owner = world.clients["owner"]
    kind, _, mode = obj.partition(":")
    if kind == "connector":
        body = chat_connector(provider.url, access_mode="restricted", backend_roles=["team_a"])
        world.connector_id = (await _ok(await owner.post(f"{ML}/connectors/_create", json=body)))[
            "connector_id"
        ]
        return
    created = await owner.post(f"{ML}/model_groups/_register", json=_group_body(mode, f"group {mode}"))
    world.group_id = (await _ok(created))["model_group_id"]
    if kind == "model":
        # The model's connector is private to the owner: deploy and predict are decided by the group.
        connector = await owner.post(f"{ML}/connectors/_create", json=chat_connector(provider.url))
        world.connector_id = (await _ok(connector))["connector_id"]
        registered = await owner.post(
            f"{ML}/models/_register",
            json={
                "name": f"model {mode}",
                "function_name": "remote",
                "model_group_id": world.group_id,
                "connector_id": world.connector_id,
            },
        )
        world.model_id = (await _ok(registered))["model_id"]


async def _run(
    world: World, obj: str, op: str, caller: str, provider: MockProvider
) -> tuple[httpx.Response, str]:
    """Perform ``op`` on ``obj`` as ``caller``; returns the response and the id searched for."""
    http = world.clients[caller]
    kind, _, mode = obj.partition(":")
    if kind == "connector":
        base, oid = f"{ML}/connectors", world.connector_id
        create = (f"{base}/_create", chat_connector(provider.url, name=f"by {caller}"))
    elif kind == "group":
        base, oid = f"{ML}/model_groups", world.group_id
        create = (f"{base}/_register", _group_body(mode, f"new {mode} group by {caller}"))
    else:
        base, oid = f"{ML}/models", world.model_id
        create = (
            f"{base}/_register",
            {
                "name": f"new model by {caller}",
                "function_name": "remote",
                "model_group_id": world.group_id,
                "connector_id": await _public_connector(world, provider),
            },
        )
    if op == "get":
        return await http.get(f"{base}/{oid}"), oid
    if op == "search":
        return await http.post(f"{base}/_search", json={"query": {"match_all": {}}}), oid
    if op == "create":
        return await http.post(create[0], json=create[1]), oid
    if op == "update":
        return await http.put(f"{base}/{oid}", json={"description": "changed"}), oid
    if op == "delete":
        return await http.delete(f"{base}/{oid}"), oid
    if op == "deploy":
        return await http.post(f"{base}/{oid}/_deploy"), oid
    if op == "undeploy":
        return await http.post(f"{base}/{oid}/_undeploy"), oid
    return await http.post(f"{base}/{oid}/_predict", json={"parameters": {"messages": MESSAGES}}), oid


async def _public_connector(world: World, provider: MockProvider) -> str:
    # Registering needs a usable connector; a public one isolates the group check under test.
    body = chat_connector(provider.url, name="public connector", access_mode="public")
    return str(
        (await _ok(await world.clients["admin"].post(f"{ML}/connectors/_create", json=body)))["connector_id"]
    )


def _check(response: httpx.Response, expect: Expect, oid: str, caller: str) -> None:
    if expect.status == 200:
        assert response.status_code == 200, response.text
        body = response.json()
        if expect.visible is not None:
            ids = [hit["_id"] for hit in body["hits"]["hits"]]
            assert (oid in ids) is expect.visible, ids
        elif "result" in body:
            assert body["result"] in ("updated", "deleted"), body
        return
    assert expect.error_type is not None and expect.reason is not None
    reason = expect.reason.format(id=oid)
    if expect.error_type == "security_exception" and expect.status == 403:
        roles = ", ".join(USERS[caller][1])
        reason += f"User [name={caller}, backend_roles=[{roles}], requestedTenant=null]"
    assert_error(response, expect.status, expect.error_type, reason)


@pytest.mark.parametrize(
    ("obj", "op", "caller", "expect"),
    CELLS,
    ids=[f"{obj}-{op}-{caller}" for obj, op, caller, _ in CELLS],
)
async def test_cell(
    world: World, provider: MockProvider, obj: str, op: str, caller: str, expect: Expect
) -> None:
    await _make_objects(world, obj, provider)
    response, oid = await _run(world, obj, op, caller, provider)
    _check(response, expect, oid, caller)
    if op == "deploy" and expect.status == 200:
        assert response.json()["status"] == "COMPLETED"
        model = await world.clients["admin"].get(f"{ML}/models/{oid}")
        assert model.json()["model_state"] == "DEPLOYED"
    if op == "predict" and expect.status == 200:
        assert response.json()["inference_results"][0]["status_code"] == 200


async def test_owner_less_objects_stay_open_but_hidden_from_search(
    world: World, provider: MockProvider
) -> None:
    """Objects created while access control was off have no owner: open to all, unseen in search."""
    admin = world.clients["admin"]
    await _ok(
        await admin.put(
            "/_cluster/settings",
            json={"persistent": {"plugins.ml_commons.connector_access_control_enabled": False}},
        )
    )
    legacy = (await _ok(await admin.post(f"{ML}/connectors/_create", json=chat_connector(provider.url))))[
        "connector_id"
    ]
    await _ok(
        await admin.put(
            "/_cluster/settings",
            json={"persistent": {"plugins.ml_commons.connector_access_control_enabled": True}},
        )
    )
    stranger = world.clients["stranger"]
    assert (await stranger.get(f"{ML}/connectors/{legacy}")).status_code == 200
    hits = (await stranger.post(f"{ML}/connectors/_search", json={})).json()["hits"]["hits"]
    assert legacy not in [h["_id"] for h in hits]
    admin_hits = (await admin.post(f"{ML}/connectors/_search", json={})).json()["hits"]["hits"]
    assert legacy in [h["_id"] for h in admin_hits]


async def test_aggregations_count_only_what_the_caller_may_see(world: World, provider: MockProvider) -> None:
    """A terms count (even with min_doc_count 0, which lists terms of unmatched documents) and top_hits
    see the documents the caller's search may see, nothing more."""
    await _make_objects(world, "connector", provider)  # restricted to team_a
    await _make_objects(world, "model:private", provider)  # a private group, its connector and model
    body = {
        "size": 0,
        "aggs": {
            "names": {"terms": {"field": "name.keyword", "min_doc_count": 0}},
            "top": {"top_hits": {"_source": ["name"]}},
        },
    }
    for caller, connectors, models in (
        ("owner", [{"key": "Chat connector", "doc_count": 2}], [{"key": "model private", "doc_count": 1}]),
        ("shared", [{"key": "Chat connector", "doc_count": 1}], []),
        ("stranger", [], []),
    ):
        http = world.clients[caller]
        found = await _ok(await http.post(f"{ML}/connectors/_search", json=body))
        assert found["aggregations"]["names"]["buckets"] == connectors, caller
        hits = found["aggregations"]["top"]["hits"]
        assert hits["total"]["value"] == sum(b["doc_count"] for b in connectors)
        found = await _ok(await http.post(f"{ML}/models/_search", json=body))
        assert found["aggregations"]["names"]["buckets"] == models, caller
