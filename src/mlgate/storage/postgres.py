"""PostgreSQL store for several nodes sharing one cluster state.

An asyncpg connection pool; versioned migrations applied under an advisory lock (nodes may start at
once); documents as ``json`` (kept exactly as written, like OpenSearch's _source). Writes to a
collection serialise on its row in ``sequences``, which also hands out ``seq_no``; the checks that
follow therefore see every earlier write, as in SQLite. Published changes are also sent with NOTIFY on
the ``mlgate_changes`` channel; ``listen`` holds one extra connection that LISTENs for them.

The URL is asyncpg's: ``postgresql://user:password@host:port/database``; extra query parameters are
server settings, e.g. ``?search_path=mlgate`` keeps mlgate's tables in an existing schema.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import asyncpg
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

CHANNEL = "mlgate_changes"
# Advisory lock keys (database-wide): one serialises migrations, one serialises publishers so change
# ids are committed in the order they are assigned.
_MIGRATION_LOCK = 0x6D6C67617465_00
_PUBLISH_LOCK = 0x6D6C67617465_01
_NOW_MS = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
_COLUMNS = "id, source, version, seq_no, primary_term"
_NEXT_SEQ_NO = (
    "INSERT INTO sequences (collection, seq_no) VALUES ($1, 0) "
    "ON CONFLICT (collection) DO UPDATE SET seq_no = sequences.seq_no + 1 RETURNING seq_no"
)
# Drop changes older than both the last ``keep_changes`` and ``keep_changes_seconds`` (ids grow with
# time, so "older than the cut-off time" is "at most the newest id from before it": two index lookups).
_PRUNE = (
    "DELETE FROM changes WHERE id <= LEAST($1, COALESCE((SELECT id FROM changes "
    f"WHERE created_ms <= {_NOW_MS} - $2 ORDER BY created_ms DESC, id DESC LIMIT 1), 0))"
)
# How long to wait before each attempt to re-establish a lost LISTEN connection.
_RELISTEN_DELAYS = (0.0, 0.1, 0.5, 1.0, 2.0, 5.0)
_CONNECTION_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)

logger = logging.getLogger(__name__)


def _row_to_doc(row: asyncpg.Record) -> StoredDoc:
    return StoredDoc(
        id=row["id"],
        source=orjson.loads(row["source"]),
        version=row["version"],
        seq_no=row["seq_no"],
        primary_term=row["primary_term"],
    )


async def _migrate(conn: asyncpg.Connection) -> None:
    # Nodes starting at once queue on the advisory lock; the first applies, the others find it done.
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        applied = {row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, script in migration_scripts("migrations_pg"):
            if version in applied:
                continue
            async with conn.transaction():
                await conn.execute(script)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)


class PostgresStore:
    """The store of a cluster of nodes: every node opens one on the same database."""

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        keep_changes: int = 10_000,
        keep_changes_seconds: float = 3600,
    ) -> None:
        if keep_changes < 1:
            raise ValueError("keep_changes must be at least 1")
        self._url = url
        self._min_size = min_size
        self._max_size = max_size
        self._keep_changes = keep_changes
        self._keep_changes_ms = int(keep_changes_seconds * 1000)
        self._pool: asyncpg.Pool | None = None
        self._schema = ""
        self._listeners: list[ChangeListener] = []
        self._listen_conn: asyncpg.Connection | None = None
        self._relisten: asyncio.Task[None] | None = None

    @property
    def _db(self) -> asyncpg.Pool:
        assert self._pool is not None, "store not opened"
        return self._pool

    async def open(self) -> None:
        """Connect the pool and apply pending migrations (a second call does nothing)."""
        if self._pool is not None:
            return
        pool = await asyncpg.create_pool(self._url, min_size=self._min_size, max_size=self._max_size)
        try:
            async with pool.acquire() as conn:
                await _migrate(conn)
                self._schema = await conn.fetchval("SELECT current_schema()")
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    async def close(self) -> None:
        """Stop listening and close every connection."""
        self._listeners.clear()
        if self._relisten is not None:
            self._relisten.cancel()
            self._relisten = None
        await self._close_listen_conn()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def load(self, collection: str, doc_id: str) -> StoredDoc | None:
        """The document with this id, or None."""
        if not is_storable_id(doc_id):
            return None
        row = await self._db.fetchrow(
            f"SELECT {_COLUMNS} FROM documents WHERE collection = $1 AND id = $2", collection, doc_id
        )
        return _row_to_doc(row) if row else None

    async def load_all(self, collection: str) -> list[StoredDoc]:
        """Every document of a collection, oldest first."""
        rows = await self._db.fetch(
            f"SELECT {_COLUMNS} FROM documents WHERE collection = $1 ORDER BY ord", collection
        )
        return [_row_to_doc(r) for r in rows]

    async def load_where(self, collection: str, field: str, value: str) -> list[StoredDoc]:
        """Documents whose top-level ``field`` is the string ``value`` (as in SQLite: 5 is not "5").

        Not ``source ->> field``: PostgreSQL de-escapes the whole document for that, and one document
        holding ``\u0000`` anywhere would make the query fail for the collection. The stored text is
        orjson's, so the value's JSON spelling narrows the rows and the exact test runs here.
        """
        rows = await self._db.fetch(
            f"SELECT {_COLUMNS} FROM documents WHERE collection = $1 "
            "AND strpos(source::text, $2) > 0 ORDER BY ord",
            collection,
            orjson.dumps(value).decode(),
        )
        docs = (_row_to_doc(r) for r in rows)
        return [doc for doc in docs if isinstance(found := doc.source.get(field), str) and found == value]

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
        async with self._db.acquire() as conn, conn.transaction():
            seq_no = await conn.fetchval(_NEXT_SEQ_NO, collection)
            current = await conn.fetchval(
                "SELECT version FROM documents WHERE collection = $1 AND id = $2", collection, doc_id
            )
            if create_only and current is not None:
                raise VersionConflict(doc_id)
            if if_version is not None and current != if_version:
                raise VersionConflict(doc_id)
            version = (current or 0) + 1
            await conn.execute(
                "INSERT INTO documents (collection, id, source, version, seq_no) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (collection, id) DO UPDATE "
                "SET source = EXCLUDED.source, version = EXCLUDED.version, seq_no = EXCLUDED.seq_no",
                collection,
                doc_id,
                encoded,
                version,
                seq_no,
            )
        return StoredDoc(id=doc_id, source=dict(source), version=version, seq_no=seq_no)

    async def delete(self, collection: str, doc_id: str) -> StoredDoc | None:
        """Delete a document; returns it with the tombstone version, or None."""
        if not is_storable_id(doc_id):
            return None
        async with self._db.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                # seq_no first, like save: one lock order for every writer, so no deadlock.
                seq_no = await conn.fetchval(_NEXT_SEQ_NO, collection)
                row = await conn.fetchrow(
                    f"DELETE FROM documents WHERE collection = $1 AND id = $2 RETURNING {_COLUMNS}",
                    collection,
                    doc_id,
                )
            except BaseException:
                await transaction.rollback()
                raise
            if row is None:
                # Nothing to delete: give the seq_no back.
                await transaction.rollback()
                return None
            await transaction.commit()
        old = _row_to_doc(row)
        return StoredDoc(id=doc_id, source=old.source, version=old.version + 1, seq_no=seq_no)

    async def load_meta(self, key: str) -> str | None:
        """A metadata value, or None."""
        value: str | None = await self._db.fetchval("SELECT value FROM meta WHERE key = $1", key)
        return value

    async def save_meta(self, key: str, value: str) -> None:
        """Store a metadata value durably."""
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            key,
            value,
        )

    async def publish(self, kind: str, key: str) -> None:
        """Append a change, prune old ones, and NOTIFY listeners, all in one transaction."""
        check_change(kind, key)
        async with self._db.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _PUBLISH_LOCK)
            change_id = await conn.fetchval(
                f"INSERT INTO changes (kind, key, created_ms) VALUES ($1, $2, {_NOW_MS}) RETURNING id",
                kind,
                key,
            )
            await conn.execute(_PRUNE, change_id - self._keep_changes, self._keep_changes_ms)
            payload = {"schema": self._schema, "id": change_id}
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, orjson.dumps(payload).decode())

    async def changes_since(self, after_id: int, limit: int = 1000) -> list[Change]:
        """Changes newer than ``after_id``, oldest first."""
        rows = await self._db.fetch(
            "SELECT id, kind, key FROM changes WHERE id > $1 ORDER BY id LIMIT $2", after_id, limit
        )
        return [(r["id"], r["kind"], r["key"]) for r in rows]

    async def latest_change_id(self) -> int:
        """The newest change id, or 0."""
        latest: int = await self._db.fetchval("SELECT COALESCE(MAX(id), 0) FROM changes")
        return latest

    async def listen(self, callback: ChangeListener) -> bool:
        """LISTEN (one connection per store) and call ``callback()`` after every change from now on."""
        if self._listen_conn is None and self._relisten is None:
            await self._connect_listener()
        self._listeners.append(callback)
        return True

    async def unlisten(self, callback: ChangeListener) -> None:
        """Stop calling ``callback``; the LISTEN connection closes with the last listener."""
        if callback in self._listeners:
            self._listeners.remove(callback)
        if not self._listeners:
            if self._relisten is not None:
                self._relisten.cancel()
                self._relisten = None
            await self._close_listen_conn()

    async def heartbeat(self, node_id: str, info: Mapping[str, Any], now_ms: int) -> None:
        """Register or refresh a node."""
        await self._db.execute(
            "INSERT INTO nodes (id, info, last_seen_ms) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE "
            "SET info = EXCLUDED.info, last_seen_ms = EXCLUDED.last_seen_ms",
            node_id,
            orjson.dumps(info).decode(),
            now_ms,
        )

    async def load_nodes(self) -> list[tuple[str, dict[str, Any], int]]:
        """Every registered node, ordered by id."""
        rows = await self._db.fetch("SELECT id, info, last_seen_ms FROM nodes ORDER BY id")
        return [(r["id"], orjson.loads(r["info"]), r["last_seen_ms"]) for r in rows]

    async def remove_node(self, node_id: str) -> None:
        """Forget a node."""
        await self._db.execute("DELETE FROM nodes WHERE id = $1", node_id)

    async def _connect_listener(self) -> None:
        conn = await asyncpg.connect(self._url)
        try:
            await conn.add_listener(CHANNEL, self._on_notify)
        except BaseException:
            await conn.close()
            raise
        conn.add_termination_listener(self._on_listen_lost)
        self._listen_conn = conn

    async def _close_listen_conn(self) -> None:
        conn, self._listen_conn = self._listen_conn, None
        if conn is not None and not conn.is_closed():
            conn.remove_termination_listener(self._on_listen_lost)
            await conn.close()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        # One database may hold several mlgate clusters in different schemas: wake only for our own.
        if orjson.loads(str(payload)).get("schema") == self._schema:
            self._wake_listeners()

    def _wake_listeners(self) -> None:
        for callback in list(self._listeners):
            try:
                callback()
            except Exception:
                logger.exception("change listener %r failed", callback)

    def _on_listen_lost(self, _conn: object) -> None:
        self._listen_conn = None
        if self._listeners and self._pool is not None and self._relisten is None:
            self._relisten = asyncio.get_running_loop().create_task(self._listen_again())

    async def _listen_again(self) -> None:
        # Changes published while the connection was down were not pushed: once it is back, one
        # wake-up lets every listener catch up with changes_since from its own cursor.
        try:
            attempt = 0
            while True:
                await asyncio.sleep(_RELISTEN_DELAYS[min(attempt, len(_RELISTEN_DELAYS) - 1)])
                attempt += 1
                try:
                    await self._connect_listener()
                except _CONNECTION_ERRORS as exc:
                    logger.warning(
                        "LISTEN connection lost; attempt %d to restore it failed: %s", attempt, exc
                    )
                    continue
                self._wake_listeners()
                return
        finally:
            self._relisten = None
