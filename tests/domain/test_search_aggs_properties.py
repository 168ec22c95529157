"""Laws of the aggregations, checked with Hypothesis: counts add up, and no input escapes the error tree."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mlgate.domain.errors import MlgateError
from mlgate.domain.search import StoredDoc, search

INDEX = ".plugins-ml-task"
KEYWORDS = frozenset({"state"})
DATES = frozenset({"create_time"})
JAN_1 = 1_704_067_200_000


@st.composite
def documents(draw: st.DrawFn) -> list[StoredDoc]:
    docs = []
    for i in range(draw(st.integers(0, 20))):
        source: dict[str, Any] = {}
        if draw(st.booleans()):
            source["state"] = draw(st.sampled_from(["CREATED", "RUNNING", "COMPLETED", "FAILED"]))
        if draw(st.booleans()):
            source["create_time"] = JAN_1 + draw(st.integers(0, 90)) * 3_600_000 * 7
        if draw(st.booleans()):
            source["progress"] = draw(st.one_of(st.integers(0, 100), st.lists(st.integers(0, 9), max_size=3)))
        docs.append(StoredDoc(f"t{i:02}", source))
    return docs


def run(docs: list[StoredDoc], aggs: dict[str, Any]) -> dict[str, Any]:
    response = search(
        docs, {"size": 0, "aggs": aggs}, index=INDEX, keyword_fields=KEYWORDS, date_fields=DATES
    )
    result: dict[str, Any] = response["aggregations"]
    return result


@settings(max_examples=100, deadline=None)
@given(documents(), st.integers(1, 5), st.sampled_from([{"_count": "desc"}, {"_key": "asc"}, {"m": "desc"}]))
def test_terms_buckets_and_other_docs_count_every_valued_document(
    docs: list[StoredDoc], size: int, order: dict[str, str]
) -> None:
    spec = {
        "terms": {"field": "state", "size": size, "order": order},
        "aggs": {"m": {"max": {"field": "progress"}}},
    }
    result = run(docs, {"t": spec})["t"]
    counted = sum(bucket["doc_count"] for bucket in result["buckets"]) + result["sum_other_doc_count"]
    assert counted == sum(1 for doc in docs if "state" in doc.source)
    assert len(result["buckets"]) <= size


@settings(max_examples=100, deadline=None)
@given(documents(), st.sampled_from(["hour", "day", "week", "month", "7h", "90m"]))
def test_date_histogram_counts_each_dated_document_once_in_ascending_contiguous_buckets(
    docs: list[StoredDoc], interval: str
) -> None:
    key = "calendar_interval" if interval.isalpha() else "fixed_interval"
    found = run(docs, {"h": {"date_histogram": {"field": "create_time", key: interval}}})["h"]["buckets"]
    assert sum(b["doc_count"] for b in found) == sum(1 for doc in docs if "create_time" in doc.source)
    keys = [b["key"] for b in found]
    assert keys == sorted(set(keys))
    if found:
        assert found[0]["doc_count"] > 0 and found[-1]["doc_count"] > 0


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**20), 10**20),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(
            ["", "state", "progress", "create_time", "1d", "week", "yyyy", "asc", "-1", "now", "x.y>z"]
        ),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
OPTION_KEYS = [
    "field", "missing", "size", "order", "min_doc_count", "format", "calendar_interval", "fixed_interval",
    "interval", "time_zone", "extended_bounds", "ranges", "keyed", "filters", "other_bucket", "include",
    "exclude", "sort", "_source", "from", "offset", "other_bucket_key", "precision_threshold",
]  # fmt: skip
TYPES = [
    "terms",
    "filter",
    "filters",
    "range",
    "date_histogram",
    "min",
    "avg",
    "stats",
    "cardinality",
    "top_hits",
]


@settings(max_examples=300, deadline=None)
@given(
    documents(),
    st.sampled_from(TYPES),
    st.dictionaries(st.sampled_from(OPTION_KEYS), json_values, max_size=4),
    st.one_of(st.none(), st.dictionaries(st.text(max_size=4), json_values, max_size=2)),
)
def test_any_options_give_a_response_or_an_opensearch_error(
    docs: list[StoredDoc], agg_type: str, options: dict[str, Any], subs: dict[str, Any] | None
) -> None:
    definition: dict[str, Any] = {agg_type: options}
    if subs is not None:
        definition["aggs"] = subs
    try:
        result = run(docs, {"a": definition})
    except MlgateError as err:  # an OpenSearch-shaped 4xx/503, never an unexpected exception (a 500)
        assert err.message and err.error_type
    else:
        assert list(result) == ["a"]
