"""The search envelope: response shape, paging, sort, _source filtering, options and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.search import StoredDoc, search

INDEX = ".plugins-ml-connector"
KEYWORD_FIELDS = frozenset({"access", "protocol"})
EXCLUDES = ("credential", "connector.credential")

DOCS = [
    StoredDoc(
        "c1",
        {
            "name": "Beta",
            "created_time": 30,
            "access": "public",
            "tags": ["x", "m"],
            "owner": {"name": "alice", "backend_roles": ["r1"]},
            "credential": {"key": "secret-1"},
        },
        version=3,
        seq_no=7,
        primary_term=2,
    ),
    StoredDoc("c2", {"name": "alpha", "created_time": 10, "access": "private", "tags": ["b"]}),
    StoredDoc(
        "c3", {"name": "Gamma", "access": "public", "connector": {"credential": {"k": "s"}, "url": "u"}}
    ),
    StoredDoc("c4", {"name": "delta", "created_time": 20, "access": "restricted", "tags": "c"}),
    StoredDoc("c5", {"name": "Beta", "created_time": 25.5, "access": "public"}),
]


def run(body: dict[str, Any] | None, **kwargs: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"index": INDEX, "keyword_fields": KEYWORD_FIELDS, "source_excludes": EXCLUDES}
    options.update(kwargs)
    return search(DOCS, body, **options)


def ids(response: dict[str, Any]) -> list[str]:
    return [hit["_id"] for hit in response["hits"]["hits"]]


def test_response_envelope_is_opensearch_shaped() -> None:
    response = run({"query": {"term": {"_id": "c1"}}}, took_ms=4)
    assert response == {
        "took": 4,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {
            "total": {"value": 1, "relation": "eq"},
            "max_score": 1.0,
            "hits": [
                {
                    "_index": INDEX,
                    "_id": "c1",
                    "_version": 3,
                    "_seq_no": 7,
                    "_primary_term": 2,
                    "_score": 1.0,
                    "_source": {
                        "name": "Beta",
                        "created_time": 30,
                        "access": "public",
                        "tags": ["x", "m"],
                        "owner": {"name": "alice", "backend_roles": ["r1"]},
                    },
                }
            ],
        },
    }


def test_no_body_returns_everything_in_input_order() -> None:
    response = run(None)
    assert ids(response) == ["c1", "c2", "c3", "c4", "c5"]
    assert response["hits"]["total"] == {"value": 5, "relation": "eq"}


def test_no_match_has_null_max_score() -> None:
    response = run({"query": {"term": {"name": "nothing"}}})
    assert response["hits"] == {"total": {"value": 0, "relation": "eq"}, "max_score": None, "hits": []}


def test_stored_documents_are_not_modified() -> None:
    run({"_source": {"excludes": ["owner.name"]}})
    assert DOCS[0].source["owner"] == {"name": "alice", "backend_roles": ["r1"]}
    assert "credential" in DOCS[0].source


# --- paging --------------------------------------------------------------------------------------


def test_default_size_is_ten() -> None:
    docs = [StoredDoc(f"d{i}", {"n": i}) for i in range(15)]
    response = search(docs, {}, index=INDEX)
    assert [hit["_id"] for hit in response["hits"]["hits"]] == [f"d{i}" for i in range(10)]
    assert response["hits"]["total"]["value"] == 15


@pytest.mark.parametrize(
    ("body", "params", "expected"),
    [
        ({"from": 1, "size": 2}, None, ["c2", "c3"]),
        ({"from": 4, "size": 5}, None, ["c5"]),
        ({"from": 9}, None, []),
        ({"size": 0}, None, []),
        ({"from": "1", "size": "1"}, None, ["c2"]),
        ({"from": 0, "size": 1}, {"from": "2", "size": "2"}, ["c3", "c4"]),
    ],
)
def test_from_and_size(body: dict[str, Any], params: dict[str, str] | None, expected: list[str]) -> None:
    response = run(body, url_params=params)
    assert ids(response) == expected
    assert response["hits"]["total"]["value"] == 5


def test_size_zero_counts_but_has_no_max_score() -> None:
    response = run({"size": 0})
    assert response["hits"]["max_score"] is None
    assert response["hits"]["total"] == {"value": 5, "relation": "eq"}


def test_page_beyond_results_keeps_max_score() -> None:
    assert run({"from": 7})["hits"]["max_score"] == 1.0


# --- sort ----------------------------------------------------------------------------------------


SORTS: list[tuple[Any, list[str], list[list[Any]]]] = [
    ({"created_time": {"order": "desc"}}, ["c1", "c5", "c4", "c2", "c3"], [[30], [25.5], [20], [10], [None]]),
    ("created_time", ["c2", "c4", "c5", "c1", "c3"], [[10], [20], [25.5], [30], [None]]),
    ([{"created_time": "asc"}], ["c2", "c4", "c5", "c1", "c3"], [[10], [20], [25.5], [30], [None]]),
    (
        [{"created_time": {"order": "asc", "missing": "_first"}}],
        ["c3", "c2", "c4", "c5", "c1"],
        [[None], [10], [20], [25.5], [30]],
    ),
    (
        [{"created_time": {"order": "desc", "missing": "_first"}}],
        ["c3", "c1", "c5", "c4", "c2"],
        [[None], [30], [25.5], [20], [10]],
    ),
    ([{"created_time": {"missing": 15}}], ["c2", "c3", "c4", "c5", "c1"], [[10], [15], [20], [25.5], [30]]),
    # Upper case sorts before lower case: keyword order is code-point order.
    ("name.keyword", ["c1", "c5", "c3", "c2", "c4"], [["Beta"], ["Beta"], ["Gamma"], ["alpha"], ["delta"]]),
    (
        [{"name.keyword": "desc"}, {"created_time": "desc"}],
        ["c4", "c2", "c3", "c1", "c5"],
        [["delta", 20], ["alpha", 10], ["Gamma", None], ["Beta", 30], ["Beta", 25.5]],
    ),
    # A multi-valued field sorts by its minimum ascending and its maximum descending.
    ("tags.keyword", ["c2", "c4", "c1", "c3", "c5"], [["b"], ["c"], ["m"], [None], [None]]),
    ({"tags.keyword": "desc"}, ["c1", "c4", "c2", "c3", "c5"], [["x"], ["c"], ["b"], [None], [None]]),
    (
        {"tags.keyword": {"order": "asc", "mode": "max"}},
        ["c2", "c4", "c1", "c3", "c5"],
        [["b"], ["c"], ["x"], [None], [None]],
    ),
    # Ties keep input order.
    (
        "access",
        ["c2", "c1", "c3", "c5", "c4"],
        [["private"], ["public"], ["public"], ["public"], ["restricted"]],
    ),
    ({"_id": "desc"}, ["c5", "c4", "c3", "c2", "c1"], [["c5"], ["c4"], ["c3"], ["c2"], ["c1"]]),
    ("_score", ["c1", "c2", "c3", "c4", "c5"], [[1.0], [1.0], [1.0], [1.0], [1.0]]),
    ("_doc", ["c1", "c2", "c3", "c4", "c5"], [[0], [1], [2], [3], [4]]),
]


@pytest.mark.parametrize(("sort", "expected_ids", "sort_values"), SORTS, ids=[str(s) for s, _, _ in SORTS])
def test_sort(sort: Any, expected_ids: list[str], sort_values: list[list[Any]]) -> None:
    response = run({"sort": sort})
    assert ids(response) == expected_ids
    assert [hit["sort"] for hit in response["hits"]["hits"]] == sort_values


def test_field_sort_nulls_scores_unless_tracked() -> None:
    plain = run({"sort": ["created_time"]})
    assert {hit["_score"] for hit in plain["hits"]["hits"]} == {None}
    assert plain["hits"]["max_score"] is None
    tracked = run({"sort": ["created_time"], "track_scores": True})
    assert {hit["_score"] for hit in tracked["hits"]["hits"]} == {1.0}
    assert tracked["hits"]["max_score"] == 1.0


def test_sort_by_score_keeps_scores() -> None:
    response = run({"sort": [{"_score": {"order": "desc"}}]})
    assert {hit["_score"] for hit in response["hits"]["hits"]} == {1.0}


def test_unsorted_hits_have_no_sort_values() -> None:
    assert all("sort" not in hit for hit in run({})["hits"]["hits"])


def test_url_sort_overrides_body() -> None:
    response = run({"sort": "created_time"}, url_params={"sort": "created_time:desc,_id"})
    assert ids(response) == ["c1", "c5", "c4", "c2", "c3"]
    assert response["hits"]["hits"][0]["sort"] == [30, "c1"]


def test_sort_then_page() -> None:
    response = run({"sort": [{"created_time": "desc"}], "from": 1, "size": 2})
    assert ids(response) == ["c5", "c4"]


def test_sort_mixed_value_types_on_a_keyword_field() -> None:
    docs = [
        StoredDoc("a", {"v": "x"}),
        StoredDoc("b", {"v": 3}),
        StoredDoc("c", {}),
        StoredDoc("d", {"v": True}),
    ]
    response = search(docs, {"sort": "v"}, index=INDEX, keyword_fields=frozenset({"v"}))
    # Numbers (booleans as 0/1) before strings, missing last.
    assert [hit["_id"] for hit in response["hits"]["hits"]] == ["d", "b", "a", "c"]
    assert [hit["sort"] for hit in response["hits"]["hits"]] == [[1], [3], ["x"], [None]]


def test_sort_on_text_field_is_refused_like_opensearch() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        run({"sort": ["name"]})
    assert caught.value.error_type == "illegal_argument_exception"
    assert "Text fields are not optimised" in caught.value.message
    assert "[name]" in caught.value.message


def test_sort_on_unsearchable_field_sees_no_values() -> None:
    response = run({"sort": [{"credential.key.keyword": "asc"}], "size": 1})
    assert response["hits"]["hits"][0]["sort"] == [None]


# --- _source -------------------------------------------------------------------------------------


SOURCES: list[tuple[Any, dict[str, str] | None, dict[str, Any] | None]] = [
    (False, None, None),
    (
        True,
        None,
        {
            "name": "Beta",
            "created_time": 30,
            "access": "public",
            "tags": ["x", "m"],
            "owner": {"name": "alice", "backend_roles": ["r1"]},
        },
    ),
    ("name", None, {"name": "Beta"}),
    (["name", "owner.name"], None, {"name": "Beta", "owner": {"name": "alice"}}),
    (["owner"], None, {"owner": {"name": "alice", "backend_roles": ["r1"]}}),
    (["owner.*"], None, {"owner": {"name": "alice", "backend_roles": ["r1"]}}),
    (["*name"], None, {"name": "Beta", "owner": {"name": "alice"}}),
    (["o*"], None, {"owner": {"name": "alice", "backend_roles": ["r1"]}}),
    ({"includes": ["o*"], "excludes": ["owner.backend_roles"]}, None, {"owner": {"name": "alice"}}),
    (
        {"excludes": ["*e"]},
        None,
        {"access": "public", "tags": ["x", "m"], "owner": {"backend_roles": ["r1"]}},
    ),
    ({"include": "name", "exclude": []}, None, {"name": "Beta"}),
    # The always-excluded credential wins over an explicit include.
    (["credential", "name"], None, {"name": "Beta"}),
    ({"includes": ["credential.*"]}, None, {}),
    (None, {"_source": "false"}, None),
    (None, {"_source": "name,access"}, {"name": "Beta", "access": "public"}),
    (True, {"_source_includes": "owner.name"}, {"owner": {"name": "alice"}}),
    (None, {"_source_excludes": "owner,tags,created_time"}, {"name": "Beta", "access": "public"}),
    ("missing", None, {}),
]


@pytest.mark.parametrize(("spec", "params", "expected"), SOURCES, ids=[f"{s}-{p}" for s, p, _ in SOURCES])
def test_source_filtering(spec: Any, params: dict[str, str] | None, expected: dict[str, Any] | None) -> None:
    body = {"query": {"ids": {"values": ["c1"]}}}
    if spec is not None:
        body["_source"] = spec
    hit = run(body, url_params=params)["hits"]["hits"][0]
    if expected is None:
        assert "_source" not in hit
    else:
        assert hit["_source"] == expected


def test_nested_source_exclude_keeps_siblings() -> None:
    hit = run({"query": {"ids": {"values": ["c3"]}}})["hits"]["hits"][0]
    assert hit["_source"] == {"name": "Gamma", "access": "public", "connector": {"url": "u"}}


def test_source_filter_applies_inside_arrays_of_objects() -> None:
    docs = [StoredDoc("m", {"actions": [{"url": "a", "headers": {"h": 1}}, {"url": "b"}], "other": 1})]
    response = search(docs, {"_source": ["actions.url"]}, index=INDEX)
    assert response["hits"]["hits"][0]["_source"] == {"actions": [{"url": "a"}, {"url": "b"}]}
    excluded = search(docs, {"_source": {"excludes": ["actions.headers"]}}, index=INDEX)
    assert excluded["hits"]["hits"][0]["_source"] == {"actions": [{"url": "a"}, {"url": "b"}], "other": 1}


# --- filters and counters ------------------------------------------------------------------------


def test_extra_filter_is_anded_with_the_query() -> None:
    access = {"term": {"access": "public"}}
    response = run({"query": {"match": {"name": "beta gamma"}}}, extra_filter=access)
    assert ids(response) == ["c1", "c3", "c5"]
    response = run({"query": {"match": {"name": "alpha"}}}, extra_filter=access)
    assert ids(response) == []


def test_post_filter_narrows_hits() -> None:
    response = run({"query": {"term": {"access": "public"}}, "post_filter": {"exists": {"field": "tags"}}})
    assert ids(response) == ["c1"]


def test_query_cannot_see_excluded_fields() -> None:
    for query in (
        {"exists": {"field": "credential"}},
        {"term": {"credential.key": "secret"}},
        {"exists": {"field": "connector.credential.k"}},
        {"match": {"connector.credential.k": "s"}},
    ):
        assert run({"query": query})["hits"]["total"]["value"] == 0
    assert ids(run({"query": {"exists": {"field": "connector"}}})) == ["c3"]


@pytest.mark.parametrize(
    ("track", "params", "expected"),
    [
        (None, None, {"value": 5, "relation": "eq"}),
        (True, None, {"value": 5, "relation": "eq"}),
        (3, None, {"value": 3, "relation": "gte"}),
        (5, None, {"value": 5, "relation": "eq"}),
        (-1, None, {"value": 5, "relation": "eq"}),
        (None, {"track_total_hits": "2"}, {"value": 2, "relation": "gte"}),
        (None, {"rest_total_hits_as_int": "true"}, 5),
    ],
)
def test_track_total_hits(track: Any, params: dict[str, str] | None, expected: Any) -> None:
    body = {} if track is None else {"track_total_hits": track}
    assert run(body, url_params=params)["hits"]["total"] == expected


def test_track_total_hits_false_omits_total() -> None:
    for response in (run({"track_total_hits": False}), run({}, url_params={"track_total_hits": "false"})):
        assert "total" not in response["hits"]
        assert len(response["hits"]["hits"]) == 5


def test_total_is_capped_at_ten_thousand_by_default() -> None:
    docs = [StoredDoc(str(i), {}) for i in range(10_001)]
    response = search(docs, {"size": 1}, index=INDEX)
    assert response["hits"]["total"] == {"value": 10_000, "relation": "gte"}
    exact = search(docs, {"size": 1, "track_total_hits": True}, index=INDEX)
    assert exact["hits"]["total"] == {"value": 10_001, "relation": "eq"}


def test_version_and_seq_no_are_forced_on() -> None:
    response = run({"version": False, "seq_no_primary_term": False, "query": {"ids": {"values": ["c1"]}}})
    hit = response["hits"]["hits"][0]
    assert (hit["_version"], hit["_seq_no"], hit["_primary_term"]) == (3, 7, 2)


def test_generic_rest_params_are_left_to_the_edge() -> None:
    assert ids(run({"size": 1}, url_params={"pretty": "true", "filter_path": "hits"})) == ["c1"]


def test_timeout_is_accepted() -> None:
    assert len(ids(run({"timeout": "1s"}))) == 5


# --- refusals ------------------------------------------------------------------------------------


REFUSALS: list[tuple[Any, dict[str, str] | None, str, str]] = [
    ({"aggs": {"x": {}}}, None, "parsing_exception", "Missing definition for aggregation [x]"),
    ({"aggs": []}, None, "parsing_exception", "Unknown key for a START_ARRAY in [aggs]."),
    ({"search_after": [1]}, None, "parsing_exception", "Unknown key for a START_ARRAY in [search_after]."),
    ({"explain": True}, None, "parsing_exception", "Unknown key for a VALUE_BOOLEAN in [explain]."),
    ({"min_score": 1}, None, "parsing_exception", "Unknown key for a VALUE_NUMBER in [min_score]."),
    ({"q": "x"}, None, "parsing_exception", "Unknown key for a VALUE_STRING in [q]."),
    ({"query": {"foo": {}}}, None, "parsing_exception", "unknown query [foo]"),
    ({"query": "x"}, None, "parsing_exception", "[query] query malformed, must start with start_object"),
    ({"post_filter": {"bar": {}}}, None, "parsing_exception", "unknown query [bar]"),
    ({"size": -1}, None, "illegal_argument_exception", "[size] parameter cannot be negative, found [-1]"),
    ({"from": -2}, None, "illegal_argument_exception", "[from] parameter cannot be negative but was [-2]"),
    ({"size": "ten"}, None, "parsing_exception", "[size] failed to parse field [size]"),
    ({"size": True}, None, "parsing_exception", "[size] failed to parse field [size]"),
    ({"from": 9_999, "size": 2}, None, "illegal_argument_exception", "Result window is too large"),
    ({}, {"size": "x"}, "illegal_argument_exception", "Failed to parse int parameter [size] with value [x]"),
    ({}, {"q": "name:x"}, "illegal_argument_exception", "query string parameter [q] is not supported"),
    ({}, {"scroll": "1m"}, "illegal_argument_exception", "request contains unrecognized parameter: [scroll]"),
    ({"sort": {"created_time": "up"}}, None, "illegal_argument_exception", "Unknown SortOrder [up]"),
    ({"sort": {"created_time": {"order": 1}}}, None, "illegal_argument_exception", "Unknown SortOrder [1]"),
    (
        {"sort": {"created_time": {"mode": "avg"}}},
        None,
        "parsing_exception",
        "sort mode [avg] is not supported",
    ),
    (
        {"sort": {"created_time": {"nested": {}}}},
        None,
        "parsing_exception",
        "[field_sort] unknown field [nested]",
    ),
    ({"sort": {"created_time": 1}}, None, "parsing_exception", "malformed sort"),
    ({"sort": [{"_script": {}}]}, None, "parsing_exception", "sort [_script] is not supported"),
    ({"sort": [1]}, None, "parsing_exception", "malformed sort format"),
    ({"sort": [{}]}, None, "parsing_exception", "malformed sort format"),
    ({}, {"sort": "created_time:sideways"}, "illegal_argument_exception", "Unknown SortOrder [sideways]"),
    ({"_source": {"fields": ["a"]}}, None, "parsing_exception", "Unknown key for a START_ARRAY in [fields]."),
    ({"_source": 1}, None, "parsing_exception", "Unknown key for a VALUE_NUMBER in [_source]."),
    ({"_source": ["a", 1]}, None, "parsing_exception", "[_source] must be a string or an array of strings"),
    (
        {"_source": {"includes": {"a": 1}}},
        None,
        "parsing_exception",
        "[includes] must be a string or an array",
    ),
    ({"track_total_hits": "maybe"}, None, "parsing_exception", "[track_total_hits] failed to parse field"),
    ({"track_total_hits": -5}, None, "illegal_argument_exception", "must be positive or equals to -1"),
    ({"version": "yes"}, None, "parsing_exception", "Failed to parse value [yes] as only [true] or [false]"),
    ({"track_scores": 1}, None, "parsing_exception", "Failed to parse value [1] as only [true] or [false]"),
    ({}, {"rest_total_hits_as_int": "si"}, "parsing_exception", "Failed to parse value [si]"),
]


@pytest.mark.parametrize(
    ("body", "params", "error_type", "reason"), REFUSALS, ids=[f"{b}-{p}"[:70] for b, p, _, _ in REFUSALS]
)
def test_refusals(body: dict[str, Any], params: dict[str, str] | None, error_type: str, reason: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        run(body, url_params=params)
    assert caught.value.error_type == error_type
    assert reason in caught.value.message


def test_extra_filter_errors_are_reported_too() -> None:
    with pytest.raises(InvalidRequestError, match=r"unknown query \[nope\]"):
        run({}, extra_filter={"nope": {}})
