"""Store fixtures: every test runs on each backend — SQLite in a temp dir, and PostgreSQL in a fresh schema
of a throwaway cluster started once per session by scripts/pg-test-cluster (never the machine's own).

``make test`` starts the cluster around the whole run and passes MLGATE_TEST_PG_URL; a bare ``pytest``
starts one here. Without PostgreSQL binaries the PostgreSQL half is skipped, except under CI=true, where
that fails the run.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from mlgate.storage.postgres import PostgresStore
from mlgate.storage.sqlite import SqliteStore
from mlgate.storage.store import Store

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pg-test-cluster"
BACKENDS = ["sqlite", "postgresql"]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


@pytest.fixture(scope="session")
def pg_cluster_url() -> Iterator[str]:
    """The URL of the session's throwaway PostgreSQL database."""
    url = os.environ.get("MLGATE_TEST_PG_URL")
    if url:
        yield url
        return
    if subprocess.run([SCRIPT, "find"], capture_output=True, check=False).returncode != 0:
        if _in_ci():
            pytest.fail(
                "CI=true but no PostgreSQL binaries (initdb, pg_ctl) were found: .ci/run installs them"
            )
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found: install PostgreSQL to test that backend")
    directory = tempfile.mkdtemp(prefix="mlgate-pg-")
    try:
        started = subprocess.run([SCRIPT, "start", directory], capture_output=True, text=True, check=False)
        if started.returncode != 0:
            pytest.fail(f"could not start the test PostgreSQL cluster: {started.stderr.strip()}")
        yield started.stdout.strip()
    finally:
        subprocess.run([SCRIPT, "stop", directory], check=False)


def with_search_path(url: str, schema: str) -> str:
    """``url`` with its tables in ``schema`` (asyncpg passes unknown query parameters as settings)."""
    return f"{url}{'&' if '?' in url else '?'}search_path={schema}"


@pytest.fixture
async def pg_url(pg_cluster_url: str) -> AsyncIterator[str]:
    """A URL whose tables live in a schema of their own, dropped after the test."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(pg_cluster_url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    yield with_search_path(pg_cluster_url, schema)
    conn = await asyncpg.connect(pg_cluster_url)
    try:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await conn.close()


StoreFactory = Callable[..., Store]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend under test."""
    return str(request.param)


@pytest.fixture
def store_target(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where the stores of a test keep their data: a SQLite file or a PostgreSQL URL (started lazily,
    so a SQLite-only run never starts PostgreSQL)."""
    if backend == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return tmp_path / "mlgate.sqlite3"


@pytest.fixture
async def make_store(store_target: str | Path) -> AsyncIterator[Any]:
    """Builds unopened stores on one database (several stores = several nodes or worker processes);
    every store it built is closed after the test."""
    target = store_target
    built: list[Store] = []

    def make(**options: Any) -> Store:
        store: Store
        if isinstance(target, Path):
            store = SqliteStore(target, **options)
        else:
            store = PostgresStore(target, **options)
        built.append(store)
        return store

    yield make
    for store in built:
        await store.close()


@pytest.fixture
async def store(make_store: StoreFactory) -> Store:
    """An opened store on the backend under test."""
    opened = make_store()
    await opened.open()
    return opened
