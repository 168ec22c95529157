"""Embedded SQLite store: WAL journal, one commit per acknowledged write, versioned migrations.

All SQLite calls run on one dedicated thread so the event loop never blocks on fsync and the
connection is never shared across threads.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import orjson

from mlgate.domain.search import StoredDoc
from mlgate.storage.store import VersionConflict

T = TypeVar("T")

_COLUMNS = "id, source, version, seq_no, primary_term"


def _row_to_doc(row: tuple[Any, ...]) -> StoredDoc:
    return StoredDoc(
        id=row[0], source=orjson.loads(row[1]), version=row[2], seq_no=row[3], primary_term=row[4]
    )


def migration_scripts() -> list[tuple[int, str]]:
    """The numbered SQL migrations shipped with the package, in order."""
    folder = resources.files("mlgate.storage") / "migrations"
    scripts = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            scripts.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(scripts)


class SqliteStore:
    """The default single-node store, a file in the data directory."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlgate-sqlite")
        self._conn: sqlite3.Connection | None = None

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            assert self._conn is not None, "store not opened"
            return fn(self._conn)

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def open(self) -> None:
        """Open the database file and apply pending migrations."""

        def connect() -> None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before the write is acknowledged.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)"
            )
            applied = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
            for version, script in migration_scripts():
                if version in applied:
                    continue
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in script.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute("INSERT INTO schema_migrations VALUES (?, datetime('now'))", (version,))
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            self._conn = conn

        await asyncio.get_running_loop().run_in_executor(self._executor, connect)

    async def close(self) -> None:
        """Close the connection and stop the worker thread."""
        if self._conn is not None:
            await self._run(lambda conn: conn.close())
            self._conn = None
        self._executor.shutdown(wait=True)

    async def load(self, collection: str, doc_id: str) -> StoredDoc | None:
        """The document with this id, or None."""

        def fn(conn: sqlite3.Connection) -> StoredDoc | None:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM documents WHERE collection = ? AND id = ?", (collection, doc_id)
            ).fetchone()
            return _row_to_doc(row) if row else None

        return await self._run(fn)

    async def load_all(self, collection: str) -> list[StoredDoc]:
        """Every document of a collection, oldest first."""

        def fn(conn: sqlite3.Connection) -> list[StoredDoc]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM documents WHERE collection = ? ORDER BY rowid", (collection,)
            ).fetchall()
            return [_row_to_doc(r) for r in rows]

        return await self._run(fn)

    async def load_where(self, collection: str, field: str, value: str) -> list[StoredDoc]:
        """Documents whose top-level ``field`` equals ``value``."""

        def fn(conn: sqlite3.Connection) -> list[StoredDoc]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM documents WHERE collection = ? "
                "AND json_extract(source, ?) = ? ORDER BY rowid",
                (collection, f'$."{field}"', value),
            ).fetchall()
            return [_row_to_doc(r) for r in rows]

        return await self._run(fn)

    async def save(
        self,
        collection: str,
        doc_id: str,
        source: Mapping[str, Any],
        *,
        if_version: int | None = None,
        create_only: bool = False,
    ) -> StoredDoc:
        """Create or replace a document in one transaction."""
        encoded = orjson.dumps(source).decode()

        def fn(conn: sqlite3.Connection) -> StoredDoc:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT version FROM documents WHERE collection = ? AND id = ?", (collection, doc_id)
                ).fetchone()
                current = row[0] if row else None
                if create_only and current is not None:
                    raise VersionConflict(doc_id)
                if if_version is not None and current != if_version:
                    raise VersionConflict(doc_id)
                seq_no = _next_seq_no(conn, collection)
                version = (current or 0) + 1
                conn.execute(
                    "INSERT INTO documents (collection, id, source, version, seq_no) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (collection, id) DO UPDATE SET source = excluded.source, "
                    "version = excluded.version, seq_no = excluded.seq_no",
                    (collection, doc_id, encoded, version, seq_no),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return StoredDoc(id=doc_id, source=dict(source), version=version, seq_no=seq_no)

        return await self._run(fn)

    async def delete(self, collection: str, doc_id: str) -> StoredDoc | None:
        """Delete a document; returns it with the tombstone version, or None."""

        def fn(conn: sqlite3.Connection) -> StoredDoc | None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    f"SELECT {_COLUMNS} FROM documents WHERE collection = ? AND id = ?", (collection, doc_id)
                ).fetchone()
                if row is None:
                    conn.execute("COMMIT")
                    return None
                seq_no = _next_seq_no(conn, collection)
                conn.execute("DELETE FROM documents WHERE collection = ? AND id = ?", (collection, doc_id))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            old = _row_to_doc(row)
            return StoredDoc(id=doc_id, source=old.source, version=old.version + 1, seq_no=seq_no)

        return await self._run(fn)

    async def load_meta(self, key: str) -> str | None:
        """A metadata value, or None."""

        def fn(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return row[0] if row else None

        return await self._run(fn)

    async def save_meta(self, key: str, value: str) -> None:
        """Store a metadata value durably."""

        def fn(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

        await self._run(fn)


def _next_seq_no(conn: sqlite3.Connection, collection: str) -> int:
    row = conn.execute(
        "INSERT INTO sequences (collection, seq_no) VALUES (?, 0) "
        "ON CONFLICT (collection) DO UPDATE SET seq_no = seq_no + 1 RETURNING seq_no",
        (collection,),
    ).fetchone()
    return int(row[0])
