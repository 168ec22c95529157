"""The embedded engine's inverted index: SQLite FTS5 with its vocabulary tables.

Analysis is the domain's (the standard analyzer), so FTS5 must not tokenise again: each term is
encoded into characters FTS5's ``ascii`` tokenizer keeps whole and unchanged (``a-z``, ``0-9``, ``_``
and every non-ASCII character; any other ASCII character becomes ``_`` + two hex digits) and prefixed
with its field's number, so one FTS5 row per document holds all its fields and the ``fts5vocab`` tables
answer per field: ``row`` gives a term's document frequency, ``instance`` its postings with offsets.
A side table keeps each document's field lengths (BM25 norms) and where each field starts in the row.
Prefix order survives the encoding, so prefix expansion is a range over the vocabulary.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Collection, Mapping, Sequence

import orjson

from mlgate.storage.index_store import Posting, TermStats

# Lucene's position_increment_gap for text fields: values of an array are this far apart.
POSITION_GAP = 100
_ESCAPE = re.compile(r"[^a-z0-9\x80-\U0010ffff]")
_UNESCAPE = re.compile(r"_([0-9a-f]{2})")


def encode_term(field_no: int, term: str) -> str:
    """``field_no`` + ``_`` + the term with ASCII outside ``[a-z0-9]`` escaped."""
    return f"{field_no}_{_ESCAPE.sub(lambda m: f'_{ord(m.group()):02x}', term)}"


def decode_term(encoded: str) -> str:
    return _UNESCAPE.sub(lambda m: chr(int(m.group(1), 16)), encoded.split("_", 1)[1])


def create_tables(conn: sqlite3.Connection, index_no: int) -> None:
    table = f"fts_{index_no}"
    conn.execute(f"CREATE VIRTUAL TABLE {table} USING fts5(body, tokenize = \"ascii tokenchars '_'\")")
    conn.execute(f"CREATE VIRTUAL TABLE {table}_row USING fts5vocab({table}, row)")
    conn.execute(f"CREATE VIRTUAL TABLE {table}_inst USING fts5vocab({table}, instance)")


def drop_tables(conn: sqlite3.Connection, index_no: int) -> None:
    for suffix in ("_inst", "_row", ""):
        conn.execute(f"DROP TABLE IF EXISTS fts_{index_no}{suffix}")


def insert(
    conn: sqlite3.Connection, index_no: int, key: int, terms: Mapping[int, Sequence[Sequence[str]]]
) -> list[tuple[int, int]]:
    """Index one document's terms (field number → token lists per value); returns (field, length)
    of every field with at least one token, for the field statistics."""
    body: list[str] = []
    lengths: list[tuple[int, int]] = []
    for field_no, values in terms.items():
        start = len(body)
        ends: list[int] = []
        for tokens in values:
            body.extend(encode_term(field_no, token) for token in tokens)
            ends.append(len(body) - start)
        length = len(body) - start
        if length == 0:
            continue
        lengths.append((field_no, length))
        # Value ends matter only for positions across values of a multi-valued field.
        conn.execute(
            "INSERT INTO doc_fields (key, field_no, start, length, value_ends) VALUES (?, ?, ?, ?, ?)",
            (key, field_no, start, length, orjson.dumps(ends[:-1]).decode() if len(ends) > 1 else None),
        )
    if body:
        conn.execute(f"INSERT INTO fts_{index_no} (rowid, body) VALUES (?, ?)", (key, " ".join(body)))
    return lengths


def delete(conn: sqlite3.Connection, index_no: int, key: int) -> list[tuple[int, int]]:
    """Remove one document's terms; returns the (field, length) pairs it had."""
    lengths = conn.execute("SELECT field_no, length FROM doc_fields WHERE key = ?", (key,)).fetchall()
    if lengths:
        conn.execute("DELETE FROM doc_fields WHERE key = ?", (key,))
        conn.execute(f"DELETE FROM fts_{index_no} WHERE rowid = ?", (key,))
    return [(int(field_no), int(length)) for field_no, length in lengths]


def term_stats(
    conn: sqlite3.Connection,
    index_no: int,
    field_no: int | None,
    stats: tuple[int, int],
    terms: Collection[str],
    *,
    positions: bool,
) -> TermStats:
    """Document frequencies and postings of ``terms`` in one field (call inside one read transaction)."""
    doc_freqs: dict[str, int] = {}
    by_key: dict[int, dict[str, list[int]]] = {}
    layout: dict[int, tuple[int, int, list[int]]] = {}
    for term in dict.fromkeys(terms):
        if field_no is None:
            doc_freqs[term] = 0
            continue
        encoded = encode_term(field_no, term)
        row = conn.execute(f"SELECT doc FROM fts_{index_no}_row WHERE term = ?", (encoded,)).fetchone()
        doc_freqs[term] = int(row[0]) if row else 0
        if not row:
            continue
        for key, offset, start, length, ends in conn.execute(
            f"SELECT i.doc, i.offset, f.start, f.length, f.value_ends FROM fts_{index_no}_inst AS i "
            "JOIN doc_fields AS f ON f.key = i.doc AND f.field_no = ? WHERE i.term = ?",
            (field_no, encoded),
        ):
            by_key.setdefault(key, {}).setdefault(term, []).append(offset)
            if key not in layout:
                layout[key] = (start, length, orjson.loads(ends) if ends else [])
    postings = []
    for key in sorted(by_key):
        start, length, ends = layout[key]
        hits = by_key[key]
        where = (
            {
                term: tuple(_position(offset - start, ends) for offset in sorted(offsets))
                for term, offsets in hits.items()
            }
            if positions
            else None
        )
        postings.append(Posting(key, length, {term: len(offsets) for term, offsets in hits.items()}, where))
    return TermStats(stats[0], stats[1], doc_freqs, postings)


def _position(local: int, ends: list[int]) -> int:
    return local + POSITION_GAP * sum(1 for end in ends if end <= local)


def expand_terms(
    conn: sqlite3.Connection, index_no: int, field_no: int, prefix: str, limit: int
) -> list[str]:
    low = encode_term(field_no, prefix)
    rows = conn.execute(
        f"SELECT term FROM fts_{index_no}_row WHERE term >= ? AND term < ? ORDER BY term LIMIT ?",
        (low, low + "\U0010ffff", limit),
    ).fetchall()
    return sorted(decode_term(term) for (term,) in rows if term.startswith(low))
