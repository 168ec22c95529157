"""Shared fixtures: a real mlgate node in process and a real mock provider on 127.0.0.1."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mlgate.bootstrap import Node, build_node
from mlgate.config import Config
from mlgate.mockprovider import MockProvider, start_mock_provider

LOOPBACK_TRUSTED = r"^http://127\.0\.0\.1:[0-9]+/.*$"
TEST_MASTER_KEY = base64.b64encode(b"k" * 32).decode()
AWS_KEYS = {"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}


@pytest.fixture(scope="session")
async def provider() -> AsyncIterator[MockProvider]:
    """One mock provider (with SigV4 verification) for the whole session."""
    server = await start_mock_provider(aws_credentials=AWS_KEYS)
    yield server
    await server.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh data directory per test."""
    return tmp_path / "data"


@pytest.fixture
async def node(data_dir: Path) -> AsyncIterator[Node]:
    """A started mlgate node on a fresh SQLite store, security explicitly OFF (ML Commons without the
    Security plugin); the security suites build their own nodes with security on."""
    built = await build_node(Config(data_dir=data_dir, master_key=TEST_MASTER_KEY, security=False))
    await built.start()
    yield built
    await built.stop()


ADMIN_PASSWORD = "Tangerine-Harbor-Velvet-1987"


class ManualClock:
    """A monotonic clock the test moves by hand (throttling and caches without sleeps)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    """The security clock of ``secure_node``."""
    return ManualClock()


@pytest.fixture
async def secure_node(data_dir: Path, clock: ManualClock) -> AsyncIterator[Node]:
    """A started node with security ON, ``admin`` / ADMIN_PASSWORD, fast bcrypt and a manual clock."""
    config = Config(
        data_dir=data_dir, master_key=TEST_MASTER_KEY, security=True, initial_admin_password=ADMIN_PASSWORD
    )
    built = await build_node(config, security_clock=clock, bcrypt_rounds=4)
    await built.start()
    yield built
    await built.stop()


@pytest.fixture
async def anonymous(secure_node: Node) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the secure node that sends no credentials."""
    transport = httpx.ASGITransport(app=secure_node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mlgate") as http:
        yield http


@pytest.fixture
async def admin(secure_node: Node) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the secure node logged in as ``admin``, with loopback connectors allowed."""
    transport = httpx.ASGITransport(app=secure_node.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://mlgate", auth=("admin", ADMIN_PASSWORD)
    ) as http:
        response = await http.put(
            "/_cluster/settings",
            json={
                "persistent": {
                    "plugins.ml_commons.trusted_connector_endpoints_regex": [LOOPBACK_TRUSTED],
                    "plugins.ml_commons.connector.private_ip_enabled": True,
                }
            },
        )
        assert response.status_code == 200, response.text
        yield http


@pytest.fixture
async def client(node: Node) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client speaking to the node's ASGI app in process."""
    transport = httpx.ASGITransport(app=node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mlgate") as http:
        yield http


@pytest.fixture
async def loopback(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A client on a node whose settings allow connectors to reach the mock provider on loopback."""
    response = await client.put(
        "/_cluster/settings",
        json={
            "persistent": {
                "plugins.ml_commons.trusted_connector_endpoints_regex": [LOOPBACK_TRUSTED],
                "plugins.ml_commons.connector.private_ip_enabled": True,
            }
        },
    )
    assert response.status_code == 200, response.text
    return client


def assert_error(response: httpx.Response, status: int, error_type: str, reason: str | None = None) -> dict:
    """The response is an OpenSearch error envelope with this status, type and (exact) reason."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    assert body["error"]["type"] == error_type, body
    assert body["error"]["root_cause"][0]["type"] == error_type
    if reason is not None:
        assert body["error"]["reason"] == reason, body["error"]["reason"]
    return body


if os.environ.get("MLGATE_TEST_DEBUG"):
    import logging

    logging.basicConfig(level=logging.DEBUG)
