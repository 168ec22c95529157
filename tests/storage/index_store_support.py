"""Fixtures and helpers for the index store tests: every engine on a fresh target per test.

PostgreSQL tests run in a schema of their own with ``public`` behind it on the search path, where the
``vector`` extension is installed once (an extension lives in one schema per database).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from mlgate.domain.indices.document import parse_document
from mlgate.domain.indices.mapping import Mappings, parse_mappings
from mlgate.storage.index_postgres import PostgresIndexStore
from mlgate.storage.index_sqlite import SqliteIndexStore
from mlgate.storage.index_store import DocumentWrite, IndexStore, VectorField, WriteOp

ENGINES = ["embedded", "postgresql"]


@pytest.fixture
async def index_pg_url(pg_cluster_url: str) -> AsyncIterator[str]:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(pg_cluster_url)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    separator = "&" if "?" in pg_cluster_url else "?"
    yield f"{pg_cluster_url}{separator}search_path={schema},public"
    conn = await asyncpg.connect(pg_cluster_url)
    try:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await conn.close()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


IndexStoreFactory = Callable[..., IndexStore]


@pytest.fixture
def index_target(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """A data directory or a PostgreSQL URL (started lazily, so an embedded-only run needs no PostgreSQL)."""
    return str(request.getfixturevalue("index_pg_url")) if engine == "postgresql" else tmp_path


@pytest.fixture
async def make_index_store(index_target: str | Path) -> AsyncIterator[Any]:
    """Builds unopened stores on one target (several = a restart, or several nodes); all closed after."""
    target = index_target
    built: list[IndexStore] = []

    def make(**options: Any) -> IndexStore:
        store: IndexStore
        if isinstance(target, Path):
            store = SqliteIndexStore(target, **options)
        else:
            options.pop("approximate_from", None)
            store = PostgresIndexStore(target, **options)
        built.append(store)
        return store

    yield make
    for store in built:
        await store.close()  # closing twice is harmless


@pytest.fixture
async def index_store(make_index_store: IndexStoreFactory) -> IndexStore:
    store = make_index_store()
    await store.open()
    return store


def vector_fields(mappings: Mappings) -> dict[str, VectorField]:
    return {
        path: VectorField(field.knn.dimension, field.knn.space_type)
        for path, field in mappings.leaves().items()
        if field.knn is not None
    }


def item(
    mappings: Mappings, doc_id: str, source: Mapping[str, Any], op: WriteOp = "index", **extra: Any
) -> DocumentWrite:
    """A bulk item for ``source`` as the services will build it: parsed by the domain."""
    parsed, _ = parse_document(mappings, doc_id, source)
    return DocumentWrite(
        op, doc_id, orjson.dumps(source), terms=parsed.terms, vectors=parsed.vectors, **extra
    )


async def create(store: IndexStore, name: str, mappings: dict[str, Any] | None = None) -> Mappings:
    body = mappings or {}
    await store.create_index(
        name,
        uuid=f"uuid-{name}",
        creation_date_ms=1_700_000_000_000,
        settings={"index.knn": "true"},
        mappings=body,
    )
    return parse_mappings(body)
