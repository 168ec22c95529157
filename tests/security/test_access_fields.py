"""Access-control fields on create and update, each row through the real secure app.

ml-commons: TransportCreateConnectorAction, MLModelGroupManager, TransportUpdateModelGroupAction.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mlgate.bootstrap import Node
from mlgate.mockprovider import MockProvider
from tests.api.fixtures import chat_connector
from tests.conftest import assert_error

ML = "/_plugins/_ml"
PASSWORD = "Harbor-Quill-Meadowlark-7710"
CONNECTOR_OFF = (
    "You cannot specify connector access control parameters because the Security plugin or connector "
    "access control is disabled on your cluster."
)
MODEL_OFF = (
    "You cannot specify model access control parameters because the Security plugin or model access "
    "control is disabled on your cluster."
)

CONNECTOR_ROWS: list[tuple[str, dict[str, Any], int, str | None]] = [
    ("owner", {}, 200, "private"),
    ("owner", {"backend_roles": ["team_a"]}, 200, "restricted"),
    ("owner", {"add_all_backend_roles": True}, 200, "restricted"),
    ("admin", {"access_mode": "restricted", "backend_roles": ["anything"]}, 200, "restricted"),
    (
        "owner",
        {"access_mode": "public", "backend_roles": ["team_a"]},
        400,
        "You can specify backend roles only for a connector with the restricted access mode.",
    ),
    (
        "owner",
        {"access_mode": "restricted", "add_all_backend_roles": True, "backend_roles": ["team_a"]},
        400,
        "You can't specify backend roles and add all backend roles to true at same time.",
    ),
    (
        "loner",
        {"access_mode": "restricted", "add_all_backend_roles": True},
        400,
        "You must have at least one backend role to create a connector.",
    ),
    (
        "owner",
        {"access_mode": "restricted"},
        400,
        "You must specify at least one backend role or make the connector public/private for registering it.",
    ),
    (
        "owner",
        {"access_mode": "restricted", "backend_roles": ["team_z"]},
        400,
        "You don't have the backend roles specified.",
    ),
    ("admin", {"add_all_backend_roles": True}, 400, "Admin can't add all backend roles"),
]

GROUP_ROWS: list[tuple[str, dict[str, Any], int, str | None]] = [
    ("owner", {}, 200, "private"),
    ("owner", {"backend_roles": ["team_a"]}, 200, "restricted"),
    ("owner", {"access_mode": "public"}, 200, "public"),
    (
        "owner",
        {"backend_roles": ["team_a"], "add_all_backend_roles": True},
        400,
        "You cannot specify backend roles and add all backend roles at the same time.",
    ),
    (
        "owner",
        {"access_mode": "private", "add_all_backend_roles": True},
        400,
        "You can specify backend roles only for a model group with the restricted access mode.",
    ),
    (
        "admin",
        {"access_mode": "restricted", "add_all_backend_roles": True},
        400,
        "Admin users cannot add all backend roles to a model group.",
    ),
    (
        "loner",
        {"access_mode": "restricted", "backend_roles": ["team_a"]},
        400,
        "You must have at least one backend role to register a restricted model group.",
    ),
    (
        "owner",
        {"access_mode": "restricted"},
        400,
        "You must specify one or more backend roles or add all backend roles to register a restricted model group.",
    ),
    (
        "owner",
        {"access_mode": "restricted", "backend_roles": ["team_z"]},
        400,
        "You don't have the backend roles specified.",
    ),
]


@pytest.fixture
async def users(secure_node: Node, admin: httpx.AsyncClient) -> dict[str, httpx.AsyncClient]:
    """admin, owner (team_a), shared (team_a), loner (no backend role): all with ml_full_access."""
    await admin.put(
        "/_cluster/settings",
        json={
            "persistent": {
                "plugins.ml_commons.connector_access_control_enabled": True,
                "plugins.ml_commons.model_access_control_enabled": True,
            }
        },
    )
    clients = {"admin": admin}
    for name, roles in (("owner", ["team_a"]), ("shared", ["team_a"]), ("loner", [])):
        body = {"password": PASSWORD, "backend_roles": roles, "opendistro_security_roles": ["ml_full_access"]}
        assert (
            await admin.put(f"/_plugins/_security/api/internalusers/{name}", json=body)
        ).status_code == 201
        transport = httpx.ASGITransport(app=secure_node.app)
        clients[name] = httpx.AsyncClient(
            transport=transport, base_url="http://mlgate", auth=(name, PASSWORD)
        )
    return clients


async def test_connector_create_rows(users: dict[str, httpx.AsyncClient], provider: MockProvider) -> None:
    for i, (caller, fields, status, outcome) in enumerate(CONNECTOR_ROWS):
        http = users[caller]
        response = await http.post(
            f"{ML}/connectors/_create", json=chat_connector(provider.url, name=f"c{i}", **fields)
        )
        if status != 200:
            assert_error(response, status, "illegal_argument_exception", outcome)
            continue
        assert response.status_code == 200, (fields, response.text)
        doc = (await http.get(f"{ML}/connectors/{response.json()['connector_id']}")).json()
        assert doc["access"] == outcome and doc["owner"]["name"] == caller, fields
        if fields.get("add_all_backend_roles"):
            assert doc["backend_roles"] == ["team_a"]


async def test_model_group_create_rows(users: dict[str, httpx.AsyncClient]) -> None:
    for i, (caller, fields, status, outcome) in enumerate(GROUP_ROWS):
        http = users[caller]
        response = await http.post(f"{ML}/model_groups/_register", json={"name": f"g{i}", **fields})
        if status != 200:
            assert_error(response, status, "illegal_argument_exception", outcome)
            continue
        assert response.status_code == 200, (fields, response.text)
        doc = (await http.get(f"{ML}/model_groups/{response.json()['model_group_id']}")).json()
        assert doc["access"] == outcome and doc["owner"]["name"] == caller, fields


async def test_model_group_update_rules(
    users: dict[str, httpx.AsyncClient], admin: httpx.AsyncClient
) -> None:
    owner, shared = users["owner"], users["shared"]
    created = await owner.post(
        f"{ML}/model_groups/_register", json={"name": "team", "backend_roles": ["team_a"]}
    )
    gid = created.json()["model_group_id"]
    url = f"{ML}/model_groups/{gid}"
    assert_error(
        await shared.put(url, json={"access_mode": "public"}),
        400,
        "illegal_argument_exception",
        "Only owner or admin can update access control data.",
    )
    assert (await shared.put(url, json={"description": "shared may edit"})).status_code == 200
    assert_error(
        await owner.put(url, json={"add_all_backend_roles": True, "backend_roles": ["team_a"]}),
        400,
        "illegal_argument_exception",
        "You cannot specify backend roles and add all backend roles at the same time.",
    )
    assert_error(
        await owner.put(url, json={"add_all_backend_roles": False}),
        400,
        "illegal_argument_exception",
        "You have to specify backend roles when add all backend roles is set to false.",
    )
    # The owner loses the group's backend role through the security API: no more updates.
    body = {
        "password": PASSWORD,
        "backend_roles": ["team_z"],
        "opendistro_security_roles": ["ml_full_access"],
    }
    assert (await admin.put("/_plugins/_security/api/internalusers/owner", json=body)).status_code == 200
    assert_error(
        await owner.put(url, json={"description": "x"}),
        400,
        "illegal_argument_exception",
        "You don't have the specified backend role to update this model group. "
        "For more information, contact your administrator.",
    )
    assert (await admin.put(url, json={"access_mode": "private"})).status_code == 200
    doc = (await admin.get(url)).json()
    assert doc["access"] == "private" and "backend_roles" not in doc


async def test_connector_use_and_relink_checks(
    users: dict[str, httpx.AsyncClient], provider: MockProvider
) -> None:
    owner, loner = users["owner"], users["loner"]
    private = (await owner.post(f"{ML}/connectors/_create", json=chat_connector(provider.url))).json()[
        "connector_id"
    ]
    public = (
        await loner.post(f"{ML}/connectors/_create", json=chat_connector(provider.url, access_mode="public"))
    ).json()["connector_id"]
    register = {"name": "m", "function_name": "remote", "connector_id": private}
    assert_error(
        await loner.post(f"{ML}/models/_register", json=register),
        400,
        "illegal_argument_exception",
        f"You don't have permission to use the connector provided, connector id: {private}",
    )
    group = await loner.post(f"{ML}/model_groups/_register", json={"name": "open", "access_mode": "public"})
    registered = await loner.post(
        f"{ML}/models/_register",
        json={
            "name": "m",
            "function_name": "remote",
            "connector_id": public,
            "model_group_id": group.json()["model_group_id"],
        },
    )
    model_id = registered.json()["model_id"]
    assert_error(
        await loner.put(f"{ML}/models/{model_id}", json={"connector_id": private}),
        403,
        "status_exception",
        f"You don't have permission to update the connector, connector id: {private}",
    )


async def test_access_fields_refused_while_access_control_is_off(
    admin: httpx.AsyncClient, provider: MockProvider
) -> None:
    # Security on, but both access-control settings at their default (off).
    response = await admin.post(
        f"{ML}/connectors/_create", json=chat_connector(provider.url, access_mode="public")
    )
    assert_error(response, 400, "illegal_argument_exception", CONNECTOR_OFF)
    response = await admin.post(f"{ML}/model_groups/_register", json={"name": "g", "access_mode": "public"})
    assert_error(response, 400, "illegal_argument_exception", MODEL_OFF)
    created = await admin.post(f"{ML}/model_groups/_register", json={"name": "g"})
    doc = (await admin.get(f"{ML}/model_groups/{created.json()['model_group_id']}")).json()
    assert doc["access"] == "public" and "owner" not in doc
