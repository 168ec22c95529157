"""The IndexStore contract: every test runs on the embedded engine and on PostgreSQL + pgvector."""

from __future__ import annotations

import math
import random

import orjson
import pytest
from tests.storage import index_store_support as support
from tests.storage.index_store_support import IndexStoreFactory, create, item, vector_fields

from mlgate.domain.indices.bm25 import FieldStats, TermScorer, encode_norm, sum_scores
from mlgate.domain.indices.floats import java_float_str
from mlgate.domain.indices.knn import distance
from mlgate.domain.indices.mapping import parse_mappings
from mlgate.storage.index_store import (
    DocumentWrite,
    IndexExists,
    IndexMissing,
    IndexStore,
    MappingConflict,
    WriteConflict,
    WriteResult,
)

# The engines under test (fixtures of tests/storage/index_store_support.py).
engine, index_pg_url, index_target, make_index_store, index_store = (
    support.engine,
    support.index_pg_url,
    support.index_target,
    support.make_index_store,
    support.index_store,
)

CAPTIONS = [
    "A West Virginia university women 's basketball team , officials , and a small gathering of fans are in a West Virginia arena .",
    "A wild animal races across an uncut field with a minimal amount of trees .",
    "People line the stands which advertise Freemont 's orthopedics , a cowboy rides a light brown bucking bronco .",
    "A man who is riding a wild horse in the rodeo is very near to falling off .",
    "A rodeo cowboy , wearing a cowboy hat , is being thrown off of a wild white horse .",
]

# --- indices ------------------------------------------------------------------------------------------


async def test_create_load_list_and_delete_indices(index_store: IndexStore) -> None:
    created = await index_store.create_index(
        "b-index", uuid="u-b", creation_date_ms=5, settings={"index.knn": "true"}, mappings={"properties": {}}
    )
    await index_store.create_index("a-index", uuid="u-a", creation_date_ms=6, settings={}, mappings={})
    assert created.uuid == "u-b" and created.mapping_version == 1
    assert await index_store.load_index("b-index") == created
    assert [record.name for record in await index_store.list_indices()] == ["a-index", "b-index"]
    with pytest.raises(IndexExists) as taken:
        await index_store.create_index("b-index", uuid="other", creation_date_ms=7, settings={}, mappings={})
    assert taken.value.uuid == "u-b"
    assert await index_store.delete_index("b-index") is True
    assert await index_store.delete_index("b-index") is False
    assert await index_store.load_index("b-index") is None
    with pytest.raises(IndexMissing):
        await index_store.count("b-index")
    # A new index of the same name starts empty.
    mappings = await create(index_store, "b-index", {"properties": {"t": {"type": "text"}}})
    assert await index_store.count("b-index") == 0
    assert (await index_store.term_stats("b-index", "t", ["x"])).doc_count == 0
    assert mappings.lookup("t") is not None


async def test_settings_and_mappings_updates(index_store: IndexStore) -> None:
    await create(index_store, "i")
    updated = await index_store.put_settings("i", {"index.knn": "true", "index.default_pipeline": "p"})
    assert updated.settings["index.default_pipeline"] == "p"
    record = await index_store.put_mappings(
        "i", {"properties": {"a": {"type": "text"}}}, if_mapping_version=1
    )
    assert record.mapping_version == 2 and record.mappings == {"properties": {"a": {"type": "text"}}}
    with pytest.raises(MappingConflict):
        await index_store.put_mappings("i", {"properties": {}}, if_mapping_version=1)
    assert (await index_store.load_index("i")).mappings == {"properties": {"a": {"type": "text"}}}  # type: ignore[union-attr]
    with pytest.raises(IndexMissing):
        await index_store.put_settings("nope", {})


# --- documents ----------------------------------------------------------------------------------------


async def test_versions_seq_nos_and_results(index_store: IndexStore) -> None:
    mappings = await create(index_store, "i")
    source = {"title": "Hello", "n": 1.0, "nested": {"b": [1, 2]}}
    first = await index_store.write("i", [item(mappings, "1", source, "create")])
    assert first == [WriteResult("1", "created", 1, 0)]
    stored = await index_store.get("i", "1")
    assert (
        stored is not None
        and stored.source == orjson.dumps(source)
        and (stored.version, stored.seq_no) == (1, 0)
    )
    results = await index_store.write(
        "i",
        [
            item(mappings, "1", {"title": "again"}),
            item(mappings, "1", {"title": "create"}, "create"),  # refused: exists
            DocumentWrite("delete", "2"),  # nothing to delete: not_found, still takes a seq_no
            item(mappings, "3", {"title": "three"}, if_seq_no=9, if_primary_term=1),  # refused: no such doc
        ],
    )
    assert results[0] == WriteResult("1", "updated", 2, 1)
    assert results[1] == WriteConflict("1", 2, 1, 1)
    assert results[2] == WriteResult("2", "not_found", 1, 2)
    assert results[3] == WriteConflict("3", None, None, None)
    conditional = await index_store.write(
        "i",
        [
            item(mappings, "1", {"title": "stale"}, if_seq_no=0, if_primary_term=1),
            item(mappings, "1", {"title": "fresh"}, if_seq_no=1, if_primary_term=1),
        ],
    )
    assert conditional == [WriteConflict("1", 2, 1, 1), WriteResult("1", "updated", 3, 3)]
    deleted = await index_store.write("i", [DocumentWrite("delete", "1")])
    assert deleted == [WriteResult("1", "deleted", 4, 4)]
    assert await index_store.get("i", "1") is None
    # The tombstone carries the version on: OpenSearch answers _version 5 for the next create.
    assert await index_store.write("i", [item(mappings, "1", {"title": "back"})]) == [
        WriteResult("1", "created", 5, 5)
    ]
    assert await index_store.count("i") == 1


async def test_overwrite_moves_a_document_to_the_end(index_store: IndexStore) -> None:
    mappings = await create(index_store, "i")
    await index_store.write("i", [item(mappings, doc_id, {"k": doc_id}) for doc_id in "abc"])
    await index_store.write("i", [item(mappings, "a", {"k": "a2"})])
    scanned = await index_store.scan("i")
    assert [doc.doc_id for doc in scanned] == ["b", "c", "a"]
    assert [doc.doc_id for doc in await index_store.scan("i", after_key=scanned[0].key, limit=1)] == ["c"]
    found = await index_store.get_many("i", [scanned[2].key, scanned[0].key, 10**9])
    assert {doc.doc_id for doc in found.values()} == {"a", "b"}
    assert found[scanned[2].key].source == orjson.dumps({"k": "a2"})


async def test_writes_to_a_missing_index_are_refused(index_store: IndexStore) -> None:
    with pytest.raises(IndexMissing):
        await index_store.write("nope", [DocumentWrite("index", "1", b"{}")])
    with pytest.raises(IndexMissing):
        await index_store.refresh("nope")


async def test_dynamic_mappings_commit_with_the_items(index_store: IndexStore) -> None:
    await create(index_store, "i")
    mappings = parse_mappings({"properties": {"t": {"type": "text"}}})
    await index_store.write(
        "i", [item(mappings, "1", {"t": "x"})], mappings=mappings.to_json(), if_mapping_version=1
    )
    record = await index_store.load_index("i")
    assert record is not None and record.mapping_version == 2 and record.mappings == mappings.to_json()
    with pytest.raises(MappingConflict):
        await index_store.write("i", [item(mappings, "2", {"t": "y"})], mappings={}, if_mapping_version=1)
    assert await index_store.get("i", "2") is None
    assert (await index_store.term_stats("i", "t", ["y"])).doc_freqs == {"y": 0}


# --- terms --------------------------------------------------------------------------------------------


async def test_term_statistics_follow_writes(index_store: IndexStore) -> None:
    mappings = await create(
        index_store, "i", {"properties": {"t": {"type": "text"}, "k": {"type": "keyword"}}}
    )
    await index_store.write(
        "i",
        [
            item(mappings, "1", {"t": "the quick fox", "k": "New York"}),
            item(mappings, "2", {"t": "the lazy dog the end", "k": "new_york's"}),
            item(mappings, "3", {"t": "!!!", "k": "Ünïcode ü"}),  # no token: not counted in doc_count
        ],
    )
    stats = await index_store.term_stats("i", "t", ["the", "fox", "cat"])
    assert (stats.doc_count, stats.sum_length) == (2, 8)
    assert stats.doc_freqs == {"the": 2, "fox": 1, "cat": 0}
    assert [(p.length, dict(p.freqs)) for p in stats.postings] == [(3, {"the": 1, "fox": 1}), (5, {"the": 2})]
    keywords = await index_store.term_stats("i", "k", ["New York", "new_york's", "Ünïcode ü", "new york"])
    assert keywords.doc_freqs == {"New York": 1, "new_york's": 1, "Ünïcode ü": 1, "new york": 0}
    assert await index_store.expand_terms("i", "k", "new") == ["new_york's"]
    assert await index_store.expand_terms("i", "t", "th") == ["the"]
    await index_store.write("i", [item(mappings, "1", {"t": "a fox"}), DocumentWrite("delete", "2")])
    stats = await index_store.term_stats("i", "t", ["the", "fox"])
    assert (stats.doc_count, stats.sum_length, dict(stats.doc_freqs)) == (1, 2, {"the": 0, "fox": 1})
    assert (await index_store.term_stats("i", "missing", ["x"])).doc_count == 0


async def test_positions_leave_gaps_between_values(index_store: IndexStore) -> None:
    mappings = await create(index_store, "i", {"properties": {"t": {"type": "text"}}})
    await index_store.write("i", [item(mappings, "1", {"t": ["a b a", "c a"]})])
    stats = await index_store.term_stats("i", "t", ["a", "c"], positions=True)
    (posting,) = stats.postings
    assert posting.length == 5
    assert posting.positions == {"a": (0, 2, 104), "c": (103,)}


async def test_bm25_over_stored_statistics_gives_the_tutorial_scores(index_store: IndexStore) -> None:
    mappings = await create(index_store, "nlp", {"properties": {"text": {"type": "text"}}})
    await index_store.write(
        "nlp", [item(mappings, str(n), {"text": c}) for n, c in enumerate(CAPTIONS, start=1)]
    )
    stats = await index_store.term_stats("nlp", "text", ["wild", "west"])
    field = FieldStats(stats.doc_count, stats.sum_length)
    scorers = {term: TermScorer(stats.doc_freqs[term], field) for term in ("wild", "west")}
    docs = await index_store.get_many("nlp", [p.key for p in stats.postings])
    scores = {
        docs[p.key].doc_id: java_float_str(
            sum_scores(scorers[term].score(freq, encode_norm(p.length)) for term, freq in p.freqs.items())
        )
        for p in stats.postings
    }
    assert scores == {"1": "1.7878418", "2": "0.58093566", "4": "0.53899646", "5": "0.55228686"}


# --- vectors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("space", ["l2", "cosinesimil", "innerproduct", "l1", "linf"])
async def test_exact_knn_per_space(index_store: IndexStore, space: str) -> None:
    mapping = {"properties": {"v": {"type": "knn_vector", "dimension": 3, "space_type": space}}}
    mappings = await create(index_store, "v", mapping)
    rng = random.Random(3)
    vectors = {str(n): [rng.uniform(-1, 1) for _ in range(3)] for n in range(40)}
    items = [item(mappings, doc_id, {"v": vector}) for doc_id, vector in vectors.items()]
    await index_store.write("v", items, vector_fields=vector_fields(mappings))
    query = [0.3, -0.2, 0.9]
    hits = await index_store.knn("v", "v", query, 5)
    docs = await index_store.get_many("v", [hit.key for hit in hits])
    expected = sorted(vectors, key=lambda doc_id: (distance(space, query, vectors[doc_id]), int(doc_id)))[:5]
    assert [docs[hit.key].doc_id for hit in hits] == expected
    for hit in hits:
        assert hit.distance == pytest.approx(distance(space, query, vectors[docs[hit.key].doc_id]), abs=1e-5)


async def test_knn_filters_deletes_and_overwrites(index_store: IndexStore) -> None:
    mappings = await create(index_store, "v", {"properties": {"v": {"type": "knn_vector", "dimension": 2}}})
    fields = vector_fields(mappings)
    await index_store.write(
        "v", [item(mappings, str(n), {"v": [float(n), 0.0]}) for n in range(10)], vector_fields=fields
    )
    await index_store.write(
        "v",
        [
            DocumentWrite("delete", "0"),
            item(mappings, "1", {"v": [100.0, 0.0]}),
            item(mappings, "2", {"other": 1}),
        ],
        vector_fields=fields,
    )
    hits = await index_store.knn("v", "v", [0.0, 0.0], 3)
    keys = {doc.key: doc.doc_id for doc in await index_store.scan("v")}
    assert [keys[hit.key] for hit in hits] == ["3", "4", "5"]
    assert [hit.distance for hit in hits] == [9.0, 16.0, 25.0]
    allowed = {key for key, doc_id in keys.items() if doc_id in ("1", "7", "9")}
    assert [keys[hit.key] for hit in await index_store.knn("v", "v", [0.0, 0.0], 5, allowed=allowed)] == [
        "7",
        "9",
        "1",
    ]
    assert len(await index_store.knn("v", "v", [0.0, 0.0], 50)) == 8
    assert await index_store.knn("v", "v", [0.0, 0.0], 3, allowed=set()) == []
    within = await index_store.within("v", "v", [0.0, 0.0], 25.0)
    assert [keys[hit.key] for hit in within] == ["3", "4", "5"]
    assert await index_store.knn("v", "missing", [0.0, 0.0], 3) == []


async def test_approximate_search_finds_the_exact_neighbours(make_index_store: IndexStoreFactory) -> None:
    # A small threshold puts the embedded engine on its HNSW index; PostgreSQL always has one.
    store = make_index_store(approximate_from=300)
    await store.open()
    mappings = await create(
        store,
        "big",
        {"properties": {"v": {"type": "knn_vector", "dimension": 16, "space_type": "cosinesimil"}}},
    )
    rng = random.Random(11)
    centres = [[rng.gauss(0, 1) for _ in range(16)] for _ in range(20)]
    points = [[c + rng.gauss(0, 0.3) for c in centres[n % 20]] for n in range(600)]
    for start in range(0, 600, 200):
        batch = [item(mappings, str(n), {"v": points[n]}) for n in range(start, start + 200)]
        await store.write("big", batch, vector_fields=vector_fields(mappings))
    found = exact = 0
    for query in points[:20]:
        approximate = await store.knn("big", "v", query, 10)
        truth = await store.knn("big", "v", query, 10, exact=True)
        found += len({h.key for h in approximate} & {h.key for h in truth})
        exact += len(truth)
        assert [h.distance for h in approximate] == sorted(h.distance for h in approximate)
    assert found / exact >= 0.9


async def test_everything_survives_a_restart(make_index_store: IndexStoreFactory) -> None:
    store = make_index_store(approximate_from=50)
    await store.open()
    mappings = await create(
        store, "i", {"properties": {"v": {"type": "knn_vector", "dimension": 2}, "t": {"type": "text"}}}
    )
    items = [item(mappings, str(n), {"v": [float(n), 1.0], "t": f"word{n % 3}"}) for n in range(80)]
    await store.write("i", items, vector_fields=vector_fields(mappings))
    before = await store.knn("i", "v", [3.0, 1.0], 4)
    await store.close()
    reopened = make_index_store(approximate_from=50)
    await reopened.open()
    assert await reopened.count("i") == 80
    assert [h.key for h in await reopened.knn("i", "v", [3.0, 1.0], 4)] == [h.key for h in before]
    assert (await reopened.term_stats("i", "t", ["word1"])).doc_freqs == {"word1": 27}
    # Writes after the restart reach the reloaded vector index.
    await reopened.write(
        "i", [item(mappings, "new", {"v": [3.0, 1.5]})], vector_fields=vector_fields(mappings)
    )
    nearest = (await reopened.knn("i", "v", [3.0, 1.4], 1))[0]
    assert (await reopened.get_many("i", [nearest.key]))[nearest.key].doc_id == "new"
    assert math.isclose(nearest.distance, 0.01, rel_tol=1e-4)


async def test_two_stores_on_one_target_see_each_others_writes(make_index_store: IndexStoreFactory) -> None:
    # Two nodes on PostgreSQL; two worker processes on one data directory for the embedded engine.
    first, second = make_index_store(approximate_from=20), make_index_store(approximate_from=20)
    await first.open()
    await second.open()
    mappings = await create(first, "shared", {"properties": {"v": {"type": "knn_vector", "dimension": 2}}})
    fields = vector_fields(mappings)
    await first.write(
        "shared", [item(mappings, str(n), {"v": [float(n), 0.0]}) for n in range(30)], vector_fields=fields
    )
    hits = await second.knn("shared", "v", [29.2, 0.0], 1)
    assert (await second.get_many("shared", [hits[0].key]))[hits[0].key].doc_id == "29"
    await second.write(
        "shared",
        [DocumentWrite("delete", "29"), item(mappings, "x", {"v": [50.0, 0.0]})],
        vector_fields=fields,
    )
    hits = await first.knn("shared", "v", [29.2, 0.0], 2)
    assert [(await first.get_many("shared", [h.key]))[h.key].doc_id for h in hits] == ["28", "27"]
    assert await second.delete_index("shared")
    assert await first.load_index("shared") is None
    with pytest.raises(IndexMissing):
        await first.knn("shared", "v", [0.0, 0.0], 1)
