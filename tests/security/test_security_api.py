"""The ``/_plugins/_security/api`` routes in the Security plugin's shapes, and who may call them."""

from __future__ import annotations

import httpx

from mlgate.bootstrap import Node
from mlgate.services.security_setup import USERS
from tests.conftest import assert_error

API = "/_plugins/_security/api"
STRONG = "Juniper-Cobalt-Meadow-4471"


async def login(node: Node, user: str, password: str) -> httpx.AsyncClient:
    """A client of the node logged in as ``user`` (the caller closes it)."""
    transport = httpx.ASGITransport(app=node.app)
    return httpx.AsyncClient(transport=transport, base_url="http://mlgate", auth=(user, password))


async def test_user_lifecycle_and_shapes(admin: httpx.AsyncClient, secure_node: Node) -> None:
    created = await admin.put(
        f"{API}/internalusers/alice",
        json={"password": STRONG, "backend_roles": ["team_a"], "attributes": {"dept": "ml"}},
    )
    assert created.status_code == 201
    assert created.json() == {"status": "CREATED", "message": "'alice' created."}
    got = (await admin.get(f"{API}/internalusers/alice")).json()
    assert got == {
        "alice": {
            "hash": "",
            "reserved": False,
            "hidden": False,
            "backend_roles": ["team_a"],
            "attributes": {"dept": "ml"},
            "description": "",
            "opendistro_security_roles": [],
            "static": False,
        }
    }
    listed = (await admin.get(f"{API}/internalusers")).json()
    assert set(listed) == {"admin", "alice"} and all(u["hash"] == "" for u in listed.values())
    # Stored as a salted bcrypt hash, never in clear.
    stored = await secure_node.store.load(USERS, "alice")
    assert stored is not None
    assert stored.source["hash"].startswith("$2b$") and STRONG not in str(stored.source)
    # Update without password keeps the password.
    updated = await admin.put(f"{API}/internalusers/alice", json={"backend_roles": ["team_b"]})
    assert updated.status_code == 200 and updated.json() == {"status": "OK", "message": "'alice' updated."}
    async with await login(secure_node, "alice", STRONG) as alice:
        info = (await alice.get("/_plugins/_security/authinfo")).json()
        assert info["backend_roles"] == ["team_b"] and info["roles"] == []
    deleted = await admin.delete(f"{API}/internalusers/alice")
    assert deleted.json() == {"status": "OK", "message": "'alice' deleted."}
    missing = await admin.get(f"{API}/internalusers/alice")
    assert missing.status_code == 404
    assert missing.json() == {"status": "NOT_FOUND", "message": "Resource 'alice' not found."}
    assert (await admin.delete(f"{API}/internalusers/alice")).status_code == 404


async def test_weak_passwords_and_bad_bodies_are_refused(admin: httpx.AsyncClient) -> None:
    for password, reason in (
        ("abc", "Weak password"),
        ("password1", "Weak password"),
        ("bobbybob1", "Password is similar to user name"),
    ):
        response = await admin.put(f"{API}/internalusers/bobbybob", json={"password": password})
        assert response.status_code == 400
        assert response.json() == {"status": "error", "reason": reason}
    no_password = await admin.put(f"{API}/internalusers/bob", json={"backend_roles": []})
    assert no_password.status_code == 400
    assert no_password.json()["reason"] == (
        "Please specify either 'hash' or 'password' when creating a new internal user."
    )
    unknown = await admin.put(f"{API}/internalusers/bob", json={"password": STRONG, "colour": "red"})
    assert unknown.json() == {
        "status": "error",
        "reason": "Invalid configuration",
        "invalid_keys": {"keys": "colour"},
    }
    wrong = await admin.put(f"{API}/internalusers/bob", json={"password": STRONG, "backend_roles": "x"})
    assert wrong.json() == {
        "status": "error",
        "reason": "Wrong datatype",
        "wrong_datatypes": {"backend_roles": "Array expected"},
    }
    colon = await admin.put(f"{API}/internalusers/a:b", json={"password": STRONG})
    assert colon.status_code == 400
    assert (await admin.get(f"{API}/internalusers/bob")).status_code == 404


async def test_custom_role_and_mapping_grant_predict_only(
    admin: httpx.AsyncClient, secure_node: Node
) -> None:
    role = await admin.put(
        f"{API}/roles/search_models",
        json={"cluster_permissions": ["cluster:admin/opensearch/ml/models/search"]},
    )
    assert role.status_code == 201
    assert (await admin.get(f"{API}/roles/search_models")).json()["search_models"]["cluster_permissions"] == [
        "cluster:admin/opensearch/ml/models/search"
    ]
    await admin.put(f"{API}/internalusers/carol", json={"password": STRONG, "backend_roles": ["searchers"]})
    async with await login(secure_node, "carol", STRONG) as carol:
        denied = await carol.post("/_plugins/_ml/models/_search", json={})
        assert_error(
            denied,
            403,
            "security_exception",
            "no permissions for [cluster:admin/opensearch/ml/models/search] and "
            "User [name=carol, backend_roles=[searchers], requestedTenant=null]",
        )
        mapped = await admin.put(f"{API}/rolesmapping/search_models", json={"backend_roles": ["searchers"]})
        assert mapped.status_code == 201
        assert (await carol.post("/_plugins/_ml/models/_search", json={})).status_code == 200
        assert (await carol.get("/_plugins/_ml/connectors/_search")).status_code == 403
        # PUT replaces the mapping.
        await admin.put(f"{API}/rolesmapping/search_models", json={"users": ["dave"]})
        mapping = (await admin.get(f"{API}/rolesmapping/search_models")).json()["search_models"]
        assert mapping["users"] == ["dave"] and mapping["backend_roles"] == []
        assert (await carol.post("/_plugins/_ml/models/_search", json={})).status_code == 403


async def test_builtin_roles_are_listed_and_read_only(admin: httpx.AsyncClient) -> None:
    roles = (await admin.get(f"{API}/roles")).json()
    assert roles["ml_full_access"]["cluster_permissions"] == [
        "cluster_monitor",
        "cluster:admin/opensearch/ml/*",
    ]
    assert roles["all_access"]["cluster_permissions"] == ["*"]
    assert "cluster:admin/opensearch/ml/predict" not in roles["ml_read_access"]["cluster_permissions"]
    for method in ("PUT", "DELETE"):
        response = await admin.request(
            method, f"{API}/roles/ml_full_access", json={"cluster_permissions": ["*"]}
        )
        assert response.status_code == 403
        assert response.json() == {"status": "FORBIDDEN", "message": "Resource 'ml_full_access' is reserved."}
    unknown = await admin.put(f"{API}/rolesmapping/no_such_role", json={"users": ["x"]})
    assert unknown.status_code == 404
    mappings = (await admin.get(f"{API}/rolesmapping")).json()
    assert mappings["all_access"]["backend_roles"] == ["admin"]


async def test_security_api_and_cluster_settings_are_admin_only(
    admin: httpx.AsyncClient, secure_node: Node
) -> None:
    await admin.put(
        f"{API}/internalusers/erin",
        json={"password": STRONG, "opendistro_security_roles": ["ml_full_access"]},
    )
    async with await login(secure_node, "erin", STRONG) as erin:
        for method, path, action in (
            ("GET", f"{API}/internalusers", "restapi:admin/internalusers"),
            ("PUT", f"{API}/internalusers/erin", "restapi:admin/internalusers"),
            ("GET", f"{API}/roles", "restapi:admin/roles"),
            ("PUT", f"{API}/rolesmapping/all_access", "restapi:admin/rolesmapping"),
            ("GET", "/_cluster/settings", "cluster:monitor/settings"),
            ("PUT", "/_cluster/settings", "cluster:admin/settings/update"),
        ):
            response = await erin.request(method, path, json={"users": ["erin"]})
            assert_error(
                response,
                403,
                "security_exception",
                f"no permissions for [{action}] and User [name=erin, backend_roles=[], requestedTenant=null]",
            )
        assert (await erin.get("/_plugins/_security/authinfo")).json()["roles"] == ["ml_full_access"]


async def test_own_password_change(admin: httpx.AsyncClient, secure_node: Node) -> None:
    await admin.put(f"{API}/internalusers/frank", json={"password": STRONG})
    new = "Saffron-Glacier-Tundra-5820"
    async with await login(secure_node, "frank", STRONG) as frank:
        wrong = await frank.put(f"{API}/account", json={"current_password": "nope", "password": new})
        assert wrong.status_code == 400
        assert wrong.json() == {"status": "error", "reason": "Could not validate your current password."}
        weak = await frank.put(f"{API}/account", json={"current_password": STRONG, "password": "frank123"})
        assert weak.status_code == 400
        changed = await frank.put(f"{API}/account", json={"current_password": STRONG, "password": new})
        assert changed.status_code == 200
        assert (await frank.get("/_plugins/_security/authinfo")).status_code == 401
    async with await login(secure_node, "frank", new) as frank:
        assert (await frank.get("/_plugins/_security/authinfo")).status_code == 200
