"""The Store protocol: the only way services reach persistence.

Documents are grouped in collections named after ML Commons' system indices. Every write is durable
when the call returns (acknowledged writes survive a crash). Versions follow OpenSearch: a document's
``version`` starts at 1 and grows by one per write; ``seq_no`` is per collection.

Several nodes (or ``--workers`` processes) may share one store. Two small primitives serve them:

- a **change feed**: ``publish(kind, key)`` appends ``(id, kind, key)`` with an id that grows
  monotonically in commit order, so a reader that remembers the last id it saw and calls
  ``changes_since`` misses nothing. Old changes are pruned, but the last 10,000 and everything from the
  last hour are always kept. ``listen`` wakes a node at once where the backend can push (PostgreSQL
  LISTEN/NOTIFY); elsewhere it returns False and the node polls ``changes_since``.
- a **node registry**: ``heartbeat`` records a node's info and when it was last seen; the caller
  supplies the time, so expiry is the caller's rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.search import StoredDoc

# One entry of the change feed: (id, kind, key), e.g. (42, "connector", "<connector id>").
Change = tuple[int, str, str]
# A wake-up: called on the event loop when any node (this one included) published a change; it must
# not block. It carries nothing — the woken node reads changes_since from its own cursor.
ChangeListener = Callable[[], None]
# publish() refuses longer kinds and keys: a change names what changed, it does not carry data.
MAX_CHANGE_FIELD = 1000


def check_change(kind: str, key: str) -> None:
    """Refuse a change whose kind or key is too long to publish (the same rule on every backend)."""
    if len(kind) > MAX_CHANGE_FIELD or len(key) > MAX_CHANGE_FIELD:
        raise ValueError(f"a change's kind and key are at most {MAX_CHANGE_FIELD} characters")
    if "\0" in kind or "\0" in key:
        raise ValueError("a change's kind and key cannot contain U+0000")


def check_storable_id(doc_id: str) -> None:
    """Refuse to save an id holding U+0000: PostgreSQL's text cannot keep it, so no backend does."""
    if "\0" in doc_id:
        raise InvalidRequestError("Invalid id: an id cannot contain the character U+0000")


def is_storable_id(doc_id: str) -> bool:
    """False for an id no backend saves (see check_storable_id): loading or deleting it finds nothing."""
    return "\0" not in doc_id


class VersionConflict(Exception):
    """An optimistic-concurrency write lost the race (storage-level; services translate it)."""


class Store(Protocol):
    """Persistence of JSON documents and small metadata values, plus the change feed and node
    registry that several nodes sharing the store coordinate through."""

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

    async def publish(self, kind: str, key: str) -> None:
        """Append a change to the feed (durably) and wake listening nodes.

        ``kind`` names what changed (e.g. ``"settings"``, ``"connector"``), ``key`` which one. Raises
        ValueError when either is longer than MAX_CHANGE_FIELD characters or contains U+0000.
        """

    async def changes_since(self, after_id: int, limit: int = 1000) -> list[Change]:
        """Up to ``limit`` changes with an id greater than ``after_id``, oldest first."""

    async def latest_change_id(self) -> int:
        """The id of the newest change, or 0 if none was ever published (a start cursor)."""

    async def listen(self, callback: ChangeListener) -> bool:
        """Call ``callback()`` promptly after every change published from now on, by any node.

        Returns False when this backend cannot push (SQLite: callers poll ``changes_since``). A wake-up
        is a hint, not the record: several changes may share one, and while a lost connection is being
        restored some are missed (one wake-up follows the reconnection), so callers also poll now and then.
        """

    async def unlisten(self, callback: ChangeListener) -> None:
        """Stop calling ``callback``; unknown callbacks are ignored."""

    async def heartbeat(self, node_id: str, info: Mapping[str, Any], now_ms: int) -> None:
        """Register a node or refresh it: its info (name, roles, address, ...) and last-seen time."""

    async def load_nodes(self) -> list[tuple[str, dict[str, Any], int]]:
        """Every registered node as ``(node_id, info, last_seen_ms)``, ordered by node id."""

    async def remove_node(self, node_id: str) -> None:
        """Forget a node; unknown ids are ignored."""
