"""The embedded index engine: documents in SQLite (``indices.sqlite3`` in the data directory), terms in
SQLite FTS5 (``index_sqlite_terms.py``), vectors in memory (``index_vectors.py``) with SQLite as their
durable copy.

A bulk is one SQLite transaction (WAL, ``synchronous=FULL``): acknowledged means on disk. Vectors reach
memory after the commit, in commit order (one vector thread fed by the one SQLite thread), before the
write returns. At close, large fields save their HNSW index under ``vectors/``; at open it is loaded
and reconciled with SQLite (vectors added or removed since, e.g. by a crash after a commit), so a
restart does not rebuild the graph. Another process writing the same file (``--workers``) is noticed
through ``PRAGMA data_version`` and reconciled the same way before the next vector search.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import orjson

from mlgate.storage import index_sqlite_terms as terms_index
from mlgate.storage.index_sqlite_schema import (
    DOC_COLUMNS,
    INDEX_COLUMNS,
    SCHEMA,
    index_no,
    save_mappings,
    to_document,
    to_record,
)
from mlgate.storage.index_sqlite_vectors import VectorCatalog
from mlgate.storage.index_sqlite_write import write_items
from mlgate.storage.index_store import (
    DocumentWrite,
    IndexExists,
    IndexMissing,
    IndexRecord,
    StoredDocument,
    TermStats,
    VectorField,
    VectorHit,
    WriteConflict,
    WriteResult,
)
from mlgate.storage.index_vectors import APPROXIMATE_FROM, VectorSet

T = TypeVar("T")


class SqliteIndexStore:
    """Indices of one node, in its data directory."""

    def __init__(self, directory: Path, *, approximate_from: int = APPROXIMATE_FROM) -> None:
        self._directory = directory
        self._approximate_from = approximate_from
        self._sql = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlgate-index-sql")
        self._vec = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlgate-index-vec")
        self._conn: sqlite3.Connection | None = None
        self._catalog = VectorCatalog(directory, self._vec, approximate_from=approximate_from)
        self._data_version = 0

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            assert self._conn is not None, "index store not opened"
            return fn(self._conn)

        return await asyncio.get_running_loop().run_in_executor(self._sql, call)

    async def open(self) -> None:
        if self._conn is not None:
            return

        def connect() -> None:
            self._directory.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self._directory / "indices.sqlite3", isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("BEGIN IMMEDIATE")
            for statement in SCHEMA.split(";"):
                conn.execute(statement)
            conn.execute("COMMIT")
            self._conn = conn

        await asyncio.get_running_loop().run_in_executor(self._sql, connect)
        await self._sync_vectors(load_snapshots=True)

    async def _sync_vectors(self, *, load_snapshots: bool = False) -> None:
        def sync(conn: sqlite3.Connection) -> None:
            self._data_version = conn.execute("PRAGMA data_version").fetchone()[0]
            self._catalog.sync(conn, load_snapshots=load_snapshots)

        await self._run(sync)

    async def close(self) -> None:
        if self._conn is not None:
            await self._catalog.run(self._catalog.save_all)
            await self._run(lambda conn: conn.close())
            self._conn = None
        self._sql.shutdown(wait=True)
        self._vec.shutdown(wait=True)

    # --- indices ---------------------------------------------------------------------------------------

    async def create_index(
        self,
        name: str,
        *,
        uuid: str,
        creation_date_ms: int,
        settings: Mapping[str, str],
        mappings: Mapping[str, Any],
    ) -> IndexRecord:
        def fn(conn: sqlite3.Connection) -> IndexRecord:
            conn.execute("BEGIN IMMEDIATE")
            try:
                taken = conn.execute("SELECT uuid FROM indices WHERE name = ?", (name,)).fetchone()
                if taken:
                    raise IndexExists(taken[0])
                cursor = conn.execute(
                    "INSERT INTO indices (name, uuid, creation_date_ms, settings, mappings) VALUES (?, ?, ?, ?, ?)",
                    (
                        name,
                        uuid,
                        creation_date_ms,
                        orjson.dumps(dict(settings)),
                        orjson.dumps(dict(mappings)),
                    ),
                )
                assert cursor.lastrowid is not None
                terms_index.create_tables(conn, cursor.lastrowid)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return IndexRecord(name, uuid, creation_date_ms, dict(settings), dict(mappings), 1)

        return await self._run(fn)

    async def delete_index(self, name: str) -> bool:
        def fn(conn: sqlite3.Connection) -> list[int] | None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute("SELECT no FROM indices WHERE name = ?", (name,)).fetchone()
                if row is None:
                    conn.execute("COMMIT")
                    return None
                (no,) = row
                fields = [n for (n,) in conn.execute("SELECT no FROM fields WHERE index_no = ?", (no,))]
                conn.execute(
                    "DELETE FROM doc_fields WHERE key IN (SELECT key FROM docs WHERE index_no = ?)", (no,)
                )
                for statement in (
                    "vectors WHERE field_no IN (SELECT no FROM fields WHERE index_no = ?)",
                    "fields WHERE index_no = ?",
                    "docs WHERE index_no = ?",
                    "tombstones WHERE index_no = ?",
                    "indices WHERE no = ?",
                ):
                    conn.execute(f"DELETE FROM {statement}", (no,))
                terms_index.drop_tables(conn, no)
                conn.execute("COMMIT")
                return fields
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        fields = await self._run(fn)
        if fields is None:
            return False

        await self._catalog.run(lambda: self._catalog.forget(fields))
        return True

    async def load_index(self, name: str) -> IndexRecord | None:
        row = await self._run(
            lambda conn: conn.execute(
                f"SELECT {INDEX_COLUMNS} FROM indices WHERE name = ?", (name,)
            ).fetchone()
        )
        return to_record(row) if row else None

    async def list_indices(self) -> list[IndexRecord]:
        rows = await self._run(
            lambda conn: conn.execute(f"SELECT {INDEX_COLUMNS} FROM indices ORDER BY name").fetchall()
        )
        return [to_record(row) for row in rows]

    async def put_settings(self, name: str, settings: Mapping[str, str]) -> IndexRecord:
        def fn(conn: sqlite3.Connection) -> None:
            if (
                conn.execute(
                    "UPDATE indices SET settings = ? WHERE name = ?", (orjson.dumps(dict(settings)), name)
                ).rowcount
                == 0
            ):
                raise IndexMissing(name)

        await self._run(fn)
        return await self._loaded(name)

    async def put_mappings(
        self, name: str, mappings: Mapping[str, Any], *, if_mapping_version: int | None = None
    ) -> IndexRecord:
        def fn(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                save_mappings(conn, name, mappings, if_mapping_version)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        await self._run(fn)
        return await self._loaded(name)

    async def _loaded(self, name: str) -> IndexRecord:
        record = await self.load_index(name)
        if record is None:
            raise IndexMissing(name)
        return record

    # --- documents -------------------------------------------------------------------------------------

    async def write(
        self,
        name: str,
        items: Sequence[DocumentWrite],
        *,
        vector_fields: Mapping[str, VectorField] | None = None,
        mappings: Mapping[str, Any] | None = None,
        if_mapping_version: int | None = None,
    ) -> list[WriteResult | WriteConflict]:
        def fn(conn: sqlite3.Connection) -> tuple[list[WriteResult | WriteConflict], Future[None]]:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if mappings is not None:
                    save_mappings(conn, name, mappings, if_mapping_version)
                results, changes = write_items(conn, name, items, vector_fields or {})
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            # Queued from this thread, so vector changes apply in commit order.
            return results, self._vec.submit(self._catalog.apply, changes)

        results, applied = await self._run(fn)
        await asyncio.wrap_future(applied)
        return results

    async def get(self, name: str, doc_id: str) -> StoredDocument | None:
        def fn(conn: sqlite3.Connection) -> StoredDocument | None:
            no = index_no(conn, name)
            row = conn.execute(
                f"SELECT {DOC_COLUMNS} FROM docs WHERE index_no = ? AND doc_id = ?", (no, doc_id)
            ).fetchone()
            return to_document(row) if row else None

        return await self._run(fn)

    async def get_many(self, name: str, keys: Collection[int]) -> dict[int, StoredDocument]:
        def fn(conn: sqlite3.Connection) -> dict[int, StoredDocument]:
            no = index_no(conn, name)
            found: dict[int, StoredDocument] = {}
            wanted = list(keys)
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for row in conn.execute(
                    f"SELECT {DOC_COLUMNS} FROM docs WHERE index_no = ? AND key IN ({marks})", (no, *chunk)
                ):
                    found[row[0]] = to_document(row)
            return found

        return await self._run(fn)

    async def scan(self, name: str, *, after_key: int = 0, limit: int = 1000) -> list[StoredDocument]:
        def fn(conn: sqlite3.Connection) -> list[StoredDocument]:
            no = index_no(conn, name)
            rows = conn.execute(
                f"SELECT {DOC_COLUMNS} FROM docs WHERE index_no = ? AND key > ? ORDER BY key LIMIT ?",
                (no, after_key, limit),
            )
            return [to_document(row) for row in rows]

        return await self._run(fn)

    async def count(self, name: str) -> int:
        return await self._run(
            lambda conn: conn.execute(
                "SELECT count(*) FROM docs WHERE index_no = ?", (index_no(conn, name),)
            ).fetchone()[0]
        )

    async def refresh(self, name: str) -> None:
        await self._run(lambda conn: index_no(conn, name))

    # --- search ----------------------------------------------------------------------------------------

    async def term_stats(
        self, name: str, field: str, terms: Collection[str], *, positions: bool = False
    ) -> TermStats:
        def fn(conn: sqlite3.Connection) -> TermStats:
            conn.execute("BEGIN")  # one snapshot for statistics and postings
            try:
                no = index_no(conn, name)
                row = conn.execute(
                    "SELECT no, doc_count, sum_length FROM fields WHERE index_no = ? AND name = ?",
                    (no, field),
                ).fetchone()
                field_no, doc_count, sum_length = row if row else (None, 0, 0)
                return terms_index.term_stats(
                    conn, no, field_no, (doc_count, sum_length), terms, positions=positions
                )
            finally:
                conn.execute("COMMIT")

        return await self._run(fn)

    async def expand_terms(self, name: str, field: str, prefix: str, *, limit: int = 1000) -> list[str]:
        def fn(conn: sqlite3.Connection) -> list[str]:
            no = index_no(conn, name)
            row = conn.execute(
                "SELECT no FROM fields WHERE index_no = ? AND name = ?", (no, field)
            ).fetchone()
            return terms_index.expand_terms(conn, no, row[0], prefix, limit) if row else []

        return await self._run(fn)

    async def knn(
        self,
        name: str,
        field: str,
        vector: Sequence[float],
        k: int,
        *,
        allowed: Collection[int] | None = None,
        exact: bool = False,
    ) -> list[VectorHit]:
        vectors = await self._field_vectors(name, field)
        if vectors is None:
            return []
        query = np.asarray(vector, dtype=np.float32)
        found = await self._catalog.run(lambda: vectors.search(query, k, allowed=allowed, exact=exact))
        return [VectorHit(key, distance) for key, distance in found]

    async def within(
        self,
        name: str,
        field: str,
        vector: Sequence[float],
        max_distance: float,
        *,
        allowed: Collection[int] | None = None,
    ) -> list[VectorHit]:
        vectors = await self._field_vectors(name, field)
        if vectors is None:
            return []
        query = np.asarray(vector, dtype=np.float32)
        found = await self._catalog.run(lambda: vectors.within(query, max_distance, allowed=allowed))
        return [VectorHit(key, distance) for key, distance in found]

    async def _field_vectors(self, name: str, field: str) -> VectorSet | None:
        def fn(conn: sqlite3.Connection) -> tuple[int | None, bool]:
            no = index_no(conn, name)
            row = conn.execute(
                "SELECT no FROM fields WHERE index_no = ? AND name = ? AND dimension IS NOT NULL", (no, field)
            ).fetchone()
            return (row[0] if row else None), conn.execute("PRAGMA data_version").fetchone()[
                0
            ] != self._data_version

        field_no, foreign = await self._run(fn)
        if foreign:
            await self._sync_vectors()
        return None if field_no is None else self._catalog.sets.get(field_no)
