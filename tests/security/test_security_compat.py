"""Security API details third-party suites rely on: the legacy ``/_opendistro/_security`` prefix, every
field of a role mapping, and names or passwords that used to end in a 500."""

from __future__ import annotations

import httpx

from mlgate.bootstrap import Node
from mlgate.domain.security_names import MAX_NAME_LENGTH
from tests.security.test_security_api import login

API = "/_plugins/_security/api"
LEGACY = "/_opendistro/_security"
STRONG = "Juniper-Cobalt-Meadow-4471"
WARNING = (
    '299 OpenSearch-3.9.0-unknown "[_opendistro/_security] is a deprecated endpoint path. '
    'Please use _plugins/_security instead."'
)


async def test_legacy_prefix_serves_every_security_route(admin: httpx.AsyncClient, secure_node: Node) -> None:
    # What ML Commons' own REST test harness sends (MLCommonsRestTestCase.createUser / createRoleMapping).
    role = {"cluster_permissions": ["cluster:admin/opensearch/ml/predict"], "index_permissions": []}
    created = await admin.put(f"{LEGACY}/api/roles/predictor", json=role)
    assert created.status_code == 201 and created.headers["warning"] == WARNING
    user = {"password": STRONG, "backend_roles": ["team_a"], "attributes": {}}
    assert (await admin.put(f"{LEGACY}/api/internalusers/alice", json=user)).status_code == 201
    mapping = {"backend_roles": [], "hosts": [], "users": ["alice"]}
    assert (await admin.put(f"{LEGACY}/api/rolesmapping/predictor", json=mapping)).status_code == 201
    # Both prefixes see the same entries.
    assert (await admin.get(f"{API}/rolesmapping/predictor")).json()["predictor"]["users"] == ["alice"]
    for path in ("internalusers", "internalusers/alice", "roles", "roles/predictor", "rolesmapping"):
        legacy, current = await admin.get(f"{LEGACY}/api/{path}"), await admin.get(f"{API}/{path}")
        assert legacy.status_code == 200 and legacy.json() == current.json(), path
        assert legacy.headers["warning"] == WARNING and "warning" not in current.headers
    patched = await admin.patch(
        f"{LEGACY}/api/internalusers/alice", json=[{"op": "add", "path": "/description", "value": "legacy"}]
    )
    assert patched.json() == {"status": "OK", "message": "'alice' updated."}
    async with await login(secure_node, "alice", STRONG) as alice:
        for method in ("GET", "POST"):
            for prefix in (LEGACY, "/_plugins/_security"):
                info = await alice.request(method, f"{prefix}/authinfo")
                assert info.status_code == 200 and info.json()["roles"] == ["predictor"], (method, prefix)
        account = await alice.get(f"{LEGACY}/api/account")
        assert account.json()["user_name"] == "alice" and account.headers["warning"] == WARNING
    missing = await admin.get(f"{LEGACY}/api/internalusers/nobody")
    assert missing.status_code == 404 and missing.headers["warning"] == WARNING
    assert (await admin.delete(f"{LEGACY}/api/internalusers/alice")).json()["message"] == "'alice' deleted."


async def test_legacy_prefix_needs_security_like_the_current_one(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{LEGACY}/api/internalusers")
    assert response.status_code == 400 and "warning" not in response.headers
    assert response.json() == {
        "error": f"no handler found for uri [{LEGACY}/api/internalusers] and method [GET]",
        "status": 400,
    }


async def test_role_mapping_takes_every_field_its_get_shows(
    admin: httpx.AsyncClient, secure_node: Node
) -> None:
    body = {
        "users": [],
        "backend_roles": [],
        "and_backend_roles": ["team_a", "region_*"],
        "hosts": [],
        "description": "team_a members in any region",
    }
    created = await admin.put(f"{API}/rolesmapping/ml_read_access", json=body)
    assert created.status_code == 201, created.text
    got = (await admin.get(f"{API}/rolesmapping/ml_read_access")).json()["ml_read_access"]
    assert got == {**body, "reserved": False, "hidden": False}
    # and_backend_roles: every pattern must match one of the user's backend roles.
    users = {"both": ["team_a", "region_eu"], "one": ["team_a"]}
    for name, roles in users.items():
        put = await admin.put(
            f"{API}/internalusers/{name}", json={"password": STRONG, "backend_roles": roles}
        )
        assert put.status_code == 201
    for name, expected in (("both", ["ml_read_access"]), ("one", [])):
        async with await login(secure_node, name, STRONG) as http:
            assert (await http.get("/_plugins/_security/authinfo")).json()["roles"] == expected, name
    # reserved / hidden are for a super-admin certificate only, as in OpenSearch.
    flagged = await admin.put(
        f"{API}/rolesmapping/ml_read_access", json={**got, "reserved": False, "hidden": False}
    )
    assert flagged.status_code == 400
    assert flagged.json() == {
        "status": "error",
        "reason": "Invalid configuration",
        "invalid_keys": {"keys": "hidden,reserved"},
    }
    no_principal = await admin.put(f"{API}/rolesmapping/ml_read_access", json={"description": "nobody"})
    assert no_principal.status_code == 400
    assert no_principal.json()["specify_one_of"] == {"keys": "and_backend_roles,backend_roles,hosts,users"}


async def test_empty_password_is_too_short_not_a_500(admin: httpx.AsyncClient) -> None:
    response = await admin.put(f"{API}/internalusers/x", json={"password": ""})
    assert response.status_code == 400
    assert response.json() == {"status": "error", "reason": "Password is too short"}


async def test_names_no_entry_can_have(admin: httpx.AsyncClient) -> None:
    long = "r" * (MAX_NAME_LENGTH + 1)
    for path, message in (
        ("roles/a%00b", "role name must not contain control characters."),
        ("roles/a%0Ab", "role name must not contain control characters."),
        (f"roles/{long}", f"role name exceeds maximum length of {MAX_NAME_LENGTH}."),
        ("rolesmapping/a%00b", "rolesmapping name must not contain control characters."),
    ):
        response = await admin.put(f"{API}/{path}", json={"cluster_permissions": [], "users": ["u"]})
        assert response.status_code == 400, path
        assert response.json() == {"status": "BAD_REQUEST", "message": message}
    for path in ("roles/a%00b", "rolesmapping/a%00b", "internalusers/a%00b"):
        response = await admin.delete(f"{API}/{path}")
        assert response.status_code == 404, path
