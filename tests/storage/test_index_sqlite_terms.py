"""The embedded engine's term encoding: any token survives FTS5's ascii tokenizer whole, per field."""

from __future__ import annotations

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from mlgate.storage import index_sqlite_terms as terms

tokens = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)


@given(tokens, st.integers(min_value=1, max_value=10**6))
def test_encoding_round_trips(token: str, field_no: int) -> None:
    assert terms.decode_term(terms.encode_term(field_no, token)) == token


@given(tokens, tokens)
def test_encoding_keeps_prefixes(prefix: str, rest: str) -> None:
    assert terms.encode_term(3, prefix + rest).startswith(terms.encode_term(3, prefix))


@settings(max_examples=50, deadline=None)
@given(st.lists(tokens, min_size=1, max_size=8))
def test_fts5_keeps_every_encoded_token_whole(values: list[str]) -> None:
    conn = sqlite3.connect(":memory:")
    terms.create_tables(conn, 1)
    encoded = [terms.encode_term(7, token) for token in values]
    conn.execute("INSERT INTO fts_1 (rowid, body) VALUES (1, ?)", (" ".join(encoded),))
    stored = [row[0] for row in conn.execute("SELECT term FROM fts_1_inst ORDER BY offset")]
    assert stored == encoded
