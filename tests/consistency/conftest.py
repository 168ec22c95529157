"""Two in-process nodes sharing one store (SQLite file or PostgreSQL schema), for tests that run
operations concurrently through both and check that the store's invariants hold."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlgate.bootstrap import Node, build_node
from mlgate.config import Config
from mlgate.services.environment import Environment, now_millis
from tests.conftest import LOOPBACK_TRUSTED, TEST_MASTER_KEY
from tests.storage.conftest import backend, pg_cluster_url, pg_url

__all__ = ["backend", "pg_cluster_url", "pg_url"]

# Rounds of each concurrent scenario: enough to have hit the old races many times over.
ROUNDS = 30


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """The PostgreSQL URL for that backend (started lazily), None for SQLite."""
    return str(request.getfixturevalue("pg_url")) if backend == "postgresql" else None


async def start_nodes(
    store_url: str | None,
    tmp_path: Path,
    names: tuple[str, ...] = ("node-a", "node-b"),
    now_ms: Callable[[], int] = now_millis,
    **config: Any,
) -> list[Node]:
    """Started nodes on one store, security off; ``workers=2`` makes SQLite nodes follow the feed as
    closely as PostgreSQL ones (several writers share the file)."""
    nodes: list[Node] = []
    for name in names:
        data_dir = tmp_path / (name if store_url else "shared")
        settings = Config(
            data_dir=data_dir,
            master_key=TEST_MASTER_KEY,
            security=False,
            store_url=store_url,
            workers=2,
            **config,
        )
        node = await build_node(
            settings, environment=Environment(node_id=name, node_name=name, now_ms=now_ms)
        )
        await node.start()
        nodes.append(node)
    return nodes


@pytest.fixture
async def pair(store_url: str | None, tmp_path: Path) -> AsyncIterator[tuple[Node, Node]]:
    """Nodes ``node-a`` and ``node-b`` on one store."""
    nodes = await start_nodes(store_url, tmp_path)
    yield nodes[0], nodes[1]
    for node in nodes:
        await node.stop()


@pytest.fixture
async def clients(pair: tuple[Node, Node]) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """One HTTP client per node; loopback connectors allowed."""
    a, b = (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=node.app), base_url="http://mlgate")
        for node in pair
    )
    async with a, b:
        response = await a.put(
            "/_cluster/settings",
            json={
                "persistent": {
                    "plugins.ml_commons.trusted_connector_endpoints_regex": [LOOPBACK_TRUSTED],
                    "plugins.ml_commons.connector.private_ip_enabled": True,
                }
            },
        )
        assert response.status_code == 200, response.text
        for node in pair:
            assert node.follower is not None
            await node.follower.catch_up()
        yield a, b


async def caught_up(pair: tuple[Node, Node]) -> None:
    """Both nodes have applied every change published so far."""
    for node in pair:
        assert node.follower is not None
        await node.follower.catch_up()
