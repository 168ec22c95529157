"""No REST call can remove the last way in: ``admin`` and the built-in role mapping are reserved, and a
restart re-creates them when they are missing from the store."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from mlgate.bootstrap import ADMIN_PASSWORD_FILE, Node, build_node
from mlgate.config import Config
from mlgate.services.security_setup import MAPPINGS, USERS
from tests.conftest import ADMIN_PASSWORD, TEST_MASTER_KEY
from tests.security.test_security_api import API, STRONG, login

ADMIN_RESERVED = {"status": "FORBIDDEN", "message": "Resource 'admin' is reserved."}
ALL_ACCESS_RESERVED = {"status": "FORBIDDEN", "message": "Resource 'all_access' is reserved."}


async def test_admin_cannot_be_deleted_or_changed(admin: httpx.AsyncClient) -> None:
    for method, body in (
        ("DELETE", None),
        ("PUT", {"password": STRONG}),
        ("PUT", {"backend_roles": []}),
    ):
        response = await admin.request(method, f"{API}/internalusers/admin", json=body)
        assert response.status_code == 403 and response.json() == ADMIN_RESERVED
    account = await admin.put(f"{API}/account", json={"current_password": ADMIN_PASSWORD, "password": STRONG})
    assert account.status_code == 403 and account.json() == ADMIN_RESERVED
    assert (await admin.get(f"{API}/internalusers/admin")).json()["admin"]["reserved"] is True
    assert (await admin.get(f"{API}/account")).json()["is_reserved"] is True
    info = await admin.get("/_plugins/_security/authinfo")
    assert info.status_code == 200 and info.json()["roles"] == ["all_access"]


async def test_the_all_access_mapping_cannot_be_emptied_or_deleted(admin: httpx.AsyncClient) -> None:
    emptied = await admin.put(f"{API}/rolesmapping/all_access", json={"users": [], "backend_roles": []})
    assert emptied.status_code == 403 and emptied.json() == ALL_ACCESS_RESERVED
    deleted = await admin.delete(f"{API}/rolesmapping/all_access")
    assert deleted.status_code == 403 and deleted.json() == ALL_ACCESS_RESERVED
    # As in the Security plugin, a role whose mapping is reserved is not granted user by user either.
    granted = await admin.put(
        f"{API}/internalusers/gus", json={"password": STRONG, "opendistro_security_roles": ["all_access"]}
    )
    assert granted.status_code == 403 and granted.json() == ALL_ACCESS_RESERVED
    mapping = (await admin.get(f"{API}/rolesmapping/all_access")).json()["all_access"]
    assert mapping["reserved"] is True and mapping["backend_roles"] == ["admin"]
    assert (await admin.get("/_plugins/_security/authinfo")).json()["roles"] == ["all_access"]


async def test_other_users_and_mappings_stay_editable(admin: httpx.AsyncClient, secure_node: Node) -> None:
    # A second administrator: the admin backend role maps to all_access.
    created = await admin.put(
        f"{API}/internalusers/hal", json={"password": STRONG, "backend_roles": ["admin"]}
    )
    assert created.status_code == 201
    assert (await admin.get(f"{API}/internalusers/hal")).json()["hal"]["reserved"] is False
    async with await login(secure_node, "hal", STRONG) as hal:
        assert (await hal.get("/_plugins/_security/authinfo")).json()["roles"] == ["all_access"]
        assert (await hal.delete(f"{API}/internalusers/admin")).json() == ADMIN_RESERVED
    mapped = await admin.put(f"{API}/rolesmapping/ml_full_access", json={"users": ["hal"]})
    assert mapped.status_code == 201
    assert (await admin.get(f"{API}/rolesmapping/ml_full_access")).json()["ml_full_access"][
        "reserved"
    ] is False
    assert (await admin.delete(f"{API}/rolesmapping/ml_full_access")).status_code == 200
    assert (await admin.delete(f"{API}/internalusers/hal")).status_code == 200
    too_long = await admin.put(f"{API}/internalusers/{'n' * 257}", json={"password": STRONG})
    assert too_long.status_code == 400
    assert too_long.json() == {"status": "BAD_REQUEST", "message": "user name exceeds maximum length of 256."}


def _config(data_dir: Path, password: str | None) -> Config:
    return Config(
        data_dir=data_dir, master_key=TEST_MASTER_KEY, security=True, initial_admin_password=password
    )


async def _start(config: Config) -> Node:
    node = await build_node(config, bcrypt_rounds=4)
    await node.start()
    return node


async def _status(node: Node, user: str, password: str) -> int:
    async with await login(node, user, password) as http:
        return (await http.get("/_plugins/_security/authinfo")).status_code


async def test_a_restart_recreates_a_missing_admin_and_mapping_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    node = await _start(_config(data, ADMIN_PASSWORD))
    # What an older mlgate let the REST API do: admin and the all_access mapping gone.
    await node.store.delete(USERS, "admin")
    await node.store.delete(MAPPINGS, "all_access")
    await node.stop()
    caplog.set_level(logging.INFO, logger="mlgate.security")
    node = await _start(_config(data, STRONG))
    try:
        assert node.generated_admin_password is None
        assert await _status(node, "admin", STRONG) == 200
        messages = [r.getMessage() for r in caplog.records]
        recreated = "security: user 'admin' was missing; created it again with the password in MLGATE_INITIAL_ADMIN_PASSWORD"
        assert recreated in messages
        assert "security: role mapping 'all_access' was missing; restored the default" in messages
        await node.store.delete(USERS, "admin")
    finally:
        await node.stop()
    # Without MLGATE_INITIAL_ADMIN_PASSWORD: a generated password, shown once and kept as at first start.
    node = await _start(_config(data, None))
    try:
        generated = node.generated_admin_password
        assert generated is not None
        assert (data / ADMIN_PASSWORD_FILE).read_text().strip() == generated
        assert await _status(node, "admin", generated) == 200
    finally:
        await node.stop()


async def test_an_initial_password_that_is_not_admins_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    await (await _start(_config(data, ADMIN_PASSWORD))).stop()
    caplog.set_level(logging.INFO, logger="mlgate.security")
    node = await _start(_config(data, STRONG))
    try:
        assert await _status(node, "admin", ADMIN_PASSWORD) == 200  # unchanged
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("MLGATE_INITIAL_ADMIN_PASSWORD is not the password of 'admin'" in w for w in warnings)
        assert not any(STRONG in r.getMessage() or ADMIN_PASSWORD in r.getMessage() for r in caplog.records)
    finally:
        await node.stop()


async def test_patch_cannot_reach_reserved_entries(admin: httpx.AsyncClient) -> None:
    # PATCH is the third way to change an entry: it honours the same reservations as PUT and DELETE.
    attempts = (
        ("internalusers/admin", [{"op": "replace", "path": "/backend_roles", "value": []}]),
        ("internalusers", [{"op": "remove", "path": "/admin"}]),
        ("rolesmapping/all_access", [{"op": "replace", "path": "/backend_roles", "value": []}]),
        ("rolesmapping", [{"op": "remove", "path": "/all_access"}]),
    )
    for path, patch in attempts:
        response = await admin.patch(f"{API}/{path}", json=patch)
        assert response.status_code == 403, (path, response.text)
    assert (await admin.get(f"{API}/internalusers/admin")).json()["admin"]["backend_roles"] == ["admin"]
    mapping = (await admin.get(f"{API}/rolesmapping/all_access")).json()["all_access"]
    assert mapping["backend_roles"] == ["admin"]
