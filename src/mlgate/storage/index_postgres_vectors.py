"""k-NN on PostgreSQL: one table per ``knn_vector`` field with pgvector's HNSW index.

The index's operator class follows the space (``vector_l2_ops``, ``vector_ip_ops``, ``vector_cosine_ops``,
``vector_l1_ops``); ``linf`` has no pgvector operator and fields over 2,000 dimensions cannot carry an
HNSW index, so those are searched exhaustively. pgvector finds the candidates; distances are recomputed
exactly here (``vector_distance.py``). A filter letting few documents through is searched exhaustively
over those documents; a wider one uses the index with pgvector's iterative scan so that enough
candidates pass it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import asyncpg
import numpy as np

from mlgate.storage.index_store import VectorHit
from mlgate.storage.vector_distance import distances, nearest_first, prepare

# OpenSearch k-NN's HNSW defaults; pgvector caps ef_search at 1,000 and HNSW at 2,000 dimensions.
HNSW_M, EF_CONSTRUCTION, EF_SEARCH, MAX_EF_SEARCH, MAX_HNSW_DIMENSION = 16, 100, 100, 1000, 2000
EXACT_FILTER_LIMIT = 10_000
_OPERATORS = {
    "l2": ("vector_l2_ops", "<->"),
    "innerproduct": ("vector_ip_ops", "<#>"),
    "cosinesimil": ("vector_cosine_ops", "<=>"),
    "l1": ("vector_l1_ops", "<+>"),
}
_TABLE_LOCK = 0x6D6C67617465_11


async def ensure_vector_table(conn: asyncpg.Connection, field_no: int, dimension: int, space: str) -> None:
    """The field's table and HNSW index (nodes racing to create them queue on a lock)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _TABLE_LOCK)
    table = f"idx_vec_{int(field_no)}"
    await conn.execute(
        f"CREATE TABLE IF NOT EXISTS {table} (key BIGINT PRIMARY KEY, embedding vector({int(dimension)}) NOT NULL)"
    )
    operator = _OPERATORS.get(space)
    if operator is not None and dimension <= MAX_HNSW_DIMENSION:
        await conn.execute(
            f"CREATE INDEX IF NOT EXISTS {table}_hnsw ON {table} USING hnsw (embedding {operator[0]}) "
            f"WITH (m = {HNSW_M}, ef_construction = {EF_CONSTRUCTION})"
        )


async def search_vectors(
    conn: asyncpg.Connection,
    field_no: int,
    dimension: int,
    space: str,
    vector: Sequence[float],
    k: int,
    *,
    allowed: Collection[int] | None,
    exact: bool,
) -> list[VectorHit]:
    """The k nearest (inside a transaction), exact distances, nearest first."""
    table = f"idx_vec_{int(field_no)}"
    query = np.asarray(vector, dtype=np.float32)
    keys = None if allowed is None else list(allowed)
    if keys is not None and not keys:
        return []
    operator = _OPERATORS.get(space) if dimension <= MAX_HNSW_DIMENSION else None
    if exact or operator is None or (keys is not None and len(keys) <= max(k, EXACT_FILTER_LIMIT)):
        return _top(space, query, await _rows(conn, table, keys), k)
    await conn.execute(f"SET LOCAL hnsw.ef_search = {min(max(EF_SEARCH, k), MAX_EF_SEARCH)}")
    if keys is not None or k > MAX_EF_SEARCH:
        await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
    where = "" if keys is None else "WHERE key = ANY($3::bigint[])"
    arguments: list[object] = [[float(x) for x in query], k] + ([keys] if keys is not None else [])
    rows = await conn.fetch(
        f"SELECT key, embedding::real[] AS v FROM {table} {where} "
        f"ORDER BY embedding {operator[1]} $1::real[]::vector LIMIT $2",
        *arguments,
    )
    found = _top(space, query, rows, k)
    if keys is not None and len(found) < min(k, len(keys)):
        return _top(space, query, await _rows(conn, table, keys), k)
    return found


async def vectors_within(
    conn: asyncpg.Connection,
    field_no: int,
    dimension: int,
    space: str,
    vector: Sequence[float],
    max_distance: float,
    *,
    allowed: Collection[int] | None,
) -> list[VectorHit]:
    """Every document at distance ≤ ``max_distance`` (exhaustive), nearest first."""
    table = f"idx_vec_{int(field_no)}"
    query = np.asarray(vector, dtype=np.float32)
    rows = await _rows(conn, table, None if allowed is None else list(allowed))
    if not rows:
        return []
    keys = np.array([row["key"] for row in rows], dtype=np.int64)
    found = distances(space, prepare(space, query), prepare(space, np.array([row["v"] for row in rows])))
    keep = found <= np.float32(max_distance)
    return [VectorHit(key, distance) for key, distance in nearest_first(keys[keep], found[keep])]


async def _rows(conn: asyncpg.Connection, table: str, keys: list[int] | None) -> list[asyncpg.Record]:
    if keys is None:
        return list(await conn.fetch(f"SELECT key, embedding::real[] AS v FROM {table}"))
    return list(
        await conn.fetch(
            f"SELECT key, embedding::real[] AS v FROM {table} WHERE key = ANY($1::bigint[])", keys
        )
    )


def _top(space: str, query: np.ndarray, rows: Sequence[asyncpg.Record], k: int) -> list[VectorHit]:
    if not rows:
        return []
    keys = np.array([row["key"] for row in rows], dtype=np.int64)
    found = distances(space, prepare(space, query), prepare(space, np.array([row["v"] for row in rows])))
    if len(found) > k:
        part = np.argpartition(found, k - 1)[:k]
        keys, found = keys[part], found[part]
    return [VectorHit(key, distance) for key, distance in nearest_first(keys, found)]
