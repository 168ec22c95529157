"""Resolved logins and authorization answers are cached per request path, and every security change
applies to the very next request: in the process that made it, and in one that only hears of it through
the change feed (a second node on the same store)."""

from __future__ import annotations

from pathlib import Path

import httpx

from mlgate.bootstrap import Node, build_node
from mlgate.config import Config
from mlgate.services.environment import Environment
from tests.conftest import ADMIN_PASSWORD, TEST_MASTER_KEY, ManualClock, assert_error
from tests.security.test_security_api import API, STRONG, login

OTHER = "Heron-Basalt-Lantern-9382"
SEARCH = "/_plugins/_ml/models/_search"


async def test_password_change_applies_to_the_next_request(
    admin: httpx.AsyncClient, secure_node: Node
) -> None:
    await admin.put(f"{API}/internalusers/erin", json={"password": STRONG, "backend_roles": ["x"]})
    async with await login(secure_node, "erin", STRONG) as erin:
        for _ in range(3):  # a cached login answers the same
            assert (await erin.get("/_plugins/_security/authinfo")).status_code == 200
        changed = await admin.put(f"{API}/internalusers/erin", json={"password": OTHER})
        assert changed.status_code == 200, changed.text
        assert_error(await erin.get("/_plugins/_security/authinfo"), 401, "security_exception")
    async with await login(secure_node, "erin", OTHER) as erin:
        assert (await erin.get("/_plugins/_security/authinfo")).status_code == 200
        assert (await admin.delete(f"{API}/internalusers/erin")).status_code == 200
        assert_error(await erin.get("/_plugins/_security/authinfo"), 401, "security_exception")


async def test_role_and_mapping_changes_apply_to_the_next_request(
    admin: httpx.AsyncClient, secure_node: Node
) -> None:
    await admin.put(
        f"{API}/roles/finders", json={"cluster_permissions": ["cluster:admin/opensearch/ml/models/search"]}
    )
    await admin.put(f"{API}/internalusers/fay", json={"password": STRONG, "backend_roles": ["team-f"]})
    async with await login(secure_node, "fay", STRONG) as fay:
        assert (await fay.post(SEARCH, json={})).status_code == 403
        await admin.put(f"{API}/rolesmapping/finders", json={"backend_roles": ["team-f"]})
        assert (await fay.post(SEARCH, json={})).status_code == 200
        # The role itself loses the permission; the mapping is unchanged.
        await admin.put(f"{API}/roles/finders", json={"cluster_permissions": ["cluster:monitor/health"]})
        assert (await fay.post(SEARCH, json={})).status_code == 403
        await admin.put(
            f"{API}/roles/finders", json={"cluster_permissions": ["cluster:admin/opensearch/ml/*"]}
        )
        assert (await fay.post(SEARCH, json={})).status_code == 200
        assert (await admin.delete(f"{API}/rolesmapping/finders")).status_code == 200
        assert (await fay.post(SEARCH, json={})).status_code == 403
        # The user's backend roles change: the principal is resolved again.
        await admin.put(f"{API}/rolesmapping/finders", json={"backend_roles": ["team-g"]})
        assert (await fay.post(SEARCH, json={})).status_code == 403
        await admin.put(f"{API}/internalusers/fay", json={"backend_roles": ["team-g"]})
        assert (await fay.post(SEARCH, json={})).status_code == 200
        info = (await fay.get("/_plugins/_security/authinfo")).json()
        assert info["backend_roles"] == ["team-g"] and "finders" in info["roles"]


async def test_a_change_made_elsewhere_reaches_this_process_through_the_feed(
    admin: httpx.AsyncClient, secure_node: Node, data_dir: Path
) -> None:
    # A second node on the same SQLite store, with its own caches and a clock that never triggers the
    # periodic re-read: only the change feed can tell it.
    config = Config(
        data_dir=data_dir, master_key=TEST_MASTER_KEY, security=True, initial_admin_password=ADMIN_PASSWORD
    )
    environment = Environment(node_id="other-node", node_name="other")
    other = await build_node(config, environment=environment, security_clock=ManualClock(), bcrypt_rounds=4)
    await other.start()
    assert other.follower is not None
    try:
        await admin.put(f"{API}/internalusers/gus", json={"password": STRONG})
        await other.follower.catch_up()
        async with await login(other, "gus", STRONG) as gus:
            assert (await gus.get("/_plugins/_security/authinfo")).status_code == 200
            assert (await gus.post(SEARCH, json={})).status_code == 403
            await admin.put(f"{API}/rolesmapping/ml_full_access", json={"users": ["gus"]})
            await other.follower.catch_up()
            assert (await gus.post(SEARCH, json={})).status_code == 200
            assert (await admin.put(f"{API}/internalusers/gus", json={"password": OTHER})).status_code == 200
            await other.follower.catch_up()
            assert_error(await gus.get("/_plugins/_security/authinfo"), 401, "security_exception")
    finally:
        await other.stop()
