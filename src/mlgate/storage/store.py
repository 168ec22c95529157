"""The Store protocol: the only way services reach persistence.

Documents are grouped in collections named after ML Commons' system indices. Every write is durable
when the call returns (acknowledged writes survive a crash). Versions follow OpenSearch: a document's
``version`` starts at 1 and grows by one per write; ``seq_no`` is per collection.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from mlgate.domain.search import StoredDoc


class VersionConflict(Exception):
    """An optimistic-concurrency write lost the race (storage-level; services translate it)."""


class Store(Protocol):
    """Persistence of JSON documents and small metadata values."""

    async def open(self) -> None:
        """Create or migrate the schema; must be called before any other method."""

    async def close(self) -> None:
        """Release connections."""

    async def load(self, collection: str, doc_id: str) -> StoredDoc | None:
        """The document with this id, or None."""

    async def load_all(self, collection: str) -> list[StoredDoc]:
        """Every document of a collection, in insertion order."""

    async def load_where(self, collection: str, field: str, value: str) -> list[StoredDoc]:
        """Documents whose top-level ``field`` equals ``value``."""

    async def save(
        self,
        collection: str,
        doc_id: str,
        source: Mapping[str, Any],
        *,
        if_version: int | None = None,
        create_only: bool = False,
    ) -> StoredDoc:
        """Create or replace a document atomically.

        ``if_version`` makes the write conditional on the current version (None: unconditional);
        ``create_only`` refuses to overwrite. Either failing raises VersionConflict.
        """

    async def delete(self, collection: str, doc_id: str) -> StoredDoc | None:
        """Delete a document; returns it with its tombstone version, or None if it did not exist."""

    async def load_meta(self, key: str) -> str | None:
        """A small metadata value (settings, node identity), or None."""

    async def save_meta(self, key: str, value: str) -> None:
        """Store a small metadata value durably."""
