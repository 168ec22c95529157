"""The store's compare-and-set primitives, on SQLite and PostgreSQL (see conftest.py): concurrent
read-modify-writes from several stores on one database (several nodes or processes) lose nothing."""

from __future__ import annotations

import asyncio

import pytest
from tests.storage.conftest import StoreFactory

from mlgate.storage.store import Store, VersionConflict

ROUNDS = 30


async def test_meta_versions_start_at_one_and_grow_per_write(store: Store) -> None:
    assert await store.load_meta_entries(["a", "b"]) == {}
    await store.save_meta("a", "1")
    await store.save_meta("a", "2")
    await store.save_meta("b", "x")
    assert await store.load_meta_entries(["a", "b", "c"]) == {"a": ("2", 2), "b": ("x", 1)}
    assert await store.load_meta("a") == "2"


async def test_save_meta_if_writes_all_or_nothing(store: Store) -> None:
    await store.save_meta_if({"a": ("1", 0)})  # 0: create
    with pytest.raises(VersionConflict):
        await store.save_meta_if({"a": ("again", 0)})
    await store.save_meta("b", "x")
    # One expectation right, one stale: neither value is written.
    with pytest.raises(VersionConflict):
        await store.save_meta_if({"a": ("2", 1), "b": ("y", 7)})
    assert await store.load_meta_entries(["a", "b"]) == {"a": ("1", 1), "b": ("x", 1)}
    await store.save_meta_if({"a": ("2", 1), "b": ("y", 1)})
    assert await store.load_meta_entries(["a", "b"]) == {"a": ("2", 2), "b": ("y", 2)}


async def _add_one(store: Store, key: str) -> None:
    """A read-modify-write made safe by save_meta_if: retried until nobody wrote in between."""
    while True:
        entries = await store.load_meta_entries([key])
        value, version = entries.get(key, ("0", 0))
        try:
            await store.save_meta_if({key: (str(int(value) + 1), version)})
            return
        except VersionConflict:
            continue


async def test_concurrent_read_modify_writes_from_several_nodes_lose_nothing(
    make_store: StoreFactory,
) -> None:
    nodes = [make_store(), make_store()]
    for node in nodes:
        await node.open()
    for round_ in range(ROUNDS):
        key = f"counter-{round_}"
        await asyncio.gather(*(_add_one(nodes[n % 2], key) for n in range(8)))
        assert await nodes[0].load_meta(key) == "8", f"round {round_}: an update was lost"
