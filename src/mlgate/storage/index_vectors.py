"""Vectors of one ``knn_vector`` field in memory, for the embedded engine: exact search (numpy) while
the field is small, a faiss HNSW index once it is large; distances always recomputed exactly.

Chosen by measurement (docs/search-engine.md, bench/search_engines.py): faiss-cpu builds an HNSW index
of 100k × 384 floats with recall@10 ≈ 1.0 at ef_search 100, answers in well under a millisecond,
filters inside the graph search (``IDSelectorBitmap``) and adds only ~10 % over the raw vectors.

Rows are positions 0…n−1; ``labels[row]`` is the document key. Deleted rows stay until a compaction
(faiss HNSW cannot remove): searches skip them through the same bitmap as filters. The HNSW index owns
the vectors (its flat storage), so exact rescoring reads them there instead of keeping a second copy.
Not thread-safe: the engine calls it from one thread.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from mlgate.storage.vector_distance import distances, nearest_first, prepare

# OpenSearch k-NN's HNSW defaults.
HNSW_M, EF_CONSTRUCTION, EF_SEARCH = 16, 100, 100
# Below this many live vectors a field is searched exhaustively (numpy: ~1 ms at 10k × 384).
APPROXIMATE_FROM = 10_000
# A filter letting at most this many documents through is searched exhaustively too.
EXACT_FILTER_LIMIT = 10_000
_METRICS = {
    "l2": faiss.METRIC_L2,
    "innerproduct": faiss.METRIC_INNER_PRODUCT,
    "cosinesimil": faiss.METRIC_INNER_PRODUCT,
    "l1": faiss.METRIC_L1,
    "linf": faiss.METRIC_Linf,
}


class VectorSet:
    """The vectors of one field."""

    def __init__(self, dimension: int, space: str, *, approximate_from: int = APPROXIMATE_FROM) -> None:
        self.dimension = dimension
        self.space = space
        self.approximate_from = approximate_from
        self.labels = np.empty(0, dtype=np.int64)
        self.alive = np.empty(0, dtype=bool)
        self.rows: dict[int, int] = {}
        self._matrix = np.empty((0, dimension), dtype=np.float32)  # exact mode (capacity may exceed size)
        self._size = 0
        self.hnsw: Any = None
        self._bitmap: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def matrix(self) -> np.ndarray:
        """All rows (dead ones included), without copying."""
        if self.hnsw is None:
            return self._matrix[: self._size]
        xb = faiss.downcast_index(self.hnsw.storage).get_xb()  # type: ignore[attr-defined]  # not in faiss's stubs
        return faiss.rev_swig_ptr(xb, self._size * self.dimension).reshape(self._size, self.dimension)

    def add(self, keys: Iterable[int], vectors: np.ndarray) -> None:
        """Add (or replace) the vectors of these document keys."""
        keys = list(keys)
        if not keys:
            return
        self.remove(key for key in keys if key in self.rows)
        prepared = prepare(self.space, vectors.reshape(len(keys), self.dimension))
        first = self._size
        if self.hnsw is not None:
            self.hnsw.add(prepared)
        else:
            needed = first + len(keys)
            if needed > len(self._matrix):
                grown = np.empty((max(needed, 2 * len(self._matrix), 64), self.dimension), dtype=np.float32)
                grown[:first] = self._matrix[:first]
                self._matrix = grown
            self._matrix[first:needed] = prepared
        self._size += len(keys)
        self.labels = np.concatenate([self.labels, np.asarray(keys, dtype=np.int64)])
        self.alive = np.concatenate([self.alive, np.ones(len(keys), dtype=bool)])
        self.rows.update((key, first + offset) for offset, key in enumerate(keys))
        self._bitmap = None
        if self.hnsw is None and len(self.rows) >= self.approximate_from:
            self._rebuild()

    def remove(self, keys: Iterable[int]) -> None:
        for key in keys:
            row = self.rows.pop(key, None)
            if row is not None:
                self.alive[row] = False
                self._bitmap = None
        dead = self._size - len(self.rows)
        if dead > 1000 and dead > self._size // 4:
            self._rebuild()

    def _rebuild(self) -> None:
        """Compact away dead rows; switch to HNSW when the field is large (or back when small)."""
        live = self.alive[: self._size]
        vectors = np.ascontiguousarray(self.matrix[live])
        self.labels = self.labels[live]
        self.alive = np.ones(len(self.labels), dtype=bool)
        self.rows = {int(key): row for row, key in enumerate(self.labels)}
        self._size = len(self.labels)
        self._bitmap = None
        if len(self.labels) >= self.approximate_from:
            index = faiss.IndexHNSWFlat(self.dimension, HNSW_M, _METRICS[self.space])
            index.hnsw.efConstruction = EF_CONSTRUCTION
            index.add(vectors)
            self.hnsw, self._matrix = index, np.empty((0, self.dimension), dtype=np.float32)
        else:
            self.hnsw, self._matrix = None, vectors

    def search(
        self, query: np.ndarray, k: int, *, allowed: Collection[int] | None = None, exact: bool = False
    ) -> list[tuple[int, float]]:
        """The k nearest live documents (among ``allowed`` keys) as (key, exact distance), nearest first."""
        prepared = prepare(self.space, query.reshape(self.dimension))
        rows = None if allowed is None else self._rows_of(allowed)
        if rows is not None and len(rows) == 0:
            return []
        small_filter = rows is not None and len(rows) <= max(k, EXACT_FILTER_LIMIT)
        if self.hnsw is None or exact or small_filter:
            return self._exhaustive(prepared, k, rows)
        found = self._approximate(prepared, k, rows)
        wanted = min(k, len(self.rows) if rows is None else len(rows))
        return found if len(found) >= wanted else self._exhaustive(prepared, k, rows)

    def within(
        self, query: np.ndarray, max_distance: float, *, allowed: Collection[int] | None = None
    ) -> list[tuple[int, float]]:
        """Every live document at distance ≤ ``max_distance``, nearest first (exhaustive)."""
        prepared = prepare(self.space, query.reshape(self.dimension))
        rows = self._candidate_rows(None if allowed is None else self._rows_of(allowed))
        found = distances(self.space, prepared, self.matrix[rows])
        keep = found <= np.float32(max_distance)
        return self._ordered(rows[keep], found[keep])

    def _rows_of(self, keys: Collection[int]) -> np.ndarray:
        rows = self.rows
        return np.fromiter((rows[key] for key in keys if key in rows), dtype=np.int64)

    def _candidate_rows(self, rows: np.ndarray | None) -> np.ndarray:
        return np.flatnonzero(self.alive[: self._size]) if rows is None else np.sort(rows)

    def _exhaustive(self, query: np.ndarray, k: int, rows: np.ndarray | None) -> list[tuple[int, float]]:
        rows = self._candidate_rows(rows)
        found = distances(self.space, query, self.matrix[rows])
        if len(found) > k:
            part = np.argpartition(found, k - 1)[:k]
            rows, found = rows[part], found[part]
        return self._ordered(rows, found)

    def _approximate(self, query: np.ndarray, k: int, rows: np.ndarray | None) -> list[tuple[int, float]]:
        selected = self._selector(rows)
        params = faiss.SearchParametersHNSW(efSearch=max(EF_SEARCH, k))  # type: ignore[attr-defined]
        if selected is not None:
            params.sel = selected[0]
        _, found = self.hnsw.search(query.reshape(1, -1), k, params=params)
        candidates = found[0][found[0] >= 0]
        return self._ordered(candidates, distances(self.space, query, self.matrix[candidates]))

    def _selector(self, rows: np.ndarray | None) -> tuple[Any, np.ndarray] | None:
        """A faiss selector of live (and allowed) rows, with the bitmap it points into kept alive."""
        if rows is None and len(self.rows) == self._size:
            return None
        if rows is None:
            if self._bitmap is None:
                self._bitmap = np.packbits(self.alive[: self._size], bitorder="little")
            bitmap = self._bitmap
        else:
            mask = np.zeros(self._size, dtype=bool)
            mask[rows] = True
            bitmap = np.packbits(mask & self.alive[: self._size], bitorder="little")
        return faiss.IDSelectorBitmap(self._size, faiss.swig_ptr(bitmap)), bitmap

    def _ordered(self, rows: np.ndarray, found: np.ndarray) -> list[tuple[int, float]]:
        return nearest_first(self.labels[rows], found)

    # --- persistence -----------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the HNSW index and its labels atomically (exact-mode fields reload from SQLite)."""
        if self.hnsw is None:
            path.unlink(missing_ok=True)
            return
        temporary = path.with_suffix(".tmp")
        with open(temporary, "wb") as out:
            np.savez(
                out,
                index=faiss.serialize_index(self.hnsw),
                labels=self.labels[: self._size],
                alive=self.alive[: self._size],
            )
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)

    def load(self, path: Path) -> bool:
        """Restore a saved HNSW index; False when there is none (or it does not fit this field)."""
        try:
            with np.load(path) as saved:
                index = faiss.deserialize_index(saved["index"])
                labels, alive = saved["labels"], saved["alive"]
        except (OSError, ValueError, KeyError, RuntimeError):
            return False
        if index.d != self.dimension or index.ntotal != len(labels):
            return False
        self.hnsw, self.labels, self.alive, self._size = (
            index,
            labels.astype(np.int64),
            alive.astype(bool),
            len(labels),
        )
        self.rows = {int(key): row for row, key in enumerate(labels) if alive[row]}
        self._bitmap = None
        return True
