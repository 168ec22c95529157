"""What only the PostgreSQL index engine does: it checks for pgvector at start and says how to get it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from mlgate.storage.index_postgres import PostgresIndexStore
from mlgate.storage.index_store import VectorExtensionMissing


@pytest.fixture
async def database_without_vector(pg_cluster_url: str) -> AsyncIterator[str]:
    """A fresh database and a role that may not create extensions there (pgvector is not trusted)."""
    suffix = uuid.uuid4().hex[:12]
    database, role, password = f"novector_{suffix}", f"plain_{suffix}", uuid.uuid4().hex
    admin = await asyncpg.connect(pg_cluster_url)
    try:
        await admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        await admin.execute(f"CREATE DATABASE {database} OWNER {role}")
    finally:
        await admin.close()
    host_part = pg_cluster_url.split("@", 1)[1].split("/", 1)[0]
    yield f"postgresql://{role}:{password}@{host_part}/{database}"
    admin = await asyncpg.connect(pg_cluster_url)
    try:
        await admin.execute(f"DROP DATABASE {database} WITH (FORCE)")
        await admin.execute(f"DROP ROLE {role}")
    finally:
        await admin.close()


async def test_missing_extension_is_a_clear_error(database_without_vector: str) -> None:
    store = PostgresIndexStore(database_without_vector)
    with pytest.raises(VectorExtensionMissing) as caught:
        await store.open()
    message = str(caught.value)
    assert "'vector' extension (pgvector)" in message
    assert "apt-get install postgresql-<version>-pgvector" in message
    assert "permission denied to create extension" in message


async def test_an_extension_off_the_search_path_is_named(pg_url: str, pg_cluster_url: str) -> None:
    conn = await asyncpg.connect(pg_cluster_url)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")
        schema = await conn.fetchval(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'vector'"
        )
    finally:
        await conn.close()
    # pg_url's search path holds only the test's own schema.
    store = PostgresIndexStore(pg_url)
    with pytest.raises(VectorExtensionMissing) as caught:
        await store.open()
    assert f"the extension is in schema {schema}, not on the search_path" in str(caught.value)
