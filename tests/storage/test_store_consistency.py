"""The store's consistency primitives, on SQLite and PostgreSQL (see conftest.py): compare-and-set of
metadata, unique keys, required and referenced documents. Concurrent operations from several stores on
one database (several nodes or processes) keep every invariant, round after round."""

from __future__ import annotations

import asyncio

import pytest
from tests.storage.conftest import StoreFactory

from mlgate.domain import model_group
from mlgate.storage.integrity import KeyTaken, MissingDocument, StillReferenced
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


# --- unique keys --------------------------------------------------------------------------------------


def _by_name(source: dict[str, object]) -> str | None:
    name = source.get("name")
    return name if isinstance(name, str) else None


async def test_a_unique_key_is_held_by_one_document(make_store: StoreFactory) -> None:
    store = make_store(unique_keys={"groups": _by_name})
    await store.open()
    await store.save("groups", "g1", {"name": "a"})
    await store.save("groups", "g1", {"name": "a", "n": 2})  # its own key: no clash
    with pytest.raises(KeyTaken) as taken:
        await store.save("groups", "g2", {"name": "a"})
    assert taken.value.holder == "g1"
    assert await store.load("groups", "g2") is None
    await store.save("groups", "g3", {"other": "no key"})
    await store.save("groups", "g4", {"other": "no key"})
    await store.save("connectors", "c1", {"name": "a"})  # keys are per collection
    # Renaming releases the old key; deleting releases it too.
    await store.save("groups", "g1", {"name": "b"})
    await store.save("groups", "g2", {"name": "a"})
    await store.delete("groups", "g2")
    await store.save("groups", "g5", {"name": "a"})


async def test_duplicates_written_before_keys_were_enforced_can_still_be_written(
    make_store: StoreFactory,
) -> None:
    before = make_store(unique_keys={})  # as before migration 004: no keys
    await before.open()
    await before.save("groups", "g1", {"name": "a"})
    await before.save("groups", "g2", {"name": "a"})
    now = make_store(unique_keys={"groups": _by_name})
    await now.open()
    await now.save("groups", "g1", {"name": "a", "latest_version": 1})  # claims the key
    await now.save("groups", "g2", {"name": "a", "latest_version": 1})  # kept, without the key
    with pytest.raises(KeyTaken):
        await now.save("groups", "g3", {"name": "a"})
    await now.save("groups", "g2", {"name": "b"})
    with pytest.raises(KeyTaken):
        await now.save("groups", "g2", {"name": "a"})  # renamed away, it cannot come back


async def test_model_group_names_are_unique_as_ml_commons_compares_them(store: Store) -> None:
    await store.save(model_group.INDEX, "g1", {"name": "Team"})
    await store.save(model_group.INDEX, "g2", {"name": "team"})  # exact, case-sensitive
    with pytest.raises(KeyTaken):
        await store.save(model_group.INDEX, "g3", {"name": "Team"})
    long_name = "n" * 257  # over name.keyword's ignore_above: never compared
    await store.save(model_group.INDEX, "g4", {"name": long_name})
    await store.save(model_group.INDEX, "g5", {"name": long_name})


async def test_concurrent_claims_of_one_key_leave_one_holder(make_store: StoreFactory) -> None:
    nodes = [make_store(unique_keys={"groups": _by_name}), make_store(unique_keys={"groups": _by_name})]
    for node in nodes:
        await node.open()
    for round_ in range(ROUNDS):
        name = f"group-{round_}"
        results = await asyncio.gather(
            *(nodes[n % 2].save("groups", f"{name}-{n}", {"name": name}) for n in range(8)),
            return_exceptions=True,
        )
        created = [r for r in results if not isinstance(r, BaseException)]
        assert len(created) == 1, f"round {round_}: {results}"
        assert all(isinstance(r, KeyTaken) for r in results if isinstance(r, BaseException))
        assert len(await nodes[0].load_where("groups", "name", name)) == 1


# --- required and referenced documents ----------------------------------------------------------------


async def test_a_save_requires_documents_to_exist(store: Store) -> None:
    with pytest.raises(MissingDocument) as missing:
        await store.save("models", "m1", {"connector_id": "c1"}, requires=[("connectors", "c1")])
    assert (missing.value.collection, missing.value.doc_id) == ("connectors", "c1")
    assert await store.load("models", "m1") is None
    await store.save("connectors", "c1", {})
    await store.save("models", "m1", {"connector_id": "c1"}, requires=[("connectors", "c1")])


async def test_a_delete_is_refused_while_referenced(store: Store) -> None:
    await store.save("connectors", "c1", {})
    await store.save("models", "m1", {"connector_id": "c1"})
    await store.save("models", "m2", {"connector_id": "c1"})
    await store.save("models", "m3", {"connector_id": "c2"})
    with pytest.raises(StillReferenced) as refused:
        await store.delete("connectors", "c1", unless_referenced_by=[("models", "connector_id")])
    assert refused.value.referencing == ["m1", "m2"]
    assert await store.load("connectors", "c1") is not None
    # Dangling references refuse too, as a search for them would.
    with pytest.raises(StillReferenced):
        await store.delete("connectors", "c2", unless_referenced_by=[("models", "connector_id")])
    await store.delete("models", "m1")
    await store.delete("models", "m2")
    deleted = await store.delete("connectors", "c1", unless_referenced_by=[("models", "connector_id")])
    assert deleted is not None and deleted.version == 2


async def test_delete_if_version(store: Store) -> None:
    await store.save("models", "m1", {"state": "REGISTERED"})
    await store.save("models", "m1", {"state": "DEPLOYING"})
    with pytest.raises(VersionConflict):
        await store.delete("models", "m1", if_version=1)
    assert await store.load("models", "m1") is not None
    assert await store.delete("models", "absent", if_version=1) is None
    assert (await store.delete("models", "m1", if_version=2)) is not None


async def test_a_reference_and_a_delete_racing_never_leave_a_dangling_reference(
    make_store: StoreFactory,
) -> None:
    nodes = [make_store(), make_store()]
    for node in nodes:
        await node.open()
    for round_ in range(ROUNDS):
        connector, model = f"c{round_}", f"m{round_}"
        await nodes[0].save("connectors", connector, {})
        saved, deleted = await asyncio.gather(
            nodes[round_ % 2].save(
                "models", model, {"connector_id": connector}, requires=[("connectors", connector)]
            ),
            nodes[(round_ + 1) % 2].delete(
                "connectors", connector, unless_referenced_by=[("models", "connector_id")]
            ),
            return_exceptions=True,
        )
        model_exists = await nodes[0].load("models", model) is not None
        connector_exists = await nodes[0].load("connectors", connector) is not None
        assert not (model_exists and not connector_exists), f"round {round_}: dangling reference"
        # Exactly one of the two won, and the loser was told why.
        if model_exists:
            assert isinstance(deleted, StillReferenced) and connector_exists
        else:
            assert isinstance(saved, MissingDocument) and not connector_exists
