"""What only the PostgreSQL store does: LISTEN/NOTIFY wake-ups, schemas, migrations shared by nodes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from tests.storage.conftest import with_search_path

from mlgate.storage.migration import migration_scripts
from mlgate.storage.postgres import PostgresStore


@pytest.fixture
async def pg_store(pg_url: str) -> AsyncIterator[PostgresStore]:
    store = PostgresStore(pg_url)
    await store.open()
    yield store
    await store.close()


class Wakes:
    """Counts wake-ups and lets a test await the next one."""

    def __init__(self) -> None:
        self.count = 0
        self._event = asyncio.Event()

    def __call__(self) -> None:
        self.count += 1
        self._event.set()

    async def next(self) -> None:
        await asyncio.wait_for(self._event.wait(), timeout=30)
        self._event.clear()


async def test_every_publish_wakes_every_listener(pg_store: PostgresStore, pg_url: str) -> None:
    first, second = Wakes(), Wakes()
    assert await pg_store.listen(first)
    assert await pg_store.listen(second)
    other_node = PostgresStore(pg_url)
    await other_node.open()
    try:
        await other_node.publish("settings", "")
        await first.next()
        await second.next()
        await pg_store.unlisten(first)
        await pg_store.publish("connector", "c1")  # a node hears its own changes too
        await second.next()
        assert (first.count, second.count) == (1, 2)
    finally:
        await other_node.close()


async def test_listeners_hear_only_their_own_schema(pg_store: PostgresStore, pg_cluster_url: str) -> None:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(pg_cluster_url)
    await admin.execute(f"CREATE SCHEMA {schema}")
    other_cluster = PostgresStore(with_search_path(pg_cluster_url, schema))
    try:
        await other_cluster.open()
        wakes = Wakes()
        await pg_store.listen(wakes)
        await other_cluster.publish("connector", "elsewhere")
        await pg_store.publish("connector", "here")
        # Notifications arrive in commit order: by the time ours wakes us, the other was dropped.
        await wakes.next()
        assert wakes.count == 1
        assert [key for _, _, key in await pg_store.changes_since(0)] == ["here"]
    finally:
        await other_cluster.close()
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


async def test_a_lost_listen_connection_is_restored(pg_store: PostgresStore, pg_cluster_url: str) -> None:
    wakes = Wakes()
    await pg_store.listen(wakes)
    admin = await asyncpg.connect(pg_cluster_url)
    try:
        # Kill the backend LISTENing on the channel, as a database restart or a network cut would.
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
        )
        assert killed >= 1
        # Once the connection is back, a wake-up tells the listener to catch up on what it missed.
        await wakes.next()
        await pg_store.publish("connector", "after the cut")
        await wakes.next()
    finally:
        await admin.close()


async def test_migrations_are_recorded_once(pg_url: str) -> None:
    stores = [PostgresStore(pg_url) for _ in range(3)]
    try:
        await asyncio.gather(*(store.open() for store in stores))
        schema = pg_url.rsplit("search_path=", 1)[1]
        conn = await asyncpg.connect(pg_url)
        try:
            versions = await conn.fetch(f"SELECT version FROM {schema}.schema_migrations ORDER BY version")
        finally:
            await conn.close()
        assert [row["version"] for row in versions] == [n for n, _ in migration_scripts("migrations_pg")]
    finally:
        for store in stores:
            await store.close()


async def test_a_document_holding_nul_does_not_break_lookups(pg_store: PostgresStore) -> None:
    await pg_store.save("models", "m1", {"model_group_id": "g1", "description": "a\u0000b"})
    await pg_store.save("models", "m2", {"model_group_id": "g1"})
    assert [doc.id for doc in await pg_store.load_where("models", "model_group_id", "g1")] == ["m1", "m2"]
    assert [doc.id for doc in await pg_store.load_where("models", "description", "a\u0000b")] == ["m1"]
