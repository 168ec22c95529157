"""Security entry names that no store can hold (a NUL on PostgreSQL) are refused by the security API on
every backend: 400 on create, 404 on delete — never a 500 from the store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import ADMIN_PASSWORD, TEST_MASTER_KEY

from mlgate.bootstrap import build_node
from mlgate.config import Config

API = "/_plugins/_security/api"


@pytest.fixture
async def admin_on_backend(store_target: str | Path, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    store_url = store_target if isinstance(store_target, str) else None
    config = Config(
        data_dir=tmp_path / "node",
        master_key=TEST_MASTER_KEY,
        security=True,
        initial_admin_password=ADMIN_PASSWORD,
        store_url=store_url,
    )
    node = await build_node(config, bcrypt_rounds=4)
    await node.start()
    transport = httpx.ASGITransport(app=node.app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://mlgate", auth=("admin", ADMIN_PASSWORD)
        ) as http:
            yield http
    finally:
        await node.stop()


async def test_nul_in_security_names(admin_on_backend: httpx.AsyncClient) -> None:
    http = admin_on_backend
    for path, body, status in (
        ("roles/a%00b", {"cluster_permissions": []}, 400),
        ("rolesmapping/a%00b", {"users": ["u"]}, 400),
        ("internalusers/a%00b", {"password": "Juniper-Cobalt-Meadow-4471"}, 400),
    ):
        response = await http.put(f"{API}/{path}", json=body)
        assert response.status_code == status, (path, response.text)
        assert (await http.delete(f"{API}/{path}")).status_code == 404, path
        assert (await http.get(f"{API}/{path}")).status_code == 404, path
    patched = await http.patch(
        f"{API}/roles", json=[{"op": "add", "path": "/a\u0000b", "value": {"cluster_permissions": []}}]
    )
    assert patched.status_code == 400
    assert patched.json() == {
        "status": "BAD_REQUEST",
        "message": "role name must not contain control characters.",
    }
