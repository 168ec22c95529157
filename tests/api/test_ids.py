"""Ids in paths on both stores: NUL is never found (each route's own 404), over 512 bytes is a 400."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mlgate.api.routes import INTERNAL, ROUTES
from mlgate.bootstrap import build_node
from mlgate.config import Config
from tests.conftest import ADMIN_PASSWORD, TEST_MASTER_KEY, assert_error
from tests.fuzz.checks import error_body_problem
from tests.storage.conftest import pg_cluster_url, pg_url

__all__ = ["pg_cluster_url", "pg_url"]  # the PostgreSQL fixtures, shared with the storage suite

USER_ROUTES = [r for r in ROUTES if "{" in r.path and r.action != INTERNAL]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str | None:
    """None for SQLite, else a fresh PostgreSQL schema (started lazily, as in the storage suite)."""
    return str(request.getfixturevalue("pg_url")) if request.param == "postgresql" else None


@pytest.fixture
async def admin_on(store_url: str | None, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An admin client of a secure node on each store."""
    config = Config(
        data_dir=tmp_path / "data",
        master_key=TEST_MASTER_KEY,
        initial_admin_password=ADMIN_PASSWORD,
        store_url=store_url,
    )
    node = await build_node(config, bcrypt_rounds=4)
    await node.start()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=node.app),
            base_url="http://mlgate",
            auth=("admin", ADMIN_PASSWORD),
        ) as http:
            yield http
    finally:
        await node.stop()


def fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


async def test_nul_in_any_path_id_is_never_a_500(admin_on: httpx.AsyncClient) -> None:
    statuses = {}
    for route in USER_ROUTES:
        body = b"{}" if route.method in ("POST", "PUT") else None
        response = await admin_on.request(
            route.method,
            fill(route.path, "a%00b"),
            content=body,
            headers={"content-type": "application/json"},
        )
        assert response.status_code < 500, (route.method, route.path, response.text)
        if response.status_code >= 400:
            path = fill(route.path, "a\0b")
            problem = error_body_problem(route.method, path, response.status_code, response.content)
            assert problem is None, (route.method, route.path, problem)
        statuses[(route.method, route.path)] = response.status_code
    assert statuses[("GET", "/_plugins/_ml/models/{model_id}")] == 404
    assert statuses[("GET", "/_plugins/_ml/connectors/{connector_id}")] == 404


async def test_nul_ids_get_each_resources_not_found(admin_on: httpx.AsyncClient) -> None:
    assert_error(
        await admin_on.get("/_plugins/_ml/models/a%00b"),
        404,
        "status_exception",
        "Failed to find model with the provided model id: a\0b",
    )
    assert_error(await admin_on.get("/_plugins/_ml/connectors/a%00b"), 404, "status_exception")
    deleted = await admin_on.delete("/_plugins/_ml/model_groups/a%00b")
    assert deleted.json()["result"] == "not_found"
    assert (await admin_on.delete("/_plugins/_security/api/roles/a%00b")).status_code == 404


async def test_a_user_or_role_named_with_nul_is_refused(admin_on: httpx.AsyncClient) -> None:
    response = await admin_on.put(
        "/_plugins/_security/api/roles/a%00b", json={"cluster_permissions": ["cluster:monitor/*"]}
    )
    assert response.status_code == 400
    assert response.json()["status"] == "BAD_REQUEST"
    assert (await admin_on.get("/_plugins/_security/api/roles/a%00b")).status_code == 404


@pytest.mark.parametrize("length", [513, 1100, 5000])
async def test_ids_over_512_bytes_are_refused_on_every_route(
    admin_on: httpx.AsyncClient, length: int
) -> None:
    long_id = "a" * length
    for route in USER_ROUTES:
        body = b"{}" if route.method in ("POST", "PUT") else None
        response = await admin_on.request(
            route.method,
            fill(route.path, long_id),
            content=body,
            headers={"content-type": "application/json"},
        )
        assert_error(
            response,
            400,
            "action_request_validation_exception",
            f"Validation Failed: 1: id [{long_id}] is too long, must be no longer than 512 bytes but was: {length};",
        )


async def test_the_limit_counts_utf8_bytes(admin_on: httpx.AsyncClient) -> None:
    at_limit = "é" * 256  # 512 bytes
    assert (await admin_on.get(f"/_plugins/_ml/models/{at_limit}")).status_code == 404
    over = "é" * 257
    response = await admin_on.get(f"/_plugins/_ml/models/{over}")
    assert_error(response, 400, "action_request_validation_exception")
    assert response.json()["error"]["reason"].endswith("but was: 514;")


async def test_credentials_are_checked_before_the_id(anonymous: httpx.AsyncClient) -> None:
    # As in OpenSearch, validation runs after authentication: no credentials, no validation message.
    assert (await anonymous.get(f"/_plugins/_ml/models/{'a' * 600}")).status_code == 401
