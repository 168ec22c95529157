"""Search aggregations: every supported type in OpenSearch's response shape, over ML-like documents."""

from __future__ import annotations

from typing import Any

import pytest

from mlgate.domain.search import StoredDoc, search

INDEX = ".plugins-ml-model"
KEYWORD_FIELDS = frozenset({"model_state", "algorithm", "model_group_id", "parameters.*"})
DATE_FIELDS = frozenset({"created_time", "last_deployed_time"})
EXCLUDES = ("connector.credential",)
DAY = 86_400_000
JAN_1 = 1_704_067_200_000  # 2024-01-01T00:00:00Z, a Monday

DOCS = [
    StoredDoc(
        "m1",
        {
            "name": "alpha chat",
            "model_state": "DEPLOYED",
            "model_group_id": "g1",
            "created_time": JAN_1 + 3_600_000,
            "score": 3,
            "is_enabled": True,
            "connector": {"credential": {"key": "secret-1"}, "protocol": "http"},
        },
        version=4,
        seq_no=9,
        primary_term=2,
    ),
    StoredDoc(
        "m2",
        {
            "name": "beta embed",
            "model_state": "REGISTERED",
            "model_group_id": "g1",
            "created_time": JAN_1 + DAY,
            "score": 5,
            "is_enabled": False,
        },
    ),
    StoredDoc(
        "m3",
        {
            "name": "gamma",
            "model_state": "DEPLOYED",
            "model_group_id": "g2",
            "created_time": JAN_1 + 3 * DAY,
            "score": 10,
            "tags": ["x", "y", "x"],
        },
    ),
    StoredDoc("m4", {"name": "delta", "model_state": "UNDEPLOYED", "created_time": JAN_1 + 40 * DAY}),
]


def run(body: dict[str, Any], docs: list[StoredDoc] | None = None, **kwargs: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "index": INDEX,
        "keyword_fields": KEYWORD_FIELDS,
        "date_fields": DATE_FIELDS,
        "source_excludes": EXCLUDES,
    }
    options.update(kwargs)
    return search(DOCS if docs is None else docs, body, **options)


def aggs(spec: dict[str, Any], **body: Any) -> dict[str, Any]:
    result: dict[str, Any] = run({"size": 0, "aggs": spec, **body})["aggregations"]
    return result


def buckets(spec: dict[str, Any], **body: Any) -> Any:
    return aggs({"a": spec}, **body)["a"]["buckets"]


# --- terms ---------------------------------------------------------------------------------------


def test_models_by_state_with_size_zero() -> None:
    response = run({"size": 0, "aggs": {"by_state": {"terms": {"field": "model_state"}}}})
    assert response["hits"] == {"total": {"value": 4, "relation": "eq"}, "max_score": None, "hits": []}
    assert response["aggregations"] == {
        "by_state": {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": 0,
            "buckets": [
                {"key": "DEPLOYED", "doc_count": 2},
                {"key": "REGISTERED", "doc_count": 1},
                {"key": "UNDEPLOYED", "doc_count": 1},
            ],
        }
    }
    assert list(response) == ["took", "timed_out", "_shards", "hits", "aggregations"]


@pytest.mark.parametrize(
    ("order", "keys"),
    [
        ({"_key": "desc"}, ["UNDEPLOYED", "REGISTERED", "DEPLOYED"]),
        ({"_key": "asc"}, ["DEPLOYED", "REGISTERED", "UNDEPLOYED"]),
        ({"_term": "asc"}, ["DEPLOYED", "REGISTERED", "UNDEPLOYED"]),
        ({"_count": "asc"}, ["REGISTERED", "UNDEPLOYED", "DEPLOYED"]),  # ties by key ascending
        ([{"_count": "DESC"}, {"_key": "desc"}], ["DEPLOYED", "UNDEPLOYED", "REGISTERED"]),
    ],
)
def test_terms_order_by_count_and_key(order: Any, keys: list[str]) -> None:
    found = buckets({"terms": {"field": "model_state", "order": order}})
    assert [b["key"] for b in found] == keys


def test_terms_size_counts_the_rest_as_other_docs() -> None:
    result = aggs({"a": {"terms": {"field": "model_state", "size": 1, "shard_size": 5}}})["a"]
    assert result["buckets"] == [{"key": "DEPLOYED", "doc_count": 2}]
    assert result["sum_other_doc_count"] == 2


def test_terms_order_by_sub_aggregation_metrics_and_filters() -> None:
    subs = {
        "top_score": {"max": {"field": "score"}},
        "s": {"stats": {"field": "score"}},
        "enabled": {
            "filter": {"term": {"is_enabled": True}},
            "aggs": {"n": {"value_count": {"field": "score"}}},
        },
    }

    def keys(order: Any) -> list[str]:
        found = aggs({"a": {"terms": {"field": "model_state", "order": order}, "aggs": subs}})["a"]["buckets"]
        return [b["key"] for b in found]

    # UNDEPLOYED has no score: its max is -Infinity, so it sorts last descending and first ascending.
    assert keys({"top_score": "desc"}) == ["DEPLOYED", "REGISTERED", "UNDEPLOYED"]
    assert keys({"top_score.value": "asc"}) == ["UNDEPLOYED", "REGISTERED", "DEPLOYED"]
    # An average of nothing sorts last whichever the direction.
    assert keys({"s.avg": "asc"}) == ["REGISTERED", "DEPLOYED", "UNDEPLOYED"]
    assert keys({"s.avg": "desc"}) == ["DEPLOYED", "REGISTERED", "UNDEPLOYED"]
    assert keys([{"enabled": "desc"}, {"_key": "desc"}]) == ["DEPLOYED", "UNDEPLOYED", "REGISTERED"]
    assert keys({"enabled>n": "desc"}) == ["DEPLOYED", "REGISTERED", "UNDEPLOYED"]


def test_terms_min_doc_count() -> None:
    assert [b["key"] for b in buckets({"terms": {"field": "model_state", "min_doc_count": 2}})] == [
        "DEPLOYED"
    ]
    # Zero lists every term of the visible documents, even those the query did not match.
    narrowed = buckets(
        {"terms": {"field": "model_state", "min_doc_count": 0}}, query={"term": {"model_state": "DEPLOYED"}}
    )
    assert narrowed == [
        {"key": "DEPLOYED", "doc_count": 2},
        {"key": "REGISTERED", "doc_count": 0},
        {"key": "UNDEPLOYED", "doc_count": 0},
    ]


def test_terms_missing_counts_documents_without_the_field() -> None:
    found = buckets({"terms": {"field": "model_group_id", "missing": "none"}})
    assert found == [
        {"key": "g1", "doc_count": 2},
        {"key": "g2", "doc_count": 1},
        {"key": "none", "doc_count": 1},
    ]
    unmapped = buckets({"terms": {"field": "nowhere", "missing": 7}})
    assert unmapped == [{"key": 7, "doc_count": 4}]
    assert buckets({"terms": {"field": "nowhere"}}) == []


def test_terms_key_types_follow_the_field_type() -> None:
    assert buckets({"terms": {"field": "score", "order": {"_key": "asc"}}}) == [
        {"key": 3, "doc_count": 1},
        {"key": 5, "doc_count": 1},
        {"key": 10, "doc_count": 1},
    ]
    assert buckets({"terms": {"field": "is_enabled"}}) == [
        {"key": 0, "key_as_string": "false", "doc_count": 1},
        {"key": 1, "key_as_string": "true", "doc_count": 1},
    ]
    dates = buckets({"terms": {"field": "created_time", "size": 1, "order": {"_key": "asc"}}})
    assert dates == [{"key": JAN_1 + 3_600_000, "key_as_string": "2024-01-01T01:00:00.000Z", "doc_count": 1}]
    # A text field's .keyword subfield holds the whole string; a repeated value counts once per document.
    assert buckets({"terms": {"field": "name.keyword", "size": 1}}) == [{"key": "alpha chat", "doc_count": 1}]
    assert buckets({"terms": {"field": "tags.keyword"}}) == [
        {"key": "x", "doc_count": 1},
        {"key": "y", "doc_count": 1},
    ]


def test_terms_include_exclude_and_doc_count_error() -> None:
    found = buckets({"terms": {"field": "model_state", "include": ".*ED", "exclude": ["REGISTERED"]}})
    assert [b["key"] for b in found] == ["DEPLOYED", "UNDEPLOYED"]
    # Lucene regular expressions run as automata: a pattern that makes a backtracking engine explode
    # costs one step per character here.
    assert buckets({"terms": {"field": "model_state", "include": "(D+)+X"}}) == []
    found = buckets({"terms": {"field": "score", "include": [5, 10], "show_term_doc_count_error": True}})
    assert found[0] == {"key": 5, "doc_count": 1, "doc_count_error_upper_bound": 0}


# --- filter, filters, range ----------------------------------------------------------------------


def test_filter_is_one_bucket_with_sub_aggregations() -> None:
    result = aggs(
        {
            "deployed": {
                "filter": {"term": {"model_state": "DEPLOYED"}},
                "aggs": {"s": {"sum": {"field": "score"}}},
            }
        }
    )
    assert result == {"deployed": {"doc_count": 2, "s": {"value": 13.0}}}


def test_filters_named_are_sorted_by_name_and_anonymous_keep_their_order() -> None:
    named = {"b": {"term": {"model_state": "DEPLOYED"}}, "a": {"exists": {"field": "tags"}}}
    assert buckets({"filters": {"filters": named}}) == {"a": {"doc_count": 1}, "b": {"doc_count": 2}}
    with_other = buckets({"filters": {"filters": named, "other_bucket_key": "rest"}})
    assert list(with_other) == ["a", "b", "rest"] and with_other["rest"] == {"doc_count": 2}
    anonymous = buckets({"filters": {"filters": list(named.values()), "other_bucket": True}})
    assert anonymous == [{"doc_count": 2}, {"doc_count": 1}, {"doc_count": 2}]


def test_range_buckets_sorted_with_generated_or_given_keys() -> None:
    found = buckets(
        {"range": {"field": "score", "ranges": [{"from": 5}, {"to": 5}, {"key": "mid", "from": 4, "to": 6}]}}
    )
    assert found == [
        {"key": "*-5.0", "to": 5.0, "doc_count": 1},
        {"key": "mid", "from": 4.0, "to": 6.0, "doc_count": 1},
        {"key": "5.0-*", "from": 5.0, "doc_count": 2},
    ]
    keyed = buckets({"range": {"field": "score", "keyed": True, "ranges": [{"from": 1e7}]}})
    assert keyed == {"1.0E7-*": {"from": 1e7, "doc_count": 0}}


def test_range_on_a_date_field_prints_dates() -> None:
    found = buckets({"range": {"field": "created_time", "ranges": [{"from": "2024-01-02T00:00:00Z"}]}})
    assert found == [
        {
            "key": "2024-01-02T00:00:00.000Z-*",
            "from": float(JAN_1 + DAY),
            "from_as_string": "2024-01-02T00:00:00.000Z",
            "doc_count": 3,
        }
    ]


# --- date_histogram ------------------------------------------------------------------------------


def test_date_histogram_fills_gaps_between_days() -> None:
    found = buckets(
        {"date_histogram": {"field": "created_time", "calendar_interval": "day"}},
        query={"range": {"created_time": {"lt": JAN_1 + 4 * DAY}}},
    )
    assert found == [
        {"key_as_string": "2024-01-01T00:00:00.000Z", "key": JAN_1, "doc_count": 1},
        {"key_as_string": "2024-01-02T00:00:00.000Z", "key": JAN_1 + DAY, "doc_count": 1},
        {"key_as_string": "2024-01-03T00:00:00.000Z", "key": JAN_1 + 2 * DAY, "doc_count": 0},
        {"key_as_string": "2024-01-04T00:00:00.000Z", "key": JAN_1 + 3 * DAY, "doc_count": 1},
    ]


def test_date_histogram_calendar_and_fixed_intervals() -> None:
    months = buckets(
        {"date_histogram": {"field": "created_time", "calendar_interval": "1M", "format": "yyyy-MM"}}
    )
    assert [(b["key_as_string"], b["doc_count"]) for b in months] == [("2024-01", 3), ("2024-02", 1)]
    weeks = buckets(
        {"date_histogram": {"field": "created_time", "calendar_interval": "week", "min_doc_count": 1}}
    )
    assert [(b["key"], b["doc_count"]) for b in weeks] == [(JAN_1, 3), (JAN_1 + 35 * DAY, 1)]
    fixed = buckets(
        {"date_histogram": {"field": "created_time", "fixed_interval": "30d", "min_doc_count": 1}}
    )
    # Fixed intervals count from the epoch, not from the first document.
    assert [b["key"] for b in fixed] == [
        JAN_1 // (30 * DAY) * 30 * DAY,
        (JAN_1 + 40 * DAY) // (30 * DAY) * 30 * DAY,
    ]


def test_date_histogram_time_zone_extended_bounds_order_and_keyed() -> None:
    local = buckets(
        {
            "date_histogram": {
                "field": "created_time",
                "calendar_interval": "day",
                "time_zone": "-05:00",
                "min_doc_count": 1,
            }
        }
    )
    # 01:00 UTC on Jan 1st is still Dec 31st in New York's winter time.
    assert local[0] == {
        "key_as_string": "2023-12-31T00:00:00.000-05:00",
        "key": JAN_1 - DAY + 5 * 3_600_000,
        "doc_count": 1,
    }
    spec = {
        "date_histogram": {
            "field": "created_time",
            "calendar_interval": "day",
            "extended_bounds": {"min": "2023-12-30", "max": JAN_1 + DAY},
            "keyed": True,
            "format": "yyyy-MM-dd",
        }
    }
    bounded = buckets(spec, query={"range": {"created_time": {"lt": JAN_1 + 2 * DAY}}})
    assert {k: v["doc_count"] for k, v in bounded.items()} == {
        "2023-12-30": 0,
        "2023-12-31": 0,
        "2024-01-01": 1,
        "2024-01-02": 1,
    }
    by_count = buckets(
        {"date_histogram": {"field": "created_time", "calendar_interval": "year", "order": {"_count": "asc"}}}
    )
    assert by_count == [{"key_as_string": "2024-01-01T00:00:00.000Z", "key": JAN_1, "doc_count": 4}]


def test_date_histogram_with_no_documents_spans_the_bounds_only() -> None:
    spec = {
        "date_histogram": {
            "field": "created_time",
            "calendar_interval": "day",
            "extended_bounds": {"min": JAN_1, "max": JAN_1 + DAY},
        }
    }
    assert [b["doc_count"] for b in buckets(spec, query={"match_none": {}})] == [0, 0]
    spec["date_histogram"].pop("extended_bounds")
    assert buckets(spec, query={"match_none": {}}) == []


# --- metrics -------------------------------------------------------------------------------------


def test_metrics_values() -> None:
    result = aggs(
        {
            "min": {"min": {"field": "score"}},
            "max": {"max": {"field": "score"}},
            "avg": {"avg": {"field": "score"}},
            "sum": {"sum": {"field": "score"}},
            "count": {"value_count": {"field": "model_state"}},
            "distinct": {"cardinality": {"field": "model_group_id"}},
            "stats": {"stats": {"field": "score"}},
            "first": {"min": {"field": "created_time"}},
            "missing": {"avg": {"field": "score", "missing": 1}},
        }
    )
    assert result == {
        "min": {"value": 3.0},
        "max": {"value": 10.0},
        "avg": {"value": 6.0},
        "sum": {"value": 18.0},
        "count": {"value": 4},
        "distinct": {"value": 2},
        "stats": {"count": 3, "min": 3.0, "max": 10.0, "avg": 6.0, "sum": 18.0},
        "first": {"value": float(JAN_1 + 3_600_000), "value_as_string": "2024-01-01T01:00:00.000Z"},
        "missing": {"value": 4.75},
    }


def test_metrics_of_no_documents_are_null_as_in_opensearch() -> None:
    result = run(
        {
            "query": {"match_none": {}},
            "aggs": {
                "min": {"min": {"field": "score"}},
                "avg": {"avg": {"field": "created_time"}},
                "sum": {"sum": {"field": "score"}},
                "stats": {"stats": {"field": "score"}},
                "count": {"value_count": {"field": "score"}},
                "unmapped": {"max": {"field": "nowhere"}},
            },
        }
    )["aggregations"]
    assert result == {
        "min": {"value": None},
        "avg": {"value": None},
        "sum": {"value": 0.0},
        "stats": {"count": 0, "min": None, "max": None, "avg": None, "sum": 0.0},
        "count": {"value": 0},
        "unmapped": {"value": None},
    }


def test_top_hits_size_sort_source_and_never_a_credential() -> None:
    result = aggs(
        {
            "by_state": {
                "terms": {"field": "model_state", "size": 1},
                "aggs": {
                    "top": {
                        "top_hits": {
                            "size": 1,
                            "sort": [{"score": "desc"}],
                            "_source": {"includes": ["name", "connector*"]},
                            "version": True,
                            "seq_no_primary_term": True,
                        }
                    }
                },
            },
            "plain": {"top_hits": {"_source": ["connector"]}},
        }
    )
    top = result["by_state"]["buckets"][0]["top"]["hits"]
    assert top == {
        "total": {"value": 2, "relation": "eq"},
        "max_score": None,
        "hits": [
            {
                "_index": INDEX,
                "_id": "m3",
                "_version": 1,
                "_seq_no": 0,
                "_primary_term": 1,
                "_score": None,
                "_source": {"name": "gamma"},
                "sort": [10],
            }
        ],
    }
    plain = result["plain"]["hits"]
    assert [hit["_id"] for hit in plain["hits"]] == ["m1", "m2", "m3"]
    assert plain["max_score"] == 1.0 and plain["hits"][0]["_score"] == 1.0
    assert plain["hits"][0]["_source"] == {"connector": {"protocol": "http"}}
    assert "secret-1" not in str(result)


# --- the search around the aggregations ----------------------------------------------------------


def test_nested_sub_aggregations() -> None:
    result = aggs(
        {
            "groups": {
                "terms": {"field": "model_group_id"},
                "aggs": {
                    "states": {
                        "terms": {"field": "model_state"},
                        "aggs": {
                            "days": {"date_histogram": {"field": "created_time", "calendar_interval": "1y"}}
                        },
                    }
                },
            }
        }
    )
    g1 = result["groups"]["buckets"][0]
    assert g1["key"] == "g1" and g1["doc_count"] == 2
    assert [(b["key"], b["days"]["buckets"][0]["doc_count"]) for b in g1["states"]["buckets"]] == [
        ("DEPLOYED", 1),
        ("REGISTERED", 1),
    ]


def test_both_spellings_the_last_wins_and_empty_means_none() -> None:
    body = {"aggregations": {"a": {"max": {"field": "score"}}}, "aggs": {"b": {"min": {"field": "score"}}}}
    assert list(run(body)["aggregations"]) == ["b"]
    assert "aggregations" not in run({"aggs": {}})
    assert list(run({"aggregations": {"a": {"max": {"field": "score"}}}})["aggregations"]) == ["a"]


def test_meta_is_echoed_first() -> None:
    result = aggs({"a": {"meta": {"panel": 3}, "sum": {"field": "score"}}})
    assert list(result["a"].items()) == [("meta", {"panel": 3}), ("value", 18.0)]


def test_post_filter_narrows_hits_but_not_aggregations() -> None:
    response = run(
        {
            "post_filter": {"term": {"model_state": "UNDEPLOYED"}},
            "aggs": {"n": {"value_count": {"field": "model_state"}}},
        }
    )
    assert response["hits"]["total"]["value"] == 1
    assert response["aggregations"]["n"] == {"value": 4}


def test_access_filter_hides_documents_from_aggregations() -> None:
    only_g1 = {"term": {"model_group_id": "g1"}}
    found = run(
        {"size": 0, "aggs": {"a": {"terms": {"field": "model_state", "min_doc_count": 0}}}},
        extra_filter=only_g1,
    )["aggregations"]["a"]["buckets"]
    assert found == [{"key": "DEPLOYED", "doc_count": 1}, {"key": "REGISTERED", "doc_count": 1}]


def test_rest_total_hits_as_int_applies_to_top_hits() -> None:
    response = run(
        {"size": 0, "aggs": {"t": {"top_hits": {"size": 0}}}}, url_params={"rest_total_hits_as_int": "true"}
    )
    assert response["aggregations"]["t"]["hits"] == {"total": 4, "max_score": 1.0, "hits": []}


def test_typed_keys_name_each_result_by_its_type() -> None:
    spec = {
        "states": {"terms": {"field": "model_state"}, "aggs": {"top": {"max": {"field": "score"}}}},
        "scores": {"terms": {"field": "score"}},
        "days": {"date_histogram": {"field": "created_time", "calendar_interval": "year"}},
    }
    result = run({"size": 0, "aggs": spec}, url_params={"typed_keys": "true"})["aggregations"]
    assert list(result) == ["sterms#states", "lterms#scores", "date_histogram#days"]
    assert list(result["sterms#states"]["buckets"][0]) == ["key", "doc_count", "max#top"]
