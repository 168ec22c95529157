"""The PostgreSQL index engine's tables and a bulk's items applied inside its transaction.

Same rules as the embedded engine (``index_sqlite_write.py``): refused items write nothing and take no
seq_no; versions carry across deletes through tombstones; every write gives the document a new key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import orjson

from mlgate.storage.index_postgres_vectors import ensure_vector_table
from mlgate.storage.index_store import (
    DocumentWrite,
    IndexMissing,
    MappingConflict,
    VectorField,
    WriteConflict,
    WriteResult,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS idx_indices (no BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, uuid TEXT NOT NULL,
    creation_date_ms BIGINT NOT NULL, settings TEXT NOT NULL, mappings TEXT NOT NULL,
    mapping_version INTEGER NOT NULL DEFAULT 1, seq_no BIGINT NOT NULL DEFAULT -1);
CREATE TABLE IF NOT EXISTS idx_fields (no BIGSERIAL PRIMARY KEY,
    index_no BIGINT NOT NULL REFERENCES idx_indices (no) ON DELETE CASCADE, name TEXT NOT NULL,
    doc_count BIGINT NOT NULL DEFAULT 0, sum_length BIGINT NOT NULL DEFAULT 0, dimension INTEGER, space TEXT,
    UNIQUE (index_no, name));
CREATE TABLE IF NOT EXISTS idx_docs (key BIGSERIAL PRIMARY KEY,
    index_no BIGINT NOT NULL REFERENCES idx_indices (no) ON DELETE CASCADE, doc_id TEXT NOT NULL,
    source BYTEA NOT NULL, version BIGINT NOT NULL, seq_no BIGINT NOT NULL, primary_term BIGINT NOT NULL,
    UNIQUE (index_no, doc_id));
CREATE TABLE IF NOT EXISTS idx_postings (field_no BIGINT NOT NULL, term TEXT NOT NULL, key BIGINT NOT NULL,
    freq INTEGER NOT NULL, positions INTEGER[] NOT NULL, length INTEGER NOT NULL,
    PRIMARY KEY (field_no, term, key));
CREATE INDEX IF NOT EXISTS idx_postings_key ON idx_postings (key);
CREATE TABLE IF NOT EXISTS idx_tombstones (index_no BIGINT NOT NULL REFERENCES idx_indices (no) ON DELETE CASCADE,
    doc_id TEXT NOT NULL, version BIGINT NOT NULL, PRIMARY KEY (index_no, doc_id));
"""
# Lucene's position_increment_gap for text fields: values of an array are this far apart.
POSITION_GAP = 100


async def save_mappings(
    conn: asyncpg.Connection, name: str, mappings: Mapping[str, Any], if_version: int | None
) -> None:
    current = await conn.fetchval("SELECT mapping_version FROM idx_indices WHERE name = $1 FOR UPDATE", name)
    if current is None:
        raise IndexMissing(name)
    if if_version is not None and current != if_version:
        raise MappingConflict(name)
    await conn.execute(
        "UPDATE idx_indices SET mappings = $2, mapping_version = mapping_version + 1 WHERE name = $1",
        name,
        orjson.dumps(dict(mappings)).decode(),
    )


class _Bulk:
    """Field numbers, statistics deltas and rows to copy, for one bulk."""

    def __init__(self, conn: asyncpg.Connection, index_no: int) -> None:
        self.conn = conn
        self.index_no = index_no
        self.numbers: dict[str, int] = {}
        self.vectors: dict[int, tuple[int, str]] = {}
        self.deltas: dict[int, list[int]] = {}
        # Rows to copy at the end, by document key (a key written earlier in the bulk can be removed).
        self.postings: dict[int, list[tuple[int, str, int, int, list[int], int]]] = {}
        self.vector_rows: dict[int, dict[int, list[float]]] = {}

    async def load(self, vector_fields: Mapping[str, VectorField]) -> None:
        for row in await self.conn.fetch(
            "SELECT no, name, dimension, space FROM idx_fields WHERE index_no = $1", self.index_no
        ):
            self.numbers[row["name"]] = row["no"]
            if row["dimension"] is not None:
                self.vectors[row["no"]] = (row["dimension"], row["space"])
        for name, spec in vector_fields.items():
            no = await self.number(name)
            if no not in self.vectors:
                await self.conn.execute(
                    "UPDATE idx_fields SET dimension = $2, space = $3 WHERE no = $1",
                    no,
                    spec.dimension,
                    spec.space_type,
                )
                await ensure_vector_table(self.conn, no, spec.dimension, spec.space_type)
                self.vectors[no] = (spec.dimension, spec.space_type)

    async def number(self, name: str) -> int:
        no = self.numbers.get(name)
        if no is None:
            no = await self.conn.fetchval(
                "INSERT INTO idx_fields (index_no, name) VALUES ($1, $2) "
                "ON CONFLICT (index_no, name) DO UPDATE SET name = EXCLUDED.name RETURNING no",
                self.index_no,
                name,
            )
            self.numbers[name] = int(no)
        return int(no)

    def count(self, field_no: int, length: int, sign: int) -> None:
        delta = self.deltas.setdefault(field_no, [0, 0])
        delta[0] += sign
        delta[1] += sign * length

    async def flush(self) -> None:
        records = [row for rows in self.postings.values() for row in rows]
        if records:
            await self.conn.copy_records_to_table(
                "idx_postings",
                records=records,
                columns=["field_no", "term", "key", "freq", "positions", "length"],
            )
        for field_no, by_key in self.vector_rows.items():
            if by_key:
                await self.conn.executemany(
                    f"INSERT INTO idx_vec_{field_no} (key, embedding) VALUES ($1, $2::real[]::vector)",
                    list(by_key.items()),
                )
        for field_no, (docs, length) in self.deltas.items():
            await self.conn.execute(
                "UPDATE idx_fields SET doc_count = doc_count + $2, sum_length = sum_length + $3 WHERE no = $1",
                field_no,
                docs,
                length,
            )


async def write_items(
    conn: asyncpg.Connection,
    name: str,
    items: Sequence[DocumentWrite],
    vector_fields: Mapping[str, VectorField],
) -> list[WriteResult | WriteConflict]:
    row = await conn.fetchrow("SELECT no, seq_no FROM idx_indices WHERE name = $1 FOR UPDATE", name)
    if row is None:
        raise IndexMissing(name)
    index_no, seq_no = row["no"], row["seq_no"]
    bulk = _Bulk(conn, index_no)
    await bulk.load(vector_fields)
    results: list[WriteResult | WriteConflict] = []
    for item in items:
        existing = await conn.fetchrow(
            "SELECT key, version, seq_no, primary_term FROM idx_docs WHERE index_no = $1 AND doc_id = $2",
            index_no,
            item.doc_id,
        )
        if _conflicts(item, existing):
            current = (
                (existing["version"], existing["seq_no"], existing["primary_term"])
                if existing
                else (None,) * 3
            )
            results.append(WriteConflict(item.doc_id, *current))
            continue
        seq_no += 1
        if existing is not None:
            await _remove(bulk, existing["key"])
            version = existing["version"] + 1
        else:
            tombstone = await conn.fetchval(
                "SELECT version FROM idx_tombstones WHERE index_no = $1 AND doc_id = $2",
                index_no,
                item.doc_id,
            )
            version = tombstone + 1 if tombstone is not None else 1
        if item.op == "delete":
            if existing is not None:
                await conn.execute(
                    "INSERT INTO idx_tombstones (index_no, doc_id, version) VALUES ($1, $2, $3) "
                    "ON CONFLICT (index_no, doc_id) DO UPDATE SET version = EXCLUDED.version",
                    index_no,
                    item.doc_id,
                    version,
                )
            results.append(WriteResult(item.doc_id, "deleted" if existing else "not_found", version, seq_no))
            continue
        await _insert(bulk, item, version, seq_no)
        await conn.execute(
            "DELETE FROM idx_tombstones WHERE index_no = $1 AND doc_id = $2", index_no, item.doc_id
        )
        results.append(WriteResult(item.doc_id, "updated" if existing else "created", version, seq_no))
    await bulk.flush()
    await conn.execute("UPDATE idx_indices SET seq_no = $2 WHERE no = $1", index_no, seq_no)
    return results


def _conflicts(item: DocumentWrite, existing: asyncpg.Record | None) -> bool:
    if item.if_seq_no is not None or item.if_primary_term is not None:
        if existing is None:
            return True
        return (existing["seq_no"], existing["primary_term"]) != (item.if_seq_no, item.if_primary_term)
    return item.op == "create" and existing is not None


async def _insert(bulk: _Bulk, item: DocumentWrite, version: int, seq_no: int) -> None:
    if item.source is None:
        raise ValueError(f"an {item.op} item needs a source")
    key = await bulk.conn.fetchval(
        "INSERT INTO idx_docs (index_no, doc_id, source, version, seq_no, primary_term) "
        "VALUES ($1, $2, $3, $4, $5, 1) RETURNING key",
        bulk.index_no,
        item.doc_id,
        item.source,
        version,
        seq_no,
    )
    for path, values in item.terms.items():
        positions: dict[str, list[int]] = {}
        position = 0
        for value_number, tokens in enumerate(values):
            base = position + POSITION_GAP * value_number
            for offset, token in enumerate(tokens):
                positions.setdefault(token, []).append(base + offset)
            position += len(tokens)
        if position == 0:
            continue
        field_no = await bulk.number(path)
        bulk.count(field_no, position, +1)
        bulk.postings.setdefault(key, []).extend(
            (field_no, term, key, len(where), where, position) for term, where in positions.items()
        )
    for path, vector in item.vectors.items():
        vector_no = bulk.numbers.get(path)
        if vector_no is None or vector_no not in bulk.vectors:
            raise ValueError(f"[{path}] is not a knn_vector field of this index")
        if len(vector) != bulk.vectors[vector_no][0]:
            raise ValueError(f"[{path}] expects {bulk.vectors[vector_no][0]} dimensions")
        bulk.vector_rows.setdefault(vector_no, {})[key] = [float(x) for x in vector]


async def _remove(bulk: _Bulk, key: int) -> None:
    # A key written earlier in this bulk still has its rows in memory; an older one has them in tables.
    lengths = {row[0]: row[5] for row in bulk.postings.pop(key, [])}
    for by_key in bulk.vector_rows.values():
        by_key.pop(key, None)
    for row in await bulk.conn.fetch(
        "DELETE FROM idx_postings WHERE key = $1 RETURNING field_no, length", key
    ):
        lengths[row["field_no"]] = row["length"]
    for field_no, length in lengths.items():
        bulk.count(field_no, length, -1)
    for field_no in bulk.vectors:
        await bulk.conn.execute(f"DELETE FROM idx_vec_{field_no} WHERE key = $1", key)
    await bulk.conn.execute("DELETE FROM idx_docs WHERE key = $1", key)
