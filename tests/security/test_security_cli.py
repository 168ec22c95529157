"""``mlgate security …`` run as a user runs it: against a stopped node's data directory, and against a
running node (SQLite, and PostgreSQL), which picks the change up through the store's change feed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from mlgate.bootstrap import ADMIN_PASSWORD_FILE, Node, build_node
from mlgate.config import Config
from mlgate.domain.security import RoleMapping
from mlgate.services.security_setup import MAPPINGS
from tests.conftest import ADMIN_PASSWORD, TEST_MASTER_KEY, ManualClock
from tests.security.test_security_api import login
from tests.storage.conftest import pg_cluster_url, pg_url

__all__ = ["pg_cluster_url", "pg_url"]

NEW = "Marigold-Quarry-Falcon-2291"


async def mlgate_security(*args: str, stdin: str = "") -> tuple[int, str, str]:
    """``mlgate security <args>`` in a process of its own: (exit code, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLGATE_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mlgate",
        "security",
        *args,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def status_as(node: Node, user: str, password: str) -> int:
    """The status of ``GET authinfo`` as this user."""
    async with await login(node, user, password) as http:
        return (await http.get("/_plugins/_security/authinfo")).status_code


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within_s: float = 30.0) -> None:
    """Poll ``check`` until it holds (bounded: another process's change reaching this node)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"not within {within_s}s: {what}")
        await asyncio.sleep(0.05)


def config(data_dir: Path, password: str | None = ADMIN_PASSWORD, store_url: str | None = None) -> Config:
    """A secure node's configuration."""
    return Config(
        data_dir=data_dir,
        master_key=TEST_MASTER_KEY,
        security=True,
        initial_admin_password=password,
        store_url=store_url,
    )


async def started(cfg: Config, clock: ManualClock | None = None) -> Node:
    """A started node (fast bcrypt)."""
    node = await build_node(cfg, security_clock=clock or ManualClock(), bcrypt_rounds=4)
    await node.start()
    return node


async def test_reset_admin_password_against_a_stopped_node(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await (await started(config(data))).stop()
    code, out, err = await mlgate_security(
        "reset-admin-password", "--password-stdin", "--data-dir", str(data), stdin=NEW + "\n"
    )
    assert code == 0, err
    assert "mlgate: reset the password of user 'admin'" in out and NEW not in out + err
    node = await started(config(data))
    try:
        assert await status_as(node, "admin", NEW) == 200
        assert await status_as(node, "admin", ADMIN_PASSWORD) == 401
    finally:
        await node.stop()
    weak = await mlgate_security(
        "reset-admin-password", "--password-stdin", "--data-dir", str(data), stdin="admin123\n"
    )
    assert weak[0] != 0 and "mlgate: Weak password. The rule: at least 8 characters" in weak[2]
    missing = await mlgate_security("reset-admin-password", "--data-dir", str(tmp_path / "typo"))
    assert missing[0] != 0 and f"no mlgate data in {tmp_path / 'typo'}" in missing[2]
    assert not (tmp_path / "typo").exists()


async def test_a_generated_password_is_printed_once_and_keeps_the_password_file_true(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await (await started(config(data, password=None))).stop()
    file = data / ADMIN_PASSWORD_FILE
    code, out, err = await mlgate_security("reset-admin-password", "--data-dir", str(data))
    assert code == 0, err
    generated = file.read_text().strip()
    assert out.count(generated) == 1 and f"updated {file}" in out
    node = await started(config(data, password=None))
    try:
        assert await status_as(node, "admin", generated) == 200
    finally:
        await node.stop()
    code, out, err = await mlgate_security(
        "reset-admin-password", "--password-stdin", "--data-dir", str(data), stdin=NEW
    )
    assert code == 0 and f"removed the outdated {file}" in out and not file.exists()


async def test_reset_role_mappings_restores_all_access(tmp_path: Path) -> None:
    data = tmp_path / "data"
    node = await started(config(data))
    # What an older mlgate let the REST API do: the mapping emptied, admin without all_access.
    await node.store.save(MAPPINGS, "all_access", RoleMapping("all_access").to_document())
    await node.stop()
    code, out, err = await mlgate_security("reset-role-mappings", "--data-dir", str(data))
    assert code == 0, err
    assert "mlgate: reset the role mappings of all_access to their defaults" in out
    node = await started(config(data))
    try:
        async with await login(node, "admin", ADMIN_PASSWORD) as admin:
            assert (await admin.get("/_plugins/_security/authinfo")).json()["roles"] == ["all_access"]
    finally:
        await node.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_args(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Config, list[str]]:
    """A node's configuration and the matching ``mlgate security`` flags, on each backend."""
    if request.param == "postgresql":
        url = str(request.getfixturevalue("pg_url"))
        return config(tmp_path / "pg-node", store_url=url), ["--store", url]
    return config(tmp_path / "data"), ["--data-dir", str(tmp_path / "data")]


async def test_a_running_node_picks_up_the_reset(store_args: tuple[Config, list[str]]) -> None:
    cfg, flags = store_args
    node = await started(cfg)  # the security clock stands still: only the change feed can tell the node
    try:
        assert await status_as(node, "admin", ADMIN_PASSWORD) == 200
        code, _, err = await mlgate_security("reset-admin-password", "--password-stdin", *flags, stdin=NEW)
        assert code == 0, err

        async def old_refused() -> bool:
            return await status_as(node, "admin", ADMIN_PASSWORD) == 401

        await eventually(old_refused, "the old password refused by the running node")
        assert await status_as(node, "admin", NEW) == 200
    finally:
        await node.stop()
