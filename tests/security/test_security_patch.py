"""``PATCH`` (RFC 6902) on internal users, roles and role mappings, bulk and single, in the Security
plugin's shapes and with the validation a PUT gets."""

from __future__ import annotations

from typing import Any

import httpx

from mlgate.bootstrap import Node
from mlgate.services.security import MAPPINGS, USERS
from tests.conftest import assert_error
from tests.security.test_security_api import login

API = "/_plugins/_security/api"
STRONG = "Juniper-Cobalt-Meadow-4471"
OTHER = "Pelican-Granite-Orchard-9083"


def bad(message: str) -> dict[str, str]:
    return {"status": "BAD_REQUEST", "message": message}


async def patch(http: httpx.AsyncClient, path: str, operations: Any) -> httpx.Response:
    return await http.patch(f"{API}/{path}", json=operations)


async def make_alice(admin: httpx.AsyncClient) -> None:
    body = {"password": STRONG, "backend_roles": ["team_a"], "attributes": {"dept": "ml"}}
    assert (await admin.put(f"{API}/internalusers/alice", json=body)).status_code == 201


async def test_single_user_add_replace_remove(admin: httpx.AsyncClient, secure_node: Node) -> None:
    await make_alice(admin)
    response = await patch(
        admin,
        "internalusers/alice",
        [
            {"op": "add", "path": "/backend_roles/-", "value": "team_b"},
            {"op": "add", "path": "/description", "value": "patched"},
            {"op": "replace", "path": "/backend_roles/0", "value": "team_c"},
            {"op": "remove", "path": "/attributes"},
        ],
    )
    assert response.status_code == 200
    assert response.json() == {"status": "OK", "message": "'alice' updated."}
    got = (await admin.get(f"{API}/internalusers/alice")).json()["alice"]
    assert got["backend_roles"] == ["team_c", "team_b"]
    assert got["description"] == "patched" and got["attributes"] == {}
    # The password was not touched: alice still logs in with it, and sees her new backend roles.
    async with await login(secure_node, "alice", STRONG) as alice:
        info = (await alice.get("/_plugins/_security/authinfo")).json()
    assert info["backend_roles"] == ["team_c", "team_b"]


async def test_bulk_creates_changes_and_deletes_users(admin: httpx.AsyncClient, secure_node: Node) -> None:
    await make_alice(admin)
    response = await patch(
        admin,
        "internalusers",
        [
            {"op": "add", "path": "/bob", "value": {"password": OTHER, "backend_roles": ["team_b"]}},
            {"op": "replace", "path": "/alice/backend_roles", "value": ["team_z"]},
        ],
    )
    assert response.status_code == 200 and response.json() == {"status": "OK", "message": "Resource updated."}
    stored = await secure_node.store.load(USERS, "bob")
    assert stored is not None and stored.source["hash"].startswith("$2b$")
    assert OTHER not in str(stored.source)
    async with await login(secure_node, "bob", OTHER) as bob:
        assert (await bob.get("/_plugins/_security/authinfo")).json()["backend_roles"] == ["team_b"]
    alice = (await admin.get(f"{API}/internalusers/alice")).json()["alice"]
    assert alice["backend_roles"] == ["team_z"]
    removed = await patch(admin, "internalusers", [{"op": "remove", "path": "/bob"}])
    assert removed.json() == {"status": "OK", "message": "Resource updated."}
    assert (await admin.get(f"{API}/internalusers/bob")).status_code == 404
    async with await login(secure_node, "bob", OTHER) as bob:
        assert (await bob.get("/_plugins/_security/authinfo")).status_code == 401


async def test_patched_password_is_checked_and_hashed(admin: httpx.AsyncClient, secure_node: Node) -> None:
    await make_alice(admin)
    changed = await patch(admin, "internalusers/alice", [{"op": "add", "path": "/password", "value": OTHER}])
    assert changed.json() == {"status": "OK", "message": "'alice' updated."}
    async with await login(secure_node, "alice", OTHER) as alice:
        assert (await alice.get("/_plugins/_security/authinfo")).status_code == 200
    stored = await secure_node.store.load(USERS, "alice")
    assert stored is not None and OTHER not in str(stored.source)
    # A weak password refuses the whole patch: the other operation is not applied either.
    weak = await patch(
        admin,
        "internalusers",
        [
            {"op": "add", "path": "/alice/description", "value": "not applied"},
            {"op": "add", "path": "/alice/password", "value": "password1"},
        ],
    )
    assert weak.status_code == 400 and weak.json() == {"status": "error", "reason": "Weak password"}
    empty = await patch(admin, "internalusers/alice", [{"op": "add", "path": "/password", "value": ""}])
    assert empty.status_code == 400 and empty.json() == {"status": "error", "reason": "Password is too short"}
    assert (await admin.get(f"{API}/internalusers/alice")).json()["alice"]["description"] == ""
    # A new user needs a password, as with PUT.
    no_password = await patch(admin, "internalusers", [{"op": "add", "path": "/carol", "value": {}}])
    assert no_password.json() == {"status": "error", "reason": "Request body required for this action."}
    roles_only = await patch(
        admin, "internalusers", [{"op": "add", "path": "/carol", "value": {"backend_roles": ["x"]}}]
    )
    assert roles_only.status_code == 400
    assert roles_only.json()["reason"] == (
        "Please specify either 'hash' or 'password' when creating a new internal user."
    )


async def test_the_hash_can_neither_be_set_nor_read(admin: httpx.AsyncClient, secure_node: Node) -> None:
    await make_alice(admin)
    stored = await secure_node.store.load(USERS, "alice")
    assert stored is not None
    stored_hash = stored.source["hash"]
    forged = "$2b$04$" + "a" * 53
    response = await patch(
        admin, "internalusers/alice", [{"op": "replace", "path": "/hash", "value": forged}]
    )
    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "reason": "Invalid configuration",
        "invalid_keys": {"keys": "hash"},
    }
    probes = [
        [{"op": "add", "path": "/hash/x", "value": 1}],
        [{"op": "replace", "path": "/alice/hash/0", "value": 1}],
        [{"op": "remove", "path": "/alice/nothing/here"}],
        [{"op": "test", "path": "/alice/hash", "value": stored_hash}],
        [{"op": "copy", "from": "/alice/hash", "path": "/alice/description"}],
    ]
    for operations in probes:
        for path in ("internalusers", "internalusers/alice"):
            answer = await patch(admin, path, operations)
            assert answer.status_code in (400, 404), answer.text
            assert stored_hash not in answer.text and stored_hash[7:] not in answer.text
    after = await secure_node.store.load(USERS, "alice")
    assert after is not None and after.source["hash"] == stored_hash


async def test_unsupported_operations_and_malformed_patches(admin: httpx.AsyncClient) -> None:
    await make_alice(admin)
    unsupported = "Unsupported patch operation: {}. Supported are: add,replace,remove"
    for op in ("test", "move", "copy"):
        operation = {"op": op, "path": "/alice/description", "value": "", "from": "/alice/attributes"}
        response = await patch(admin, "internalusers", [operation])
        assert response.status_code == 400 and response.json() == bad(unsupported.format(op))
    cases: list[tuple[str, Any, str]] = [
        ("internalusers", {"op": "add", "path": "/x", "value": 1}, "Wrong request body"),
        ("internalusers", [], "Wrong request body"),
        ("internalusers", [{"path": "/alice"}], "Wrong request body"),
        ("internalusers", [{"op": "remove"}], "Invalid JSON Patch payload (missing 'path' field)"),
        ("internalusers", [{"op": "add", "path": "/bob"}], "Invalid JSON Patch payload (missing 'value' field)"),
        ("internalusers", [{"op": "add", "path": 5, "value": 1}], "Invalid JSON Patch payload (non-text 'path' field)"),
        ("internalusers", [{"op": "remove", "path": "/a"}, 3], "Invalid JSON Patch payload (not an object)"),
        ("internalusers", [{"op": "remove", "path": "alice"}], "Missing leading slash"),
        ("internalusers", [{"op": "remove", "path": "/a~2b"}], "Invalid escape sequence ~2 at index 1"),
        ("internalusers", [{"op": "remove", "path": ""}], "Cannot remove document root"),
        ("internalusers/alice", [{"op": "replace", "path": "", "value": {}}], "Cannot replace root document"),
        ("internalusers/alice", [{"op": "replace", "path": "/description", "value": "d"}], 'Missing field "description"'),
        ("internalusers/alice", [{"op": "add", "path": "/opendistro_security_roles/-", "value": "r"}], 'Missing field "opendistro_security_roles"'),
        ("internalusers/alice", [{"op": "add", "path": "/backend_roles/5", "value": "r"}], "Array index 5 out of bounds"),
        ("internalusers/alice", [{"op": "replace", "path": "/backend_roles/1", "value": "r"}], "Array index 1 out of bounds"),
        ("internalusers/alice", [{"op": "add", "path": "/backend_roles/x", "value": "r"}], 'Can\'t reference field "x" on array'),
        ("internalusers/alice", [{"op": "add", "path": "/attributes/dept/x", "value": "r"}], "Cannot reference past scalar value"),
        ("internalusers", [{"op": "add", "path": "/nobody/backend_roles", "value": []}], 'Missing field "nobody"'),
    ]  # fmt: skip
    for path, operations, message in cases:
        response = await patch(admin, path, operations)
        assert response.status_code == 400, (operations, response.text)
        assert response.json() == bad(message), operations
    garbled = await admin.patch(
        f"{API}/internalusers", content=b"[{", headers={"content-type": "application/json"}
    )
    assert garbled.status_code == 400
    assert garbled.json()["status"] == "BAD_REQUEST"
    assert garbled.json()["message"].startswith("Error in JSON patch: ")


async def test_no_change_and_missing_entries(admin: httpx.AsyncClient) -> None:
    await make_alice(admin)
    same = [{"op": "replace", "path": "/backend_roles", "value": ["team_a"]}]
    for path, operations in (
        ("internalusers/alice", same),
        ("internalusers", [{"op": "replace", "path": "/alice/backend_roles", "value": ["team_a"]}]),
        ("internalusers", [{"op": "remove", "path": "/nobody"}]),
    ):
        response = await patch(admin, path, operations)
        assert response.status_code == 200
        assert response.json() == {"status": "OK", "message": "No updates required"}
    for path, message in (
        ("internalusers/nobody", "user 'nobody' not found."),
        ("roles/nothing", "role 'nothing' not found."),
        ("rolesmapping/nothing", "rolesmapping 'nothing' not found."),
    ):
        response = await patch(admin, path, [{"op": "add", "path": "/description", "value": "d"}])
        assert response.status_code == 404
        assert response.json() == {"status": "NOT_FOUND", "message": message}


async def test_roles_patch_and_builtin_roles_stay_read_only(admin: httpx.AsyncClient) -> None:
    created = await patch(
        admin,
        "roles",
        [
            {
                "op": "add",
                "path": "/predictor",
                "value": {"cluster_permissions": ["cluster:admin/opensearch/ml/predict"]},
            }
        ],
    )
    assert created.json() == {"status": "OK", "message": "Resource updated."}
    grown = await patch(
        admin,
        "roles/predictor",
        [
            {
                "op": "add",
                "path": "/cluster_permissions/-",
                "value": "cluster:admin/opensearch/ml/models/get",
            },
            {"op": "add", "path": "/description", "value": "predict and read"},
        ],
    )
    assert grown.json() == {"status": "OK", "message": "'predictor' updated."}
    role = (await admin.get(f"{API}/roles/predictor")).json()["predictor"]
    assert role["cluster_permissions"] == [
        "cluster:admin/opensearch/ml/predict",
        "cluster:admin/opensearch/ml/models/get",
    ]
    assert role["description"] == "predict and read"
    wrong = await patch(
        admin, "roles/predictor", [{"op": "replace", "path": "/cluster_permissions", "value": "x"}]
    )
    assert wrong.status_code == 400
    assert wrong.json() == {
        "status": "error",
        "reason": "Wrong datatype",
        "wrong_datatypes": {"cluster_permissions": "Array expected"},
    }
    unknown = await patch(admin, "roles/predictor", [{"op": "add", "path": "/colour", "value": "red"}])
    assert unknown.json()["invalid_keys"] == {"keys": "colour"}
    static = {"status": "FORBIDDEN", "message": "Resource 'all_access' is static."}
    for path, operations in (
        ("roles/all_access", [{"op": "add", "path": "/description", "value": "x"}]),
        ("roles", [{"op": "remove", "path": "/all_access"}]),
        ("roles", [{"op": "add", "path": "/all_access", "value": {"cluster_permissions": []}}]),
    ):
        response = await patch(admin, path, operations)
        assert response.status_code == 403 and response.json() == static, path
    nul = await patch(
        admin, "roles", [{"op": "add", "path": "/a\u0000b", "value": {"cluster_permissions": []}}]
    )
    assert nul.status_code == 400
    assert nul.json() == bad("role name must not contain control characters.")
    removed = await patch(admin, "roles", [{"op": "remove", "path": "/predictor"}])
    assert removed.status_code == 200
    assert (await admin.get(f"{API}/roles/predictor")).status_code == 404


async def test_mapping_patch_grants_the_role(admin: httpx.AsyncClient, secure_node: Node) -> None:
    await make_alice(admin)
    async with await login(secure_node, "alice", STRONG) as alice:
        assert (await alice.get("/_plugins/_ml/models/_search")).status_code == 403
        created = await patch(
            admin, "rolesmapping", [{"op": "add", "path": "/ml_read_access", "value": {"users": ["alice"]}}]
        )
        assert created.json() == {"status": "OK", "message": "Resource updated."}
        assert (await alice.get("/_plugins/_ml/models/_search")).status_code == 200
        mapping = await patch(
            admin,
            "rolesmapping/ml_read_access",
            [
                {"op": "replace", "path": "/users", "value": ["somebody_else"]},
                {"op": "add", "path": "/and_backend_roles", "value": ["team_a", "team_*"]},
            ],
        )
        assert mapping.json() == {"status": "OK", "message": "'ml_read_access' updated."}
        # Held now through and_backend_roles: every pattern matches one of alice's backend roles.
        info = (await alice.get("/_plugins/_security/authinfo")).json()
        assert info["roles"] == ["ml_read_access"]
    stored = await secure_node.store.load(MAPPINGS, "ml_read_access")
    assert stored is not None and stored.source["and_backend_roles"] == ["team_a", "team_*"]
    missing_role = await patch(
        admin, "rolesmapping", [{"op": "add", "path": "/no_such_role", "value": {"users": ["alice"]}}]
    )
    assert missing_role.status_code == 404
    assert missing_role.json() == {"status": "NOT_FOUND", "message": "role 'no_such_role' not found."}
    emptied = await patch(
        admin,
        "rolesmapping/ml_read_access",
        [
            {"op": "add", "path": "/description", "value": "nobody left"},
            {"op": "remove", "path": "/users"},
            {"op": "remove", "path": "/and_backend_roles"},
        ],
    )
    assert emptied.status_code == 400
    assert emptied.json() == {
        "status": "error",
        "reason": "Invalid configuration",
        "specify_one_of": {"keys": "and_backend_roles,backend_roles,hosts,users"},
    }


async def test_patch_is_admin_only(admin: httpx.AsyncClient, secure_node: Node) -> None:
    await make_alice(admin)
    async with await login(secure_node, "alice", STRONG) as alice:
        response = await alice.patch(
            f"{API}/internalusers/alice", json=[{"op": "remove", "path": "/backend_roles"}]
        )
    assert_error(response, 403, "security_exception")
    assert (await admin.get(f"{API}/internalusers/alice")).json()["alice"]["backend_roles"] == ["team_a"]
