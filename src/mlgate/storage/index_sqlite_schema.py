"""The embedded index engine's tables, row mappers and the metadata helpers every transaction uses."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from mlgate.storage.index_store import IndexMissing, IndexRecord, MappingConflict, StoredDocument

SCHEMA = """
CREATE TABLE IF NOT EXISTS indices (no INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,
    uuid TEXT NOT NULL, creation_date_ms INTEGER NOT NULL, settings TEXT NOT NULL, mappings TEXT NOT NULL,
    mapping_version INTEGER NOT NULL DEFAULT 1, seq_no INTEGER NOT NULL DEFAULT -1);
CREATE TABLE IF NOT EXISTS fields (no INTEGER PRIMARY KEY AUTOINCREMENT, index_no INTEGER NOT NULL,
    name TEXT NOT NULL, doc_count INTEGER NOT NULL DEFAULT 0, sum_length INTEGER NOT NULL DEFAULT 0,
    dimension INTEGER, space TEXT, UNIQUE (index_no, name));
CREATE TABLE IF NOT EXISTS docs (key INTEGER PRIMARY KEY AUTOINCREMENT, index_no INTEGER NOT NULL,
    doc_id TEXT NOT NULL, source BLOB NOT NULL, version INTEGER NOT NULL, seq_no INTEGER NOT NULL,
    primary_term INTEGER NOT NULL, UNIQUE (index_no, doc_id));
CREATE TABLE IF NOT EXISTS doc_fields (key INTEGER NOT NULL, field_no INTEGER NOT NULL, start INTEGER NOT NULL,
    length INTEGER NOT NULL, value_ends TEXT, PRIMARY KEY (key, field_no)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vectors (field_no INTEGER NOT NULL, key INTEGER NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (field_no, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tombstones (index_no INTEGER NOT NULL, doc_id TEXT NOT NULL, version INTEGER NOT NULL,
    PRIMARY KEY (index_no, doc_id)) WITHOUT ROWID
"""
DOC_COLUMNS = "key, doc_id, source, version, seq_no, primary_term"


def to_document(row: Sequence[Any]) -> StoredDocument:
    return StoredDocument(row[0], row[1], bytes(row[2]), row[3], row[4], row[5])


def to_record(row: Sequence[Any]) -> IndexRecord:
    return IndexRecord(row[0], row[1], row[2], orjson.loads(row[3]), orjson.loads(row[4]), row[5])


INDEX_COLUMNS = "name, uuid, creation_date_ms, settings, mappings, mapping_version"


def index_no(conn: sqlite3.Connection, name: str) -> int:
    row = conn.execute("SELECT no FROM indices WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise IndexMissing(name)
    return int(row[0])


def save_mappings(
    conn: sqlite3.Connection, name: str, mappings: Mapping[str, Any], if_version: int | None
) -> None:
    row = conn.execute("SELECT mapping_version FROM indices WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise IndexMissing(name)
    if if_version is not None and row[0] != if_version:
        raise MappingConflict(name)
    conn.execute(
        "UPDATE indices SET mappings = ?, mapping_version = mapping_version + 1 WHERE name = ?",
        (orjson.dumps(dict(mappings)), name),
    )
