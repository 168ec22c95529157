"""Embedded SQLite store: WAL journal, one commit per acknowledged write, versioned migrations.

All SQLite calls run on one dedicated thread so the event loop never blocks on fsync and the
connection is never shared across threads.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import orjson

from mlgate.domain.search import StoredDoc
from mlgate.storage.migration import migration_scripts
from mlgate.storage.store import (
    Change,
    ChangeListener,
    VersionConflict,
    check_change,
    check_storable_id,
    is_storable_id,
)

T = TypeVar("T")

_COLUMNS = "id, source, version, seq_no, primary_term"


def _row_to_doc(row: tuple[Any, ...]) -> StoredDoc:
    return StoredDoc(
        id=row[0], source=orjson.loads(row[1]), version=row[2], seq_no=row[3], primary_term=row[4]
    )


# SQLite's clock in milliseconds since the epoch (the change feed's age, for pruning).
_NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
# Drop changes older than both the last ``keep_changes`` and ``keep_changes_seconds`` (ids grow with
# time, so "older than the cut-off time" is "at most the newest id from before it": two index lookups).
_PRUNE = (
    "DELETE FROM changes WHERE id <= min(?, coalesce((SELECT id FROM changes "
    f"WHERE created_ms <= {_NOW_MS} - ? ORDER BY created_ms DESC, id DESC LIMIT 1), 0))"
)


class SqliteStore:
    """The default single-node store, a file in the data directory."""

    def __init__(self, path: Path, *, keep_changes: int = 10_000, keep_changes_seconds: float = 3600) -> None:
        if keep_changes < 1:
            raise ValueError("keep_changes must be at least 1")
        self._path = path
        self._keep_changes = keep_changes
        self._keep_changes_ms = int(keep_changes_seconds * 1000)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlgate-sqlite")
        self._conn: sqlite3.Connection | None = None

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            assert self._conn is not None, "store not opened"
            return fn(self._conn)

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def open(self) -> None:
        """Open the database file and apply pending migrations (a second call does nothing).

        Safe when several processes open one file at once: each migration is checked and applied
        inside one write transaction, so exactly one process applies it.
        """
        if self._conn is not None:
            return

        def connect() -> None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=5000")
            _while_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
            # FULL: a commit is on disk before the write is acknowledged.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)"
            )
            conn.execute("COMMIT")
            for version, script in migration_scripts("migrations"):
                conn.execute("BEGIN IMMEDIATE")
                try:
                    applied = conn.execute(
                        "SELECT 1 FROM schema_migrations WHERE version = ?", (version,)
                    ).fetchone()
                    if applied is None:
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
        if not is_storable_id(doc_id):
            return None

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
        check_storable_id(doc_id)
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
        if not is_storable_id(doc_id):
            return None

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

    async def publish(self, kind: str, key: str) -> None:
        """Append a change and prune old ones in one transaction (nobody to wake: readers poll)."""
        check_change(kind, key)

        def fn(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    f"INSERT INTO changes (kind, key, created_ms) VALUES (?, ?, {_NOW_MS}) RETURNING id",
                    (kind, key),
                ).fetchone()
                conn.execute(_PRUNE, (int(row[0]) - self._keep_changes, self._keep_changes_ms))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        await self._run(fn)

    async def changes_since(self, after_id: int, limit: int = 1000) -> list[Change]:
        """Changes newer than ``after_id``, oldest first."""

        def fn(conn: sqlite3.Connection) -> list[Change]:
            rows = conn.execute(
                "SELECT id, kind, key FROM changes WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
            ).fetchall()
            return [(int(r[0]), r[1], r[2]) for r in rows]

        return await self._run(fn)

    async def latest_change_id(self) -> int:
        """The newest change id, or 0."""

        def fn(conn: sqlite3.Connection) -> int:
            return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM changes").fetchone()[0])

        return await self._run(fn)

    async def listen(self, callback: ChangeListener) -> bool:
        """SQLite cannot push changes to other processes: callers poll ``changes_since``."""
        return False

    async def unlisten(self, callback: ChangeListener) -> None:
        """Nothing to undo."""

    async def heartbeat(self, node_id: str, info: Mapping[str, Any], now_ms: int) -> None:
        """Register or refresh a node."""
        encoded = orjson.dumps(info).decode()

        def fn(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO nodes (id, info, last_seen_ms) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE "
                "SET info = excluded.info, last_seen_ms = excluded.last_seen_ms",
                (node_id, encoded, now_ms),
            )

        await self._run(fn)

    async def load_nodes(self) -> list[tuple[str, dict[str, Any], int]]:
        """Every registered node, ordered by id."""

        def fn(conn: sqlite3.Connection) -> list[tuple[str, dict[str, Any], int]]:
            rows = conn.execute("SELECT id, info, last_seen_ms FROM nodes ORDER BY id").fetchall()
            return [(r[0], orjson.loads(r[1]), int(r[2])) for r in rows]

        return await self._run(fn)

    async def remove_node(self, node_id: str) -> None:
        """Forget a node."""

        def fn(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM nodes WHERE id = ?", (node_id,))

        await self._run(fn)


def _next_seq_no(conn: sqlite3.Connection, collection: str) -> int:
    row = conn.execute(
        "INSERT INTO sequences (collection, seq_no) VALUES (?, 0) "
        "ON CONFLICT (collection) DO UPDATE SET seq_no = seq_no + 1 RETURNING seq_no",
        (collection,),
    ).fetchone()
    return int(row[0])


def _while_locked(statement: Callable[[], object], *, attempts: int = 100) -> None:
    """Run a statement SQLite refuses with "database is locked" without consulting the busy handler
    (switching the journal mode) while several processes open the same file at once."""
    for attempt in range(attempts):
        try:
            statement()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)
