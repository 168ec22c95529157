"""The in-memory documents of the predict path: read once, dropped on change, never kept stale by a race."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mlgate.services.doc_cache import DocumentCache
from mlgate.storage.sqlite import SqliteStore

INDEX = ".plugins-ml-model"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "cache.db")
    await opened.open()
    yield opened
    await opened.close()


async def test_a_document_is_read_once_and_again_only_after_forget(store: SqliteStore) -> None:
    cache = DocumentCache(store, INDEX)
    await store.save(INDEX, "m1", {"model_state": "DEPLOYED"})
    assert await cache.get("m1") == {"model_state": "DEPLOYED"}
    # Written behind the cache's back: the cache still answers from memory (no read per call) ...
    await store.save(INDEX, "m1", {"model_state": "UNDEPLOYED"})
    assert await cache.get("m1") == {"model_state": "DEPLOYED"}
    # ... until the change is announced.
    cache.forget("m1")
    assert await cache.get("m1") == {"model_state": "UNDEPLOYED"}


async def test_a_missing_document_is_not_remembered(store: SqliteStore) -> None:
    cache = DocumentCache(store, INDEX)
    assert await cache.get("later") is None
    await store.save(INDEX, "later", {"name": "registered after the first look"})
    assert await cache.get("later") == {"name": "registered after the first look"}


async def test_a_read_that_races_with_a_change_is_not_kept(store: SqliteStore) -> None:
    cache = DocumentCache(store, INDEX)
    await store.save(INDEX, "m1", {"v": 1})
    reading = asyncio.create_task(cache.get("m1"))
    await asyncio.sleep(0)  # the read is now waiting on the store's thread
    await store.save(INDEX, "m1", {"v": 2})
    cache.forget("m1")
    await reading
    assert await cache.get("m1") == {"v": 2}
