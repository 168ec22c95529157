"""Laws of the search engine, checked with Hypothesis."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mlgate.domain.search import StoredDoc, search
from mlgate.domain.search_field import analyze
from mlgate.domain.search_query import compile_query

INDEX = ".plugins-ml-model"
KEYWORDS = frozenset({"k"})

values = st.one_of(st.none(), st.integers(-5, 5), st.lists(st.integers(-5, 5), min_size=1, max_size=3))
keywords = st.one_of(st.none(), st.sampled_from(["a", "b", "c", "B"]))


@st.composite
def documents(draw: st.DrawFn) -> list[StoredDoc]:
    count = draw(st.integers(0, 25))
    docs = []
    for i in range(count):
        source: dict[str, Any] = {}
        n, k = draw(values), draw(keywords)
        if n is not None:
            source["n"] = n
        if k is not None:
            source["k"] = k
        docs.append(StoredDoc(f"d{i:02}", source))
    return docs


sorts = st.lists(
    st.one_of(
        st.builds(
            lambda field, order, missing: {field: {"order": order, "missing": missing}},
            st.sampled_from(["n", "k", "_id"]),
            st.sampled_from(["asc", "desc"]),
            st.sampled_from(["_first", "_last"]),
        ),
        st.sampled_from(["n", "k", "_score", "_doc"]),
    ),
    min_size=1,
    max_size=3,
)


def hit_ids(response: dict[str, Any]) -> list[str]:
    return [hit["_id"] for hit in response["hits"]["hits"]]


@settings(max_examples=150, deadline=None)
@given(documents(), sorts, st.integers(1, 7))
def test_paging_partitions_the_full_sorted_result(docs: list[StoredDoc], sort: list[Any], page: int) -> None:
    full = hit_ids(search(docs, {"sort": sort, "size": len(docs)}, index=INDEX, keyword_fields=KEYWORDS))
    assert sorted(full) == sorted(doc.id for doc in docs)
    paged: list[str] = []
    for start in range(0, len(docs) + page, page):
        body = {"sort": sort, "from": start, "size": page}
        paged += hit_ids(search(docs, body, index=INDEX, keyword_fields=KEYWORDS))
    assert paged == full


@settings(max_examples=150, deadline=None)
@given(documents(), st.sampled_from(["asc", "desc"]), st.sampled_from(["_first", "_last"]))
def test_sorted_values_are_ordered_with_missing_grouped(
    docs: list[StoredDoc], order: str, missing: str
) -> None:
    body = {"sort": [{"n": {"order": order, "missing": missing}}], "size": len(docs)}
    hits = search(docs, body, index=INDEX)["hits"]["hits"]
    keys = [hit["sort"][0] for hit in hits]
    present = [key for key in keys if key is not None]
    assert present == sorted(present, reverse=order == "desc")
    absent = len(keys) - len(present)
    assert keys == ([None] * absent + present if missing == "_first" else present + [None] * absent)
    # The chosen value of a multi-valued field is its minimum ascending and its maximum descending.
    for hit in hits:
        n = hit["_source"].get("n")
        if isinstance(n, list):
            assert hit["sort"][0] == (max(n) if order == "desc" else min(n))


def matching(docs: list[StoredDoc], query: dict[str, Any]) -> set[str]:
    compiled = compile_query(query, keyword_fields=KEYWORDS)
    return {doc.id for doc in docs if compiled.matches(doc.source, doc.id)}


term_queries = st.one_of(
    st.builds(lambda v: {"term": {"k": v}}, st.sampled_from(["a", "b", "c", "B"])),
    st.builds(lambda v: {"range": {"n": {"gte": v}}}, st.integers(-5, 5)),
    st.builds(lambda v: {"terms": {"n": v}}, st.lists(st.integers(-5, 5), max_size=3)),
    st.just({"exists": {"field": "n"}}),
)


@settings(max_examples=150, deadline=None)
@given(documents(), term_queries, term_queries)
def test_bool_is_set_algebra(docs: list[StoredDoc], left: dict[str, Any], right: dict[str, Any]) -> None:
    everything = {doc.id for doc in docs}
    a, b = matching(docs, left), matching(docs, right)
    assert matching(docs, {"bool": {"must": [left, right]}}) == a & b
    assert matching(docs, {"bool": {"filter": [left], "must": right}}) == a & b
    assert matching(docs, {"bool": {"should": [left, right]}}) == a | b
    assert matching(docs, {"bool": {"should": [left, right], "minimum_should_match": 2}}) == a & b
    assert matching(docs, {"bool": {"must_not": [left]}}) == everything - a
    assert matching(docs, {"bool": {"must": left, "must_not": right}}) == a - b


words = st.text(st.characters(categories=["L", "N", "P", "Zs"]), max_size=30)


@settings(max_examples=200, deadline=None)
@given(words)
def test_every_token_of_a_text_value_is_found_by_term_and_match(text: str) -> None:
    source = {"description": text}
    for token in analyze(text):
        assert token == token.lower()
        assert compile_query({"term": {"description": token}}).matches(source, "x")
    if analyze(text):
        assert compile_query({"match": {"description": text}}).matches(source, "x")
        assert compile_query({"match_phrase": {"description": text}}).matches(source, "x")
    assert compile_query({"term": {"description.keyword": text}}).matches(source, "x") == (len(text) <= 256)


secrets_docs = st.recursive(
    st.one_of(st.integers(), st.text(max_size=5), st.none()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["credential", "key", "a", "connector"]), inner, max_size=3),
    ),
    max_leaves=10,
)


def paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        found = set()
        for key, child in value.items():
            path = f"{prefix}{key}"
            found |= {path} | paths(child, path + ".")
        return found
    if isinstance(value, list):
        return set().union(*(paths(item, prefix) for item in value)) if value else set()
    return set()


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["credential", "connector", "name"]), secrets_docs, max_size=3))
def test_excluded_fields_never_show_and_never_match(source: dict[str, Any]) -> None:
    excludes = ("credential", "connector.credential")
    docs = [StoredDoc("1", source)]
    for query in (
        {"exists": {"field": "credential"}},
        {"exists": {"field": "connector.credential"}},
        {"wildcard": {"credential.key.keyword": "*"}},
        {"range": {"connector.credential.key": {"gte": -(10**30)}}},
    ):
        response = search(docs, {"query": query}, index=INDEX, source_excludes=excludes)
        assert response["hits"]["total"]["value"] == 0
    hit = search(docs, {"_source": ["*"]}, index=INDEX, source_excludes=excludes)["hits"]["hits"][0]
    shown = paths(hit["_source"])
    assert "credential" not in shown
    assert not any(p == "connector.credential" or p.startswith("connector.credential.") for p in shown)
