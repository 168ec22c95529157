"""A bulk's items applied inside the embedded engine's transaction (``index_sqlite.py`` commits).

Each item is checked first (``create`` on an existing id, ``if_seq_no``/``if_primary_term``): a refused
item writes nothing and takes no seq_no. Versions follow OpenSearch: +1 per write of an id, carried
across a delete by a tombstone (a document indexed again after a delete continues the count).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence

import numpy as np

from mlgate.storage import index_sqlite_terms as terms_index
from mlgate.storage.index_store import DocumentWrite, IndexMissing, VectorField, WriteConflict, WriteResult

# (field number, dimension, space, document key, vector or None for a removal)
VectorChange = tuple[int, int, str, int, np.ndarray | None]


class _Fields:
    """Field numbers of one index, created on first use; statistics deltas applied once per bulk."""

    def __init__(
        self, conn: sqlite3.Connection, index_no: int, vector_fields: Mapping[str, VectorField]
    ) -> None:
        self.conn = conn
        self.index_no = index_no
        self.numbers = {
            name: no
            for no, name in conn.execute("SELECT no, name FROM fields WHERE index_no = ?", (index_no,))
        }
        self.vectors: dict[str, tuple[int, VectorField]] = {}
        for name, spec in vector_fields.items():
            no = self.number(name)
            conn.execute(
                "UPDATE fields SET dimension = ?, space = ? WHERE no = ?",
                (spec.dimension, spec.space_type, no),
            )
            self.vectors[name] = (no, spec)
        self.registered = {
            no: (dim, space)
            for no, dim, space in conn.execute(
                "SELECT no, dimension, space FROM fields WHERE index_no = ? AND dimension IS NOT NULL",
                (index_no,),
            )
        }
        self.deltas: dict[int, list[int]] = {}

    def number(self, name: str) -> int:
        no = self.numbers.get(name)
        if no is None:
            cursor = self.conn.execute(
                "INSERT INTO fields (index_no, name) VALUES (?, ?)", (self.index_no, name)
            )
            assert cursor.lastrowid is not None
            no = self.numbers[name] = cursor.lastrowid
        return no

    def count(self, lengths: list[tuple[int, int]], sign: int) -> None:
        for field_no, length in lengths:
            delta = self.deltas.setdefault(field_no, [0, 0])
            delta[0] += sign
            delta[1] += sign * length

    def flush(self) -> None:
        for field_no, (docs, length) in self.deltas.items():
            self.conn.execute(
                "UPDATE fields SET doc_count = doc_count + ?, sum_length = sum_length + ? WHERE no = ?",
                (docs, length, field_no),
            )


def write_items(
    conn: sqlite3.Connection,
    name: str,
    items: Sequence[DocumentWrite],
    vector_fields: Mapping[str, VectorField],
) -> tuple[list[WriteResult | WriteConflict], list[VectorChange]]:
    row = conn.execute("SELECT no, seq_no FROM indices WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise IndexMissing(name)
    index_no, seq_no = row
    fields = _Fields(conn, index_no, vector_fields)
    results: list[WriteResult | WriteConflict] = []
    changes: list[VectorChange] = []
    for item in items:
        existing = conn.execute(
            "SELECT key, version, seq_no, primary_term FROM docs WHERE index_no = ? AND doc_id = ?",
            (index_no, item.doc_id),
        ).fetchone()
        if _conflicts(item, existing):
            results.append(WriteConflict(item.doc_id, *(existing[1:] if existing else (None, None, None))))
            continue
        seq_no += 1
        if existing is not None:
            _remove(conn, fields, existing[0], changes)
            version = existing[1] + 1
        else:
            tombstone = conn.execute(
                "SELECT version FROM tombstones WHERE index_no = ? AND doc_id = ?", (index_no, item.doc_id)
            ).fetchone()
            version = tombstone[0] + 1 if tombstone else 1
        if item.op == "delete":
            if existing is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO tombstones (index_no, doc_id, version) VALUES (?, ?, ?)",
                    (index_no, item.doc_id, version),
                )
            results.append(WriteResult(item.doc_id, "deleted" if existing else "not_found", version, seq_no))
            continue
        _insert(conn, fields, item, version, seq_no, changes)
        conn.execute("DELETE FROM tombstones WHERE index_no = ? AND doc_id = ?", (index_no, item.doc_id))
        results.append(WriteResult(item.doc_id, "updated" if existing else "created", version, seq_no))
    fields.flush()
    conn.execute("UPDATE indices SET seq_no = ? WHERE no = ?", (seq_no, index_no))
    return results, changes


def _conflicts(item: DocumentWrite, existing: tuple[int, int, int, int] | None) -> bool:
    if item.if_seq_no is not None or item.if_primary_term is not None:
        return existing is None or (existing[2], existing[3]) != (item.if_seq_no, item.if_primary_term)
    return item.op == "create" and existing is not None


def _insert(
    conn: sqlite3.Connection,
    fields: _Fields,
    item: DocumentWrite,
    version: int,
    seq_no: int,
    changes: list[VectorChange],
) -> None:
    if item.source is None:
        raise ValueError(f"an {item.op} item needs a source")
    cursor = conn.execute(
        "INSERT INTO docs (index_no, doc_id, source, version, seq_no, primary_term) VALUES (?, ?, ?, ?, ?, 1)",
        (fields.index_no, item.doc_id, item.source, version, seq_no),
    )
    key = cursor.lastrowid
    assert key is not None
    by_number = {fields.number(path): values for path, values in item.terms.items()}
    fields.count(terms_index.insert(conn, fields.index_no, key, by_number), +1)
    for path, values in item.vectors.items():
        if path not in fields.vectors:
            raise ValueError(f"[{path}] is not a knn_vector field of this index")
        field_no, spec = fields.vectors[path]
        vector = np.asarray(values, dtype=np.float32)
        if vector.shape != (spec.dimension,):
            raise ValueError(f"[{path}] expects {spec.dimension} dimensions")
        conn.execute(
            "INSERT INTO vectors (field_no, key, vector) VALUES (?, ?, ?)", (field_no, key, vector.tobytes())
        )
        changes.append((field_no, spec.dimension, spec.space_type, key, vector))


def _remove(conn: sqlite3.Connection, fields: _Fields, key: int, changes: list[VectorChange]) -> None:
    fields.count(terms_index.delete(conn, fields.index_no, key), -1)
    for field_no, (dimension, space) in fields.registered.items():
        if conn.execute("DELETE FROM vectors WHERE field_no = ? AND key = ?", (field_no, key)).rowcount:
            changes.append((field_no, dimension, space, key, None))
    conn.execute("DELETE FROM docs WHERE key = ?", (key,))
