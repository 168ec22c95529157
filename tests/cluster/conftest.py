"""Several real ``mlgate serve`` processes: nodes on one PostgreSQL, or workers of one node."""

from __future__ import annotations

import base64
import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.smoke.conftest import Process, free_port, mock_provider_process, start, stop
from tests.storage.conftest import pg_cluster_url, pg_url

__all__ = ["mock_provider_process", "pg_cluster_url", "pg_url"]

ADMIN_PASSWORD = "Vq8#mZt2!pLw9xR4-cluster"
MASTER_KEY = base64.b64encode(b"c" * 32).decode()
AUTH = "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()


def call(base: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One request as curl would send it (a new connection each time), as the admin user."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", "Authorization": AUTH},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw.strip().startswith((b"{", b"[")) else raw.decode()
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


# How long a test waits for another process to catch up. Generous on purpose: the change feed normally
# takes well under a second, but CI is a busy 2-core machine and a wait is a bound, not a speed check.
WAIT_S = 30.0


def eventually(check: Callable[[], bool], *, within_s: float = WAIT_S, what: str) -> None:
    """Poll ``check`` until it holds, failing after ``within_s`` (bounded waiting for other processes)."""
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within_s}s: {what}")
        time.sleep(0.05)


def node_env(tmp: Path, name: str, **extra: str) -> dict[str, str]:
    """Environment of one node: its own data directory, the cluster's master key and admin password."""
    return dict(
        os.environ,
        MLGATE_DATA_DIR=str(tmp / name),
        MLGATE_MASTER_KEY=MASTER_KEY,
        MLGATE_INITIAL_ADMIN_PASSWORD=ADMIN_PASSWORD,
        MLGATE_NODE_NAME=name,
        MLGATE_HEARTBEAT_INTERVAL_S="0.2",
        MLGATE_HEARTBEAT_EXPIRY_MS="1500",
        **extra,
    )


def start_node(tmp: Path, name: str, args: list[str], **extra: str) -> Process:
    """``mlgate serve`` with these arguments, waiting until it answers."""
    port = free_port()
    env = node_env(tmp, name, MLGATE_PORT=str(port), **extra)
    process = start(
        ["serve", *args], f"http://127.0.0.1:{port}/_cluster/health", port, tmp / f"{name}.log", env
    )
    process.url = f"http://127.0.0.1:{port}"
    return process


def kill_hard(process: Process) -> None:
    """kill -9: no clean shutdown, the heartbeat just stops."""
    os.kill(process.proc.pid, signal.SIGKILL)
    process.proc.wait(timeout=10)
    process.handle.close()


@pytest.fixture
def nodes_dir(tmp_path: Path) -> Path:
    """Where the nodes keep their data directories and logs."""
    return tmp_path


def stop_all(processes: list[Process]) -> None:
    """Stop every process still running."""
    for process in processes:
        if process.proc.poll() is None:
            stop(process)


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Processes a test starts; all stopped at the end."""
    started: list[Process] = []
    yield started
    stop_all(started)
