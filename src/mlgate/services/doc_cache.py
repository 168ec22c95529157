"""Documents the predict path needs, kept in memory so a predict reads no storage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlgate.storage.store import Store


class DocumentCache:
    """Documents of one index by id, read from the store once and dropped when a change to them is seen.

    The owner calls :meth:`forget` for every change it learns of, from this process or from the change
    feed. A missing document is not remembered: documents are created without a change being announced.
    """

    def __init__(self, store: Store, index: str) -> None:
        self._store = store
        self._index = index
        self._docs: dict[str, Mapping[str, Any]] = {}
        # Bumped by every forget(): a read that raced with a change must not be remembered, or the
        # document read before the change would stay in memory after it.
        self._generation = 0

    async def get(self, doc_id: str) -> Mapping[str, Any] | None:
        """The document's source (shared: never modify it), or None when it does not exist."""
        cached = self._docs.get(doc_id)
        if cached is not None:
            return cached
        generation = self._generation
        stored = await self._store.load(self._index, doc_id)
        if stored is None:
            return None
        if generation == self._generation:
            self._docs[doc_id] = stored.source
        return stored.source

    def forget(self, doc_id: str) -> None:
        """Drop a document: it changed, or may have."""
        self._docs.pop(doc_id, None)
        self._generation += 1
