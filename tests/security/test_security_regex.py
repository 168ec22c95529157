"""``/regex/`` patterns in roles and role mappings run in linear time (issue 11 item 1): what RE2 cannot
run, or what does not compile, is refused when written; a hostile pattern costs a login nothing."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mlgate.bootstrap import Node
from mlgate.domain.linear_regex import NOT_LINEAR
from tests.security.test_security_api import login

API = "/_plugins/_security/api"
STRONG = "Juniper-Cobalt-Meadow-4471"
ML = "cluster:admin/opensearch/ml"
BOUND_S = 60.0  # generous: only a hang would reach it


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        (
            "rolesmapping/ml_read_access",
            {"users": ["alice", r"/(a+)\1/"]},
            rf'Invalid regex pattern: /(a+)\1/; the backreference "\1" {NOT_LINEAR}',
        ),
        (
            "rolesmapping/ml_read_access",
            {"backend_roles": ["/team_(?!b).*/"]},
            f'Invalid regex pattern: /team_(?!b).*/; the lookahead "(?!" {NOT_LINEAR}',
        ),
        (
            "rolesmapping/ml_read_access",
            {"and_backend_roles": ["/(unclosed/"]},
            "Invalid regex pattern: /(unclosed/; missing ): (unclosed",
        ),
        (
            "roles/predictor",
            {"cluster_permissions": [f"/{ML}/(?<=ml/)predict/"]},
            f'Invalid regex pattern: /{ML}/(?<=ml/)predict/; the lookbehind "(?<=" {NOT_LINEAR}',
        ),
    ],
)
async def test_put_refuses_patterns_that_cannot_run(
    admin: httpx.AsyncClient, path: str, body: dict[str, list[str]], reason: str
) -> None:
    before = (await admin.get(f"{API}/{path.split('/')[0]}")).json()
    response = await admin.put(f"{API}/{path}", json=body)
    assert response.status_code == 400, response.text
    assert response.json() == {"status": "error", "reason": reason}
    assert (await admin.get(f"{API}/{path.split('/')[0]}")).json() == before


async def test_patch_refuses_them_too(admin: httpx.AsyncClient) -> None:
    operations = [{"op": "add", "path": "/ml_read_access", "value": {"users": ["/(?>a|ab)c/"]}}]
    response = await admin.patch(f"{API}/rolesmapping", json=operations)
    assert response.status_code == 400, response.text
    assert 'the atomic group "(?>"' in response.json()["reason"]
    assert "ml_read_access" not in (await admin.get(f"{API}/rolesmapping")).json()


async def test_a_hostile_user_pattern_costs_a_login_nothing(
    admin: httpx.AsyncClient, secure_node: Node
) -> None:
    # `(a+)+b` against a name of a's that ends otherwise backtracks ~2^n steps on every login.
    name = "a" * 200 + "c"
    created = await admin.put(f"{API}/internalusers/{name}", json={"password": STRONG})
    assert created.status_code == 201, created.text
    mapped = await admin.put(f"{API}/rolesmapping/ml_read_access", json={"users": ["/(a+)+b/", "/a+c/"]})
    assert mapped.status_code == 201, mapped.text
    async with await login(secure_node, name, STRONG) as user:
        info = await asyncio.wait_for(user.get("/_plugins/_security/authinfo"), BOUND_S)
    assert info.status_code == 200, info.text
    assert info.json()["roles"] == ["ml_read_access"]  # mapped by the second pattern
