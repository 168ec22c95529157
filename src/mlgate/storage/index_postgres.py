"""The PostgreSQL + pgvector index engine: every node of a cluster serves every index.

Documents (``_source`` as bytes), postings (term, frequency, positions and the field length, so BM25
statistics are exact: document frequency = a count over the term's postings) and per-field counters
live in plain tables; each ``knn_vector`` field gets a table with a ``vector(n)`` column and an HNSW
index (pgvector's operator class for its space; ``linf`` has none and is searched exhaustively). A bulk
is one transaction that locks its index's row, so seq_nos follow commit order across nodes. Distances
returned are recomputed exactly from the stored vectors (``index_vectors.distances``), as the embedded
engine does, so both engines rank and score alike.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import asyncpg
import orjson

from mlgate.storage import index_postgres_write as writes
from mlgate.storage.index_postgres_vectors import search_vectors, vectors_within
from mlgate.storage.index_store import (
    DocumentWrite,
    IndexExists,
    IndexMissing,
    IndexRecord,
    MappingConflict,
    Posting,
    StoredDocument,
    TermStats,
    VectorExtensionMissing,
    VectorField,
    VectorHit,
    WriteConflict,
    WriteResult,
)

_SCHEMA_LOCK = 0x6D6C67617465_10
_DOC = "key, doc_id, source, version, seq_no, primary_term"
_INDEX = "name, uuid, creation_date_ms, settings, mappings, mapping_version"
_MISSING_VECTOR = (
    "PostgreSQL has no 'vector' extension (pgvector), which the index store needs: install it on the "
    "database server (Debian/Ubuntu: apt-get install postgresql-<version>-pgvector; or use a PostgreSQL "
    "build that ships it), then restart mlgate; it runs CREATE EXTENSION IF NOT EXISTS vector itself "
    "when its database user may (otherwise run it once as a superuser). Cause: {cause}"
)


def _doc(row: asyncpg.Record) -> StoredDocument:
    return StoredDocument(
        row["key"], row["doc_id"], bytes(row["source"]), row["version"], row["seq_no"], row["primary_term"]
    )


def _record(row: asyncpg.Record) -> IndexRecord:
    return IndexRecord(
        row["name"],
        row["uuid"],
        row["creation_date_ms"],
        orjson.loads(row["settings"]),
        orjson.loads(row["mappings"]),
        row["mapping_version"],
    )


class PostgresIndexStore:
    """Indices shared by the nodes of one PostgreSQL database."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self._url = url
        self._min_size = min_size
        self._max_size = max_size
        self._pool: asyncpg.Pool | None = None

    @property
    def _db(self) -> asyncpg.Pool:
        assert self._pool is not None, "index store not opened"
        return self._pool

    async def open(self) -> None:
        """Connect, make sure ``vector`` exists (VectorExtensionMissing says how to get it), create tables."""
        if self._pool is not None:
            return
        pool = await asyncpg.create_pool(self._url, min_size=self._min_size, max_size=self._max_size)
        try:
            async with pool.acquire() as conn:
                await conn.execute("SELECT pg_advisory_lock($1)", _SCHEMA_LOCK)
                try:
                    try:
                        await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
                    except asyncpg.PostgresError as exc:
                        raise VectorExtensionMissing(_MISSING_VECTOR.format(cause=exc)) from exc
                    if await conn.fetchval("SELECT to_regtype('vector')") is None:
                        schema = await conn.fetchval(
                            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'vector'"
                        )
                        raise VectorExtensionMissing(
                            _MISSING_VECTOR.format(
                                cause=f"the extension is in schema {schema}, not on the search_path"
                            )
                        )
                    await conn.execute(writes.SCHEMA)
                finally:
                    await conn.execute("SELECT pg_advisory_unlock($1)", _SCHEMA_LOCK)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

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
        async with self._db.acquire() as conn, conn.transaction():
            taken = await conn.fetchval("SELECT uuid FROM idx_indices WHERE name = $1", name)
            if taken is not None:
                raise IndexExists(taken)
            try:
                await conn.execute(
                    "INSERT INTO idx_indices (name, uuid, creation_date_ms, settings, mappings) VALUES ($1, $2, $3, $4, $5)",
                    name,
                    uuid,
                    creation_date_ms,
                    orjson.dumps(dict(settings)).decode(),
                    orjson.dumps(dict(mappings)).decode(),
                )
            except asyncpg.UniqueViolationError:
                raise IndexExists(
                    await self._db.fetchval("SELECT uuid FROM idx_indices WHERE name = $1", name)
                ) from None
        return IndexRecord(name, uuid, creation_date_ms, dict(settings), dict(mappings), 1)

    async def delete_index(self, name: str) -> bool:
        async with self._db.acquire() as conn, conn.transaction():
            no = await conn.fetchval("SELECT no FROM idx_indices WHERE name = $1 FOR UPDATE", name)
            if no is None:
                return False
            for (field_no,) in await conn.fetch(
                "SELECT no FROM idx_fields WHERE index_no = $1 AND dimension IS NOT NULL", no
            ):
                await conn.execute(f"DROP TABLE IF EXISTS idx_vec_{int(field_no)}")
            await conn.execute(
                "DELETE FROM idx_postings WHERE field_no IN (SELECT no FROM idx_fields WHERE index_no = $1)",
                no,
            )
            await conn.execute(
                "DELETE FROM idx_indices WHERE no = $1", no
            )  # fields, docs, tombstones cascade
        return True

    async def load_index(self, name: str) -> IndexRecord | None:
        row = await self._db.fetchrow(f"SELECT {_INDEX} FROM idx_indices WHERE name = $1", name)
        return _record(row) if row else None

    async def list_indices(self) -> list[IndexRecord]:
        return [
            _record(row) for row in await self._db.fetch(f"SELECT {_INDEX} FROM idx_indices ORDER BY name")
        ]

    async def put_settings(self, name: str, settings: Mapping[str, str]) -> IndexRecord:
        row = await self._db.fetchrow(
            f"UPDATE idx_indices SET settings = $2 WHERE name = $1 RETURNING {_INDEX}",
            name,
            orjson.dumps(dict(settings)).decode(),
        )
        if row is None:
            raise IndexMissing(name)
        return _record(row)

    async def put_mappings(
        self, name: str, mappings: Mapping[str, Any], *, if_mapping_version: int | None = None
    ) -> IndexRecord:
        async with self._db.acquire() as conn, conn.transaction():
            await writes.save_mappings(conn, name, mappings, if_mapping_version)
            row = await conn.fetchrow(f"SELECT {_INDEX} FROM idx_indices WHERE name = $1", name)
        return _record(row)

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
        async with self._db.acquire() as conn, conn.transaction():
            if mappings is not None:
                await writes.save_mappings(conn, name, mappings, if_mapping_version)
            return await writes.write_items(conn, name, items, vector_fields or {})

    async def _index_no(self, conn: asyncpg.Connection | asyncpg.Pool, name: str) -> int:
        no = await conn.fetchval("SELECT no FROM idx_indices WHERE name = $1", name)
        if no is None:
            raise IndexMissing(name)
        return int(no)

    async def get(self, name: str, doc_id: str) -> StoredDocument | None:
        no = await self._index_no(self._db, name)
        row = await self._db.fetchrow(
            f"SELECT {_DOC} FROM idx_docs WHERE index_no = $1 AND doc_id = $2", no, doc_id
        )
        return _doc(row) if row else None

    async def get_many(self, name: str, keys: Collection[int]) -> dict[int, StoredDocument]:
        no = await self._index_no(self._db, name)
        rows = await self._db.fetch(
            f"SELECT {_DOC} FROM idx_docs WHERE index_no = $1 AND key = ANY($2::bigint[])", no, list(keys)
        )
        return {row["key"]: _doc(row) for row in rows}

    async def scan(self, name: str, *, after_key: int = 0, limit: int = 1000) -> list[StoredDocument]:
        no = await self._index_no(self._db, name)
        rows = await self._db.fetch(
            f"SELECT {_DOC} FROM idx_docs WHERE index_no = $1 AND key > $2 ORDER BY key LIMIT $3",
            no,
            after_key,
            limit,
        )
        return [_doc(row) for row in rows]

    async def count(self, name: str) -> int:
        no = await self._index_no(self._db, name)
        return int(await self._db.fetchval("SELECT count(*) FROM idx_docs WHERE index_no = $1", no))

    async def refresh(self, name: str) -> None:
        await self._index_no(self._db, name)

    # --- search ----------------------------------------------------------------------------------------

    async def term_stats(
        self, name: str, field: str, terms: Collection[str], *, positions: bool = False
    ) -> TermStats:
        wanted = list(dict.fromkeys(terms))
        async with self._db.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            no = await self._index_no(conn, name)
            row = await conn.fetchrow(
                "SELECT no, doc_count, sum_length FROM idx_fields WHERE index_no = $1 AND name = $2",
                no,
                field,
            )
            if row is None:
                return TermStats(0, 0, dict.fromkeys(wanted, 0), [])
            rows = await conn.fetch(
                "SELECT key, term, freq, positions, length FROM idx_postings WHERE field_no = $1 AND term = ANY($2::text[]) ORDER BY key",
                row["no"],
                wanted,
            )
        doc_freqs = dict.fromkeys(wanted, 0)
        by_key: dict[int, tuple[int, dict[str, int], dict[str, tuple[int, ...]]]] = {}
        for posting in rows:
            doc_freqs[posting["term"]] += 1
            entry = by_key.setdefault(posting["key"], (posting["length"], {}, {}))
            entry[1][posting["term"]] = posting["freq"]
            entry[2][posting["term"]] = tuple(posting["positions"])
        postings = [
            Posting(key, length, freqs, where if positions else None)
            for key, (length, freqs, where) in by_key.items()
        ]
        return TermStats(row["doc_count"], row["sum_length"], doc_freqs, postings)

    async def expand_terms(self, name: str, field: str, prefix: str, *, limit: int = 1000) -> list[str]:
        no = await self._index_no(self._db, name)
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self._db.fetch(
            "SELECT DISTINCT p.term FROM idx_postings AS p JOIN idx_fields AS f ON f.no = p.field_no "
            "WHERE f.index_no = $1 AND f.name = $2 AND p.term LIKE $3 ORDER BY p.term LIMIT $4",
            no,
            field,
            escaped + "%",
            limit,
        )
        return sorted(row["term"] for row in rows)

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
        async with self._db.acquire() as conn, conn.transaction(readonly=True):
            spec = await self._vector_field(conn, name, field)
            if spec is None:
                return []
            return await search_vectors(conn, *spec, vector, k, allowed=allowed, exact=exact)

    async def within(
        self,
        name: str,
        field: str,
        vector: Sequence[float],
        max_distance: float,
        *,
        allowed: Collection[int] | None = None,
    ) -> list[VectorHit]:
        async with self._db.acquire() as conn, conn.transaction(readonly=True):
            spec = await self._vector_field(conn, name, field)
            if spec is None:
                return []
            return await vectors_within(conn, *spec, vector, max_distance, allowed=allowed)

    async def _vector_field(
        self, conn: asyncpg.Connection, name: str, field: str
    ) -> tuple[int, int, str] | None:
        no = await self._index_no(conn, name)
        row = await conn.fetchrow(
            "SELECT no, dimension, space FROM idx_fields WHERE index_no = $1 AND name = $2 AND dimension IS NOT NULL",
            no,
            field,
        )
        return (row["no"], row["dimension"], row["space"]) if row else None


__all__ = ["MappingConflict", "PostgresIndexStore"]
