"""The embedded engine's vectors in memory: one ``VectorSet`` per knn field, kept equal to SQLite.

SQLite holds every vector durably (table ``vectors``); memory holds what search needs. ``sync`` makes
memory equal SQLite — at open (after loading the HNSW snapshots saved at the last close, so only what
changed since is added or removed) and whenever another process wrote the file. ``apply`` takes the
changes of one committed bulk. ``sync`` runs on the SQLite thread, everything else on the vector thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np

from mlgate.storage.index_sqlite_write import VectorChange
from mlgate.storage.index_vectors import VectorSet

T = TypeVar("T")
_SYNC_CHUNK = 10_000


class VectorCatalog:
    def __init__(self, directory: Path, executor: ThreadPoolExecutor, *, approximate_from: int) -> None:
        self.snapshots = directory / "vectors"
        self.executor = executor
        self.approximate_from = approximate_from
        self.sets: dict[int, VectorSet] = {}  # by field number

    async def run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn)

    def field(self, field_no: int, dimension: int, space: str) -> VectorSet:
        vectors = self.sets.get(field_no)
        if vectors is None:
            vectors = self.sets[field_no] = VectorSet(
                dimension, space, approximate_from=self.approximate_from
            )
        return vectors

    def sync(self, conn: sqlite3.Connection, *, load_snapshots: bool) -> None:
        """Make memory equal SQLite. Runs on the SQLite thread and waits there for the vector thread, so
        no write of this process can commit between reading SQLite and changing memory."""
        fields = _vector_keys(conn)
        for field_no, dimension, space, wanted in fields:
            fresh = field_no not in self.sets
            vectors = self.field(field_no, dimension, space)
            if fresh and load_snapshots:
                self.executor.submit(vectors.load, self.snapshots / f"{field_no}.npz").result()
            stale = [key for key in vectors.rows if key not in wanted]
            missing = sorted(key for key in wanted if key not in vectors.rows)
            self.executor.submit(_apply, vectors, stale, []).result()
            # In chunks, so a rebuild holds one chunk beside the index rather than every vector twice.
            for start in range(0, len(missing), _SYNC_CHUNK):
                rows = load_vectors(conn, field_no, missing[start : start + _SYNC_CHUNK])
                self.executor.submit(_apply, vectors, [], rows).result()
        # Fields of indices another process deleted.
        known = {field_no for field_no, *_ in fields}
        self.executor.submit(self.forget_memory, [n for n in self.sets if n not in known]).result()

    def apply(self, changes: Sequence[VectorChange]) -> None:
        # One removal and one addition per field: a key added and removed within the bulk (an id written
        # twice) never reaches the index.
        per_field: dict[int, tuple[list[int], dict[int, np.ndarray]]] = {}
        for field_no, dimension, space, key, vector in changes:
            self.field(field_no, dimension, space)
            removed, added = per_field.setdefault(field_no, ([], {}))
            if vector is not None:
                added[key] = vector
            elif added.pop(key, None) is None:
                removed.append(key)
        for field_no, (removed, added) in per_field.items():
            _apply(self.sets[field_no], removed, list(added.items()))

    def save_all(self) -> None:
        self.snapshots.mkdir(parents=True, exist_ok=True)
        for field_no, vectors in self.sets.items():
            vectors.save(self.snapshots / f"{field_no}.npz")

    def forget_memory(self, field_nos: Sequence[int]) -> None:
        for field_no in field_nos:
            self.sets.pop(field_no, None)

    def forget(self, field_nos: Sequence[int]) -> None:
        for field_no in field_nos:
            self.sets.pop(field_no, None)
            (self.snapshots / f"{field_no}.npz").unlink(missing_ok=True)


def _vector_keys(conn: sqlite3.Connection) -> list[tuple[int, int, str, set[int]]]:
    conn.execute("BEGIN")
    try:
        fields = conn.execute(
            "SELECT no, dimension, space FROM fields WHERE dimension IS NOT NULL"
        ).fetchall()
        return [
            (
                no,
                dim,
                space,
                {key for (key,) in conn.execute("SELECT key FROM vectors WHERE field_no = ?", (no,))},
            )
            for no, dim, space in fields
        ]
    finally:
        conn.execute("COMMIT")


def load_vectors(conn: sqlite3.Connection, field_no: int, keys: list[int]) -> list[tuple[int, np.ndarray]]:
    rows: list[tuple[int, np.ndarray]] = []
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for key, blob in conn.execute(
            f"SELECT key, vector FROM vectors WHERE field_no = ? AND key IN ({marks})", (field_no, *chunk)
        ):
            rows.append((key, np.frombuffer(blob, dtype=np.float32)))
    return rows


def _apply(vectors: VectorSet, stale: list[int], rows: list[tuple[int, np.ndarray]]) -> None:
    vectors.remove(stale)
    if rows:
        vectors.add([key for key, _ in rows], np.stack([vector for _, vector in rows]))
