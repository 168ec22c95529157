"""``mlgate serve`` as a user runs it: first-start admin password, weak password refused, TLS."""

from __future__ import annotations

import base64
import json
import os
import ssl
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlgate.bootstrap import ADMIN_PASSWORD_FILE, build_node
from mlgate.config import Config
from tests.conftest import TEST_MASTER_KEY
from tests.smoke.conftest import free_port
from tests.tls_support import write_self_signed

STRONG = "Cinnamon-Lighthouse-Pebble-3318"


def _env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLGATE_")}
    env.update(
        MLGATE_PORT=str(port), MLGATE_DATA_DIR=str(data_dir), MLGATE_MASTER_KEY=TEST_MASTER_KEY, **extra
    )
    return env


def _get(url: str, auth: tuple[str, str] | None, context: ssl.SSLContext | None = None) -> tuple[int, bytes]:
    headers = {}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _serve(
    args: list[str], env: dict[str, str], url: str, log: Path, context: ssl.SSLContext | None = None
) -> subprocess.Popen[bytes]:
    """Start ``mlgate serve`` and wait (bounded) until it answers HTTP at ``url``."""
    with log.open("wb") as handle:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlgate", "serve", *args], stdout=handle, stderr=subprocess.STDOUT, env=env
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode}: {log.read_text()}")
        try:
            _get(url, None, context)
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"no answer: {log.read_text()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=15)


async def test_first_start_generates_a_private_admin_password_once(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path / "data", master_key=TEST_MASTER_KEY, security=True)
    node = await build_node(config, bcrypt_rounds=4)
    await node.start()
    try:
        password = node.generated_admin_password
        assert password is not None and len(password) >= 20
        path = tmp_path / "data" / ADMIN_PASSWORD_FILE
        assert path.read_text().strip() == password
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        await node.stop()
    again = await build_node(config, bcrypt_rounds=4)
    await again.start()
    try:
        assert again.generated_admin_password is None  # shown once: only at the very first start
        assert (tmp_path / "data" / ADMIN_PASSWORD_FILE).read_text().strip() == password
    finally:
        await again.stop()


def test_weak_initial_password_is_refused_with_the_rule(tmp_path: Path) -> None:
    env = _env(tmp_path / "data", free_port(), MLGATE_INITIAL_ADMIN_PASSWORD="admin123")
    done = subprocess.run([sys.executable, "-m", "mlgate", "serve"], env=env, capture_output=True, timeout=60)
    assert done.returncode != 0
    error = done.stderr.decode()
    assert "MLGATE_INITIAL_ADMIN_PASSWORD refused: Weak password. The rule: at least 8 characters" in error
    assert "admin123" not in done.stdout.decode() + error


def test_generated_password_is_printed_once_and_logs_in(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/_plugins/_security/authinfo"
    env = _env(tmp_path / "data", port)
    proc = _serve([], env, url, tmp_path / "first.log")
    try:
        output = (tmp_path / "first.log").read_text()
        password = (tmp_path / "data" / ADMIN_PASSWORD_FILE).read_text().strip()
        assert output.count(password) == 1
        assert "Created user 'admin' with password" in output
        status, body = _get(url, ("admin", password))
        assert status == 200 and json.loads(body)["user_name"] == "admin"
    finally:
        _stop(proc)
    proc = _serve([], env, url, tmp_path / "second.log")
    try:
        assert password not in (tmp_path / "second.log").read_text()
        assert "Log in as 'admin'" in (tmp_path / "second.log").read_text()
    finally:
        _stop(proc)


@pytest.fixture
def certificate(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A self-signed certificate for 127.0.0.1, made with ``cryptography``."""
    yield write_self_signed(tmp_path)


def test_tls_serves_https_with_the_given_certificate(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    port = free_port()
    https = f"https://127.0.0.1:{port}/_plugins/_security/authinfo"
    trusted = ssl.create_default_context(cafile=str(cert))
    env = _env(tmp_path / "data", port, MLGATE_INITIAL_ADMIN_PASSWORD=STRONG)
    proc = _serve(["--tls-cert", str(cert), "--tls-key", str(key)], env, https, tmp_path / "tls.log", trusted)
    try:
        status, body = _get(https, ("admin", STRONG), trusted)
        assert status == 200 and json.loads(body)["user_name"] == "admin"
        assert _get(https, None, trusted)[0] == 401
        # A client that does not trust the certificate refuses it; plain HTTP gets no HTTP answer.
        with pytest.raises(urllib.error.URLError):
            _get(https, ("admin", STRONG), ssl.create_default_context())
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            _get(f"http://127.0.0.1:{port}/", ("admin", STRONG))
        assert f"https://127.0.0.1:{port}" in (tmp_path / "tls.log").read_text()
        assert STRONG not in (tmp_path / "tls.log").read_text()
    finally:
        _stop(proc)


def test_tls_needs_both_files(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    env = _env(tmp_path / "data", free_port(), MLGATE_INITIAL_ADMIN_PASSWORD=STRONG)
    done = subprocess.run(
        [sys.executable, "-m", "mlgate", "serve", "--tls-cert", str(certificate[0])],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode != 0 and "--tls-cert and --tls-key go together" in done.stderr.decode()
