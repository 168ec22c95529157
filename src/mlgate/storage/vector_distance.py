"""Exact vector distances in 32-bit floats, shared by both index engines so they rank and score alike
(the distance of each space as ``domain/indices/knn.py`` defines it)."""

from __future__ import annotations

import numpy as np

_CHUNK = 4096


def prepare(space: str, vectors: np.ndarray) -> np.ndarray:
    """Vectors as the index keeps them: float32, unit length for cosine (as k-NN's faiss does)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if space == "cosinesimil":
        norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
        vectors = (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)
    return vectors


def distances(space: str, query: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Exact distances (``domain.indices.knn.distance``) from a prepared query to prepared rows."""
    out = np.empty(len(matrix), dtype=np.float32)
    for start in range(0, len(matrix), _CHUNK):
        block = matrix[start : start + _CHUNK]
        if space in ("innerproduct", "cosinesimil"):
            dots = block @ query
            out[start : start + len(block)] = -dots if space == "innerproduct" else np.float32(1) - dots
        else:
            diff = block - query
            if space == "l2":
                out[start : start + len(block)] = np.einsum("ij,ij->i", diff, diff)
            elif space == "l1":
                out[start : start + len(block)] = np.abs(diff).sum(axis=1)
            else:
                out[start : start + len(block)] = np.abs(diff).max(axis=1)
    return out


def nearest_first(keys: np.ndarray, found: np.ndarray) -> list[tuple[int, float]]:
    """(key, distance) pairs, nearest first; equal distances in key order (insertion order breaks
    ties, as in OpenSearch)."""
    order = np.lexsort((keys, found))
    return [(int(keys[i]), float(found[i])) for i in order]
