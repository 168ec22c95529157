"""The integrity rules the store enforces on every write, as a relational schema would declare them.

Unique keys: a function per collection derives a document's key (or None: no key); no two documents of
that collection hold the same key. References are conditions of single writes instead (``requires`` on
save, ``unless_referenced_by`` on delete in the Store protocol), so each caller states the ones its
operation needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from mlgate.domain import model_group

UniqueKey = Callable[[Mapping[str, Any]], str | None]

# Model group names are unique, compared as ML Commons compares them (model_group.name_key).
UNIQUE_KEYS: Mapping[str, UniqueKey] = MappingProxyType({model_group.INDEX: model_group.name_key})


def is_legacy_duplicate(
    key_of: UniqueKey, key: str, current_key: str | None, current_source: Mapping[str, Any]
) -> bool:
    """Whether a document that wants ``key`` (held by another) already shared it before keys were
    enforced (written before migration 004, so it holds no key): it keeps its name, unkeyed, until it
    is renamed, so duplicates an old race left behind can still be written (e.g. get a new version)."""
    return current_key is None and key_of(current_source) == key


class KeyTaken(Exception):
    """A save would give a document the unique key another document holds."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


class MissingDocument(Exception):
    """A save required a document that does not exist (or was deleted meanwhile)."""

    def __init__(self, collection: str, doc_id: str) -> None:
        super().__init__(f"{collection}/{doc_id}")
        self.collection = collection
        self.doc_id = doc_id


class StillReferenced(Exception):
    """A delete was refused: these documents still reference the one to delete."""

    def __init__(self, referencing: list[str]) -> None:
        super().__init__(", ".join(referencing))
        self.referencing = referencing
