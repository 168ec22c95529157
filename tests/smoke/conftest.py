"""Start ``mlgate serve`` and ``mlgate mock-provider`` as a user would: separate processes, real ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from tests.conftest import TEST_MASTER_KEY

# The smoke server runs secure, as `mlgate serve` does by default; its admin password comes from the
# environment the way an operator sets it.
ADMIN_PASSWORD = "smoke-Quartz-Lantern-Orbit-42"


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    """A running child process and its base URL."""

    proc: subprocess.Popen[bytes]
    url: str
    port: int
    log: Path
    handle: IO[bytes]


def wait_until_listening(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Poll until the process answers HTTP (bounded: 30 s), failing early if it exits."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}: {log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer (a 401 with security on) means it is listening
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer in time: {log.read_text()}")


def start(args: list[str], url: str, port: int, log: Path, env: dict[str, str]) -> Process:
    """Start ``python -m mlgate <args>`` and wait for it to listen."""
    handle = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlgate", *args], stdout=handle, stderr=subprocess.STDOUT, env=env
    )
    try:
        wait_until_listening(url, proc, log)
    except RuntimeError:
        proc.kill()
        proc.wait()
        handle.close()
        raise
    return Process(proc, url, port, log, handle)


def stop(process: Process) -> None:
    """SIGTERM and wait; the process must exit cleanly."""
    process.proc.terminate()
    try:
        process.proc.wait(timeout=15)
    finally:
        process.handle.close()


@pytest.fixture(scope="session")
def mock_provider_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """``mlgate mock-provider --port N``."""
    port = free_port()
    log = tmp_path_factory.mktemp("mock") / "mock.log"
    process = start(
        ["mock-provider", "--port", str(port)],
        f"http://127.0.0.1:{port}/_mock/requests",
        port,
        log,
        dict(os.environ),
    )
    process.url = f"http://127.0.0.1:{port}"
    yield process
    stop(process)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """``mlgate serve`` on a free port with a fresh data directory."""
    port = free_port()
    folder = tmp_path_factory.mktemp("serve")
    env = dict(
        os.environ,
        MLGATE_PORT=str(port),
        MLGATE_DATA_DIR=str(folder / "data"),
        MLGATE_MASTER_KEY=TEST_MASTER_KEY,
        MLGATE_INITIAL_ADMIN_PASSWORD=ADMIN_PASSWORD,
    )
    env.pop("MLGATE_SECURITY", None)
    process = start(["serve"], f"http://127.0.0.1:{port}/", port, folder / "serve.log", env)
    yield process
    stop(process)


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """``mlgate serve --no-security``: the explicit switch for local experiments."""
    port = free_port()
    folder = tmp_path_factory.mktemp("serve-open")
    env = dict(os.environ, MLGATE_PORT=str(port), MLGATE_DATA_DIR=str(folder / "data"))
    process = start(["serve", "--no-security"], f"http://127.0.0.1:{port}/", port, folder / "serve.log", env)
    yield process
    stop(process)
