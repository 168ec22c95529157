"""The Store contract: every test runs on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.storage.conftest import StoreFactory

from mlgate.domain.search import StoredDoc
from mlgate.storage.store import MAX_CHANGE_FIELD, Store, VersionConflict

# --- documents ----------------------------------------------------------------------------------------


async def test_missing_document_and_empty_collection(store: Store) -> None:
    assert await store.load("models", "nope") is None
    assert await store.load_all("models") == []
    assert await store.load_where("models", "name", "x") == []


async def test_save_then_load(store: Store) -> None:
    saved = await store.save("models", "m1", {"name": "one", "n": 1})
    assert saved == StoredDoc(id="m1", source={"name": "one", "n": 1}, version=1, seq_no=0, primary_term=1)
    assert await store.load("models", "m1") == saved


async def test_versions_grow_by_one_and_seq_no_is_per_collection(store: Store) -> None:
    first = await store.save("models", "m1", {"v": 1})
    second = await store.save("models", "m1", {"v": 2})
    other = await store.save("models", "m2", {"v": 1})
    elsewhere = await store.save("connectors", "c1", {"v": 1})
    assert (first.version, first.seq_no) == (1, 0)
    assert (second.version, second.seq_no) == (2, 1)
    assert (other.version, other.seq_no) == (1, 2)
    assert (elsewhere.version, elsewhere.seq_no) == (1, 0)
    loaded = await store.load("models", "m1")
    assert loaded is not None
    assert (loaded.source, loaded.version, loaded.seq_no) == ({"v": 2}, 2, 1)


async def test_if_version_conflicts_leave_the_document_unchanged(store: Store) -> None:
    await store.save("models", "m1", {"v": 1})
    updated = await store.save("models", "m1", {"v": 2}, if_version=1)
    assert updated.version == 2
    with pytest.raises(VersionConflict):
        await store.save("models", "m1", {"v": 3}, if_version=1)
    with pytest.raises(VersionConflict):
        await store.save("models", "absent", {"v": 1}, if_version=1)
    assert await store.load("models", "m1") == updated
    assert await store.load("models", "absent") is None
    # A refused write takes no seq_no.
    assert (await store.save("models", "m2", {})).seq_no == 2


async def test_create_only(store: Store) -> None:
    created = await store.save("models", "m1", {"v": 1}, create_only=True)
    assert created.version == 1
    with pytest.raises(VersionConflict):
        await store.save("models", "m1", {"v": 2}, create_only=True)
    assert await store.load("models", "m1") == created
    assert (await store.save("models", "m2", {}, create_only=True)).seq_no == 1


async def test_delete_returns_the_tombstone(store: Store) -> None:
    await store.save("models", "m1", {"name": "one"})
    await store.save("models", "m1", {"name": "uno"})
    tombstone = await store.delete("models", "m1")
    assert tombstone == StoredDoc(id="m1", source={"name": "uno"}, version=3, seq_no=2)
    assert await store.load("models", "m1") is None
    assert await store.load_all("models") == []
    # Deleting nothing takes no seq_no; a document created again starts over at version 1.
    assert await store.delete("models", "m1") is None
    recreated = await store.save("models", "m1", {"name": "again"}, create_only=True)
    assert (recreated.version, recreated.seq_no) == (1, 3)


async def test_load_all_keeps_insertion_order(store: Store) -> None:
    for doc_id in ["b", "c", "a", "d"]:
        await store.save("tasks", doc_id, {"id": doc_id})
    await store.save("tasks", "b", {"id": "b", "updated": True})  # an update does not move a document
    await store.delete("tasks", "c")
    await store.save("tasks", "c", {"id": "c"})  # deleted and created again: now the newest
    await store.save("models", "z", {"id": "z"})
    assert [d.id for d in await store.load_all("tasks")] == ["b", "a", "d", "c"]
    assert (await store.load_all("tasks"))[0].source == {"id": "b", "updated": True}


async def test_load_where_matches_top_level_string_fields(store: Store) -> None:
    await store.save("models", "m1", {"model_group_id": "g1", "n": 1})
    await store.save("models", "m2", {"model_group_id": "g2"})
    await store.save("models", "m3", {"model_group_id": "g1"})
    await store.save("models", "m4", {"model_group_id": 5})
    await store.save("models", "m5", {"model_group_id": True})
    await store.save("models", "m6", {"meta": {"model_group_id": "g1"}})
    await store.save("models", "m7", {"a.b": "dotted", "a": {"b": "nested"}})
    await store.save("models", "m8", {"model_group_id": None})
    await store.save("connectors", "c1", {"model_group_id": "g1"})
    assert [d.id for d in await store.load_where("models", "model_group_id", "g1")] == ["m1", "m3"]
    assert (await store.load_where("models", "model_group_id", "g1"))[0].source["n"] == 1
    # Only strings match: a number, a boolean or null never equals its spelling.
    assert await store.load_where("models", "model_group_id", "5") == []
    assert await store.load_where("models", "model_group_id", "true") == []
    assert await store.load_where("models", "model_group_id", "null") == []
    assert await store.load_where("models", "model_group_id", "G1") == []
    # The field is one top-level key: a dot is part of its name, not a path.
    assert [d.id for d in await store.load_where("models", "a.b", "dotted")] == ["m7"]
    assert await store.load_where("models", "a.b", "nested") == []


async def test_documents_come_back_exactly_as_written(store: Store) -> None:
    source = {"z": 1, "a": 1e300, "m": -0.5, "big": 2**62, "list": [3, 1, 2], "t": True, "n": None}
    await store.save("models", "m1", source)
    loaded = await store.load("models", "m1")
    assert loaded is not None
    assert list(loaded.source) == ["z", "a", "m", "big", "list", "t", "n"]  # key order kept
    assert loaded.source == source
    assert type(loaded.source["a"]) is float


# --- metadata -----------------------------------------------------------------------------------------


async def test_meta(store: Store) -> None:
    assert await store.load_meta("node.identity") is None
    await store.save_meta("node.identity", '{"id": "n1"}')
    await store.save_meta("cluster.settings", "{}")
    await store.save_meta("node.identity", "zweite Fassung ✓")
    assert await store.load_meta("node.identity") == "zweite Fassung ✓"
    assert await store.load_meta("cluster.settings") == "{}"


# --- change feed --------------------------------------------------------------------------------------


async def test_change_feed(store: Store) -> None:
    assert await store.latest_change_id() == 0
    assert await store.changes_since(0) == []
    await store.publish("settings", "")
    await store.publish("connector", "c1")
    await store.publish("model", "m1")
    changes = await store.changes_since(0)
    assert [(kind, key) for _, kind, key in changes] == [
        ("settings", ""),
        ("connector", "c1"),
        ("model", "m1"),
    ]
    ids = [change_id for change_id, _, _ in changes]
    assert ids == sorted(ids) and len(set(ids)) == 3 and ids[0] > 0
    assert await store.latest_change_id() == ids[-1]
    assert await store.changes_since(ids[0]) == changes[1:]
    assert await store.changes_since(ids[0], limit=1) == changes[1:2]
    assert await store.changes_since(ids[-1]) == []


async def test_change_feed_refuses_oversized_fields(store: Store) -> None:
    with pytest.raises(ValueError):
        await store.publish("connector", "k" * (MAX_CHANGE_FIELD + 1))
    with pytest.raises(ValueError):
        await store.publish("x" * (MAX_CHANGE_FIELD + 1), "key")
    await store.publish("connector", "k" * MAX_CHANGE_FIELD)
    assert await store.changes_since(0) == [
        (await store.latest_change_id(), "connector", "k" * MAX_CHANGE_FIELD)
    ]


async def test_change_feed_is_shared_by_every_store_on_the_database(make_store: StoreFactory) -> None:
    node_a, node_b = make_store(), make_store()
    await node_a.open()
    await node_b.open()
    await node_a.publish("connector", "c1")
    await node_b.publish("connector", "c2")
    assert [key for _, _, key in await node_a.changes_since(0)] == ["c1", "c2"]
    assert await node_a.changes_since(0) == await node_b.changes_since(0)


async def test_old_changes_are_pruned_but_ids_never_go_back(make_store: StoreFactory) -> None:
    store = make_store(keep_changes=3, keep_changes_seconds=0)
    await store.open()
    for n in range(10):
        await store.publish("model", f"m{n}")
    latest = await store.latest_change_id()
    assert [key for _, _, key in await store.changes_since(0)] == ["m7", "m8", "m9"]
    await store.publish("model", "m10")
    assert await store.latest_change_id() > latest


async def test_the_last_changes_are_kept_however_old(make_store: StoreFactory) -> None:
    store = make_store(keep_changes=5, keep_changes_seconds=0)
    await store.open()
    for n in range(5):
        await store.publish("model", f"m{n}")
    assert len(await store.changes_since(0)) == 5


async def test_recent_changes_are_kept_however_many(make_store: StoreFactory) -> None:
    store = make_store(keep_changes=2, keep_changes_seconds=3600)
    await store.open()
    for n in range(5):
        await store.publish("model", f"m{n}")
    assert len(await store.changes_since(0)) == 5


async def test_listen_wakes_at_once_or_says_to_poll(
    store: Store, make_store: StoreFactory, backend: str
) -> None:
    woken = asyncio.Event()
    pushes = await store.listen(woken.set)
    assert pushes is (backend == "postgresql")
    other_node = make_store()
    await other_node.open()
    await other_node.publish("connector", "c1")
    if pushes:
        await asyncio.wait_for(woken.wait(), timeout=30)
    else:
        assert not woken.is_set()
    await store.unlisten(woken.set)
    await store.unlisten(woken.set)  # unknown callbacks are ignored


# --- node registry ------------------------------------------------------------------------------------


async def test_heartbeats(store: Store, make_store: StoreFactory) -> None:
    assert await store.load_nodes() == []
    await store.heartbeat("node-b", {"name": "b", "roles": ["ml"]}, 1_000)
    await store.heartbeat(
        "node-a", {"name": "a", "roles": ["data", "ml"], "address": "127.0.0.1:9201"}, 1_500
    )
    await store.heartbeat("node-b", {"name": "b", "roles": ["ml", "data"]}, 2_000)
    other_node = make_store()
    await other_node.open()
    assert await other_node.load_nodes() == [
        ("node-a", {"name": "a", "roles": ["data", "ml"], "address": "127.0.0.1:9201"}, 1_500),
        ("node-b", {"name": "b", "roles": ["ml", "data"]}, 2_000),
    ]
    await other_node.remove_node("node-a")
    await other_node.remove_node("unknown")
    assert [node_id for node_id, _, _ in await store.load_nodes()] == ["node-b"]


# --- concurrency --------------------------------------------------------------------------------------


async def test_racing_if_version_writers_exactly_one_wins(make_store: StoreFactory) -> None:
    node_a, node_b = make_store(), make_store()
    await node_a.open()
    await node_b.open()
    for round_no in range(20):
        doc_id = f"m{round_no}"
        await node_a.save("models", doc_id, {"writer": None})

        async def write(node: Store, name: str, doc_id: str = doc_id) -> str | None:
            try:
                await node.save("models", doc_id, {"writer": name}, if_version=1)
            except VersionConflict:
                return None
            return name

        results = await asyncio.gather(write(node_a, "a"), write(node_b, "b"), write(node_a, "c"))
        winners = [r for r in results if r is not None]
        assert len(winners) == 1
        final = await node_b.load("models", doc_id)
        assert final is not None
        assert (final.version, final.source) == (2, {"writer": winners[0]})


async def test_racing_creators_exactly_one_wins(make_store: StoreFactory) -> None:
    nodes = [make_store() for _ in range(3)]
    for node in nodes:
        await node.open()

    async def create(n: int) -> bool:
        try:
            await nodes[n % 3].save("connectors", "c1", {"by": n}, create_only=True)
        except VersionConflict:
            return False
        return True

    assert sum(await asyncio.gather(*(create(n) for n in range(9)))) == 1


async def test_concurrent_writes_get_distinct_versions_and_seq_nos(make_store: StoreFactory) -> None:
    nodes = [make_store(), make_store()]
    for node in nodes:
        await node.open()
    saved = await asyncio.gather(*(nodes[n % 2].save("tasks", "t1", {"n": n}) for n in range(16)))
    assert sorted(doc.version for doc in saved) == list(range(1, 17))
    assert sorted(doc.seq_no for doc in saved) == list(range(16))
    final = await nodes[0].load("tasks", "t1")
    assert final is not None
    assert final.version == 16
    # The newest version carries the source of the write that got it.
    newest = max(saved, key=lambda doc: doc.version)
    assert final.source == newest.source


async def test_concurrent_publishers_lose_nothing(make_store: StoreFactory) -> None:
    nodes = [make_store(), make_store()]
    for node in nodes:
        await node.open()
    await asyncio.gather(*(nodes[n % 2].publish("model", f"m{n}") for n in range(20)))
    changes = await nodes[0].changes_since(0)
    assert sorted(key for _, _, key in changes) == sorted(f"m{n}" for n in range(20))
    assert [change_id for change_id, _, _ in changes] == sorted(change_id for change_id, _, _ in changes)


async def test_nodes_starting_at_once_migrate_once(make_store: StoreFactory) -> None:
    nodes = [make_store() for _ in range(4)]
    await asyncio.gather(*(node.open() for node in nodes))
    await nodes[0].save("models", "m1", {"ok": True})
    for node in nodes:
        assert await node.load("models", "m1") is not None


# --- durability ---------------------------------------------------------------------------------------


async def test_everything_survives_close_and_reopen(make_store: StoreFactory) -> None:
    first = make_store()
    await first.open()
    await first.open()  # a second open() changes nothing
    await first.save("models", "m1", {"name": "one"})
    await first.save("models", "m1", {"name": "uno"})
    await first.save("models", "m2", {"name": "two"})
    await first.delete("models", "m2")
    await first.save_meta("k", "v")
    await first.publish("model", "m1")
    await first.heartbeat("n1", {"name": "one"}, 42)
    await first.close()

    again = make_store()
    await again.open()
    assert await again.load("models", "m1") == StoredDoc(id="m1", source={"name": "uno"}, version=2, seq_no=1)
    assert await again.load("models", "m2") is None
    assert await again.load_meta("k") == "v"
    assert [(kind, key) for _, kind, key in await again.changes_since(0)] == [("model", "m1")]
    assert await again.load_nodes() == [("n1", {"name": "one"}, 42)]
    # seq_no carries on where it stopped.
    assert (await again.save("models", "m3", {})).seq_no == 4


# --- unicode and size ---------------------------------------------------------------------------------

UNICODE_SOURCE = {
    "name": "模型 — モデル — модель — نموذج — 🤖🧠",
    "combining": "e\u0301 vs é, Å vs A\u030a",
    "controls": "tab\tnewline\nnul\u0000bell\u0007 del\u007f",
    "ключ 🔑": ["\u200b zero width", "\ufeff bom", "\U0010fffd last plane"],
    "quotes": "\"'\\ `${parameters.x}`",
}


async def test_unicode_documents_ids_and_fields(store: Store) -> None:
    doc_id = "модель-🤖-\u00e9"
    await store.save("models", doc_id, UNICODE_SOURCE)
    loaded = await store.load("models", doc_id)
    assert loaded is not None
    assert loaded.source == UNICODE_SOURCE
    assert [d.id for d in await store.load_where("models", "name", UNICODE_SOURCE["name"])] == [doc_id]
    await store.publish("modèle", doc_id)
    assert (await store.changes_since(0))[0][1:] == ("modèle", doc_id)
    await store.heartbeat("nœud", {"name": "nœud 🛰"}, 1)
    assert await store.load_nodes() == [("nœud", {"name": "nœud 🛰"}, 1)]


async def test_big_documents(store: Store) -> None:
    big = {
        "text": "x" * (8 * 1024 * 1024),
        "embedding": [i / 7 for i in range(100_000)],
        "deep": _nested(200),
    }
    saved = await store.save("models", "big", big)
    assert saved.version == 1
    loaded = await store.load("models", "big")
    assert loaded is not None
    assert loaded.source == big


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"leaf": True}
    for level in range(depth):
        node = {f"l{level}": node}
    return node


# --- properties ---------------------------------------------------------------------------------------

_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_TEXT, children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Ids are database text: PostgreSQL text cannot hold U+0000 (inside documents it is fine).
@given(source=st.dictionaries(_TEXT, _JSON, max_size=6), doc_id=_TEXT.filter(lambda s: s and "\0" not in s))
async def test_load_of_save_is_identity(store: Store, source: dict[str, Any], doc_id: str) -> None:
    saved = await store.save("property", doc_id, source)
    loaded = await store.load("property", doc_id)
    assert loaded == saved
    assert loaded.source == source
    assert list(loaded.source) == list(source)
