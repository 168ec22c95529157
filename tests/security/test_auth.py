"""Authentication through the real app: Basic credentials, 401s, throttling with a manual clock."""

from __future__ import annotations

import base64

import httpx

from mlgate.bootstrap import Node
from tests.conftest import ADMIN_PASSWORD, ManualClock, assert_error

SEARCH = "/_plugins/_ml/models/_search"


def basic(user: str, password: str) -> dict[str, str]:
    """An Authorization header."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def test_no_credentials_is_401_with_the_basic_challenge(anonymous: httpx.AsyncClient) -> None:
    for method, path in (("GET", "/"), ("POST", SEARCH), ("GET", "/_plugins/_security/authinfo")):
        response = await anonymous.request(method, path)
        assert_error(response, 401, "security_exception", "Unauthorized")
        assert response.headers["www-authenticate"] == 'Basic realm="OpenSearch Security"'


async def test_wrong_or_malformed_credentials_are_401(anonymous: httpx.AsyncClient) -> None:
    for headers in (
        basic("admin", "wrong"),
        basic("nobody", ADMIN_PASSWORD),
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Bearer abc"},
    ):
        response = await anonymous.post(SEARCH, headers=headers)
        assert_error(response, 401, "security_exception", "Unauthorized")


async def test_admin_logs_in(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/_plugins/_security/authinfo", headers=basic("admin", ADMIN_PASSWORD))
    assert response.status_code == 200
    info = response.json()
    assert info["user_name"] == "admin"
    assert info["backend_roles"] == ["admin"]
    assert info["roles"] == ["all_access"]
    assert info["user"] == "User [name=admin, backend_roles=[admin], requestedTenant=null]"
    account = await anonymous.get("/_plugins/_security/api/account", headers=basic("admin", ADMIN_PASSWORD))
    assert account.json()["user_name"] == "admin"


async def test_ten_failures_block_the_user_even_with_the_right_password(
    anonymous: httpx.AsyncClient, clock: ManualClock
) -> None:
    right = basic("admin", ADMIN_PASSWORD)
    for _ in range(10):
        assert (await anonymous.post(SEARCH, headers=basic("admin", "guess"))).status_code == 401
    blocked = await anonymous.post(SEARCH, headers=right)
    assert_error(blocked, 429, "security_exception", "Too many failed login attempts; try again later")
    assert blocked.headers["retry-after"] == "60"
    clock.advance(45)
    assert (await anonymous.post(SEARCH, headers=right)).headers["retry-after"] == "15"
    clock.advance(15)
    assert (await anonymous.post(SEARCH, headers=right)).status_code == 200


async def test_a_success_resets_the_users_count(anonymous: httpx.AsyncClient) -> None:
    for _ in range(9):
        assert (await anonymous.post(SEARCH, headers=basic("admin", "guess"))).status_code == 401
    assert (await anonymous.post(SEARCH, headers=basic("admin", ADMIN_PASSWORD))).status_code == 200
    for _ in range(9):
        assert (await anonymous.post(SEARCH, headers=basic("admin", "guess"))).status_code == 401
    assert (await anonymous.post(SEARCH, headers=basic("admin", ADMIN_PASSWORD))).status_code == 200


async def test_one_address_trying_many_users_is_blocked(secure_node: Node, admin: httpx.AsyncClient) -> None:
    spray = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=secure_node.app, client=("10.1.2.3", 5000)),
        base_url="http://mlgate",
    )
    async with spray:
        for i in range(100):
            assert (await spray.post(SEARCH, headers=basic(f"user{i}", "guess"))).status_code == 401
        blocked = await spray.post(SEARCH, headers=basic("admin", ADMIN_PASSWORD))
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) <= 60
    # Another address is not affected, and neither is the admin account itself.
    assert (await admin.post(SEARCH)).status_code == 200


async def test_security_off_serves_everyone_and_has_no_security_routes(client: httpx.AsyncClient) -> None:
    assert (await client.post(SEARCH)).status_code == 200
    response = await client.get("/_plugins/_security/authinfo")
    assert response.status_code == 400
    assert response.json()["error"].startswith("no handler found for uri")
