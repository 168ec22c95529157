"""Model group update: every check of ML Commons' TransportUpdateModelGroupAction and of
MLUpdateModelGroupInput parsing, with its message, through the REST API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import assert_error
from tests.security.test_access_fields import MODEL_OFF, users  # noqa: F401  (the fixture)

G = "/_plugins/_ml/model_groups"
IAE = "illegal_argument_exception"
MUST_SPECIFY = "You must specify one or more backend roles or add all backend roles to register a restricted model group."
ONLY_RESTRICTED = "You can specify backend roles only for a model group with the restricted access mode."

# (creator, caller, the group's creation fields, update body, refusal or None, access after success)
ROWS: list[tuple[str, str, dict[str, Any], dict[str, Any], str | None, str | None]] = [
    ("owner", "owner", {"backend_roles": ["team_a"]}, {"access_mode": "restricted"}, MUST_SPECIFY, None),
    ("owner", "owner", {"access_mode": "public"}, {"access_mode": "restricted"}, MUST_SPECIFY, None),
    ("owner", "owner", {"access_mode": "public"}, {"access_mode": "RESTRICTED", "backend_roles": []}, MUST_SPECIFY, None),
    (
        "owner",
        "owner",
        {"backend_roles": ["team_a"]},
        {"add_all_backend_roles": False},
        "You have to specify backend roles when add all backend roles is set to false.",
        None,
    ),
    ("owner", "owner", {"backend_roles": ["team_a"]}, {"access_mode": "public", "backend_roles": ["team_a"]}, ONLY_RESTRICTED, None),
    ("owner", "owner", {}, {"access_mode": "private", "add_all_backend_roles": True}, ONLY_RESTRICTED, None),
    (
        "owner",
        "admin",
        {"access_mode": "public"},
        {"add_all_backend_roles": True},
        "Admin users cannot add all backend roles to a model group.",
        None,
    ),
    ("loner", "loner", {"access_mode": "public"}, {"add_all_backend_roles": True}, "You don't have any backend roles.", None),
    (
        "owner",
        "owner",
        {"backend_roles": ["team_a"]},
        {"backend_roles": ["team_a"], "add_all_backend_roles": True},
        "You cannot specify backend roles and add all backend roles at the same time.",
        None,
    ),
    ("owner", "owner", {"backend_roles": ["team_a"]}, {"backend_roles": ["team_z"]}, "You don't have the backend roles specified.", None),
    # An empty list is an access change too (ML Commons tests `!= null`).
    ("owner", "shared", {"backend_roles": ["team_a"]}, {"backend_roles": []}, "Only owner or admin can update access control data.", None),
    # A private group is nobody else's, shared backend role or not.
    ("owner", "shared", {}, {"description": "mine now"}, "You don't have permission to update this model group.", None),
    ("owner", "loner", {"backend_roles": ["team_a"]}, {"name": "x"}, "You don't have permission to update this model group.", None),
    ("owner", "owner", {"access_mode": "public"}, {"access_mode": "restricted", "backend_roles": ["team_a"]}, None, "restricted"),
    ("owner", "owner", {"access_mode": "public"}, {"add_all_backend_roles": True}, None, "restricted"),
    ("owner", "owner", {"backend_roles": ["team_a"]}, {"access_mode": "public"}, None, "public"),
    ("owner", "shared", {"backend_roles": ["team_a"]}, {"description": "shared may edit"}, None, "restricted"),
    # An unknown access mode counts as not given (AccessMode.from yields null), as in ML Commons.
    ("owner", "owner", {"backend_roles": ["team_a"]}, {"access_mode": "open", "description": "d"}, None, "restricted"),
    ("owner", "owner", {"access_mode": "public"}, {}, None, "public"),
]  # fmt: skip


async def test_update_rows(users: dict[str, httpx.AsyncClient]) -> None:  # noqa: F811
    for i, (creator, caller, created_with, update, refusal, access) in enumerate(ROWS):
        created = await users[creator].post(f"{G}/_register", json={"name": f"group {i}", **created_with})
        assert created.status_code == 200, created.text
        url = f"{G}/{created.json()['model_group_id']}"
        before = (await users["admin"].get(url)).json()
        response = await users[caller].put(url, json=update)
        if refusal is not None:
            assert_error(response, 400, IAE, refusal)
            assert (await users["admin"].get(url)).json() == before, i  # nothing written
            continue
        assert response.status_code == 200 and response.json() == {"status": "Updated"}, (i, response.text)
        after = (await users["admin"].get(url)).json()
        assert after["access"] == access, i
        if access == "restricted":
            assert after["backend_roles"] == ["team_a"], i
        else:
            assert "backend_roles" not in after, i


async def test_update_with_access_control_off(client: httpx.AsyncClient) -> None:
    created = await client.post(f"{G}/_register", json={"name": "open"})
    url = f"{G}/{created.json()['model_group_id']}"
    for body in ({"add_all_backend_roles": False}, {"access_mode": "private"}, {"backend_roles": ["a"]}):
        assert_error(await client.put(url, json=body), 400, IAE, MODEL_OFF)
    for body in ({"backend_roles": []}, {"access_mode": "nonsense"}, {}):
        response = await client.put(url, json=body)
        assert response.status_code == 200 and response.json() == {"status": "Updated"}, body
    assert (await client.get(url)).json()["access"] == "public"
    assert_error(
        await client.put(url),
        400,
        "i_o_exception",
        "Model group request has empty body",
    )
    assert_error(
        await client.put(url, json={"backend_roles": "team_a"}),
        400,
        "parsing_exception",
        "Failed to parse object: expecting token of type [START_ARRAY] but found [VALUE_STRING]",
    )
    # Registering counts add_all_backend_roles=false as an access-control parameter too.
    assert_error(
        await client.post(f"{G}/_register", json={"name": "g", "add_all_backend_roles": False}),
        400,
        IAE,
        MODEL_OFF,
    )
