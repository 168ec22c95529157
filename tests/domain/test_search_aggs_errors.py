"""Search aggregations: refusals with OpenSearch's wording, the bucket and work limits, and the printing
helpers (Java doubles, date formats, rounding, "did you mean")."""

from __future__ import annotations

from typing import Any

import pytest
from tests.domain.test_search_aggs import DAY, JAN_1, run

from mlgate.domain.aggregations.dates import Interval, calendar_interval, parse_time_zone
from mlgate.domain.aggregations.format import java_double, parse_date_format
from mlgate.domain.aggregations.options import levenshtein_similarity, suggest
from mlgate.domain.errors import InvalidRequestError, LimitExceededError
from mlgate.domain.search import StoredDoc
from mlgate.domain.search_budget import SearchBudget, SearchBudgetExceededError

TERMS_STATE = {"terms": {"field": "model_state"}}

REFUSALS: list[tuple[Any, str, str]] = [
    (
        {"x": {"terms": {"field": "model_state", "include": "["}}},
        "query_shard_exception",
        "failed to create query: unexpected end-of-string",
    ),
    (
        {"x": {"avg": {"field": "score", "format": "0.00"}}},
        "illegal_argument_exception",
        "[format] on the numeric field [score] of aggregation [avg] is not supported by mlgate",
    ),
    (
        {"x": {"terms": {"field": "model_state", "format": "yyyy"}}},
        "illegal_argument_exception",
        "Field [model_state] of type [keyword] does not support custom formats",
    ),
    (
        {"x": {"termz": {"field": "a"}}},
        "parsing_exception",
        "Unknown aggregation type [termz] did you mean [terms]?",
    ),
    (
        {"x": {"avgg": {"field": "a"}}},
        "parsing_exception",
        "Unknown aggregation type [avgg] did you mean [avg]?",
    ),
    (
        {"x": {"filte": {}}},
        "parsing_exception",
        "Unknown aggregation type [filte] did you mean any of [filter, filters]?",
    ),
    ({"x": {"zzzzzz": {}}}, "parsing_exception", "Unknown aggregation type [zzzzzz]"),
    (
        {"x": {"percentiles": {"field": "a"}}},
        "parsing_exception",
        "aggregation type [percentiles] is not supported by mlgate",
    ),
    (
        {"x": {"terms": {"field": "name"}}},
        "illegal_argument_exception",
        "Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [name] in order to load field data by uninverting the inverted index. Note that this can use significant memory.",
    ),
    (
        {"x": {"cardinality": {"field": "name"}}},
        "illegal_argument_exception",
        "Text fields are not optimised",
    ),
    (
        {"x": {"avg": {"field": "model_state"}}},
        "illegal_argument_exception",
        "Field [model_state] of type [keyword] is not supported for aggregation [avg]",
    ),
    (
        {"x": {"sum": {"field": "name"}}},
        "illegal_argument_exception",
        "Field [name] of type [text] is not supported for aggregation [sum]",
    ),
    (
        {"x": {"range": {"field": "model_state", "ranges": [{"to": 1}]}}},
        "illegal_argument_exception",
        "Field [model_state] of type [keyword] is not supported for aggregation [range]",
    ),
    (
        {"x": {"date_histogram": {"field": "model_state", "calendar_interval": "day"}}},
        "illegal_argument_exception",
        "Field [model_state] of type [keyword] is not supported for aggregation [date_histogram]",
    ),
    (
        {"x": {"terms": {}}},
        "illegal_argument_exception",
        "Required one of fields [field, script], but none were specified. ",
    ),
    ({"x": {"max": {"missing": 1}}}, "illegal_argument_exception", "Required one of fields [field, script]"),
    (
        {"x": {"terms": {"field": "a", "sise": 3}}},
        "x_content_parse_exception",
        "[terms] unknown field [sise] did you mean [size]?",
    ),
    (
        {"x": {"terms": {"field": 3}}},
        "x_content_parse_exception",
        "[terms] field doesn't support values of type: VALUE_NUMBER",
    ),
    (
        {"x": {"terms": {"field": "a", "size": 0}}},
        "x_content_parse_exception",
        "[terms] failed to parse field [size]",
    ),
    (
        {"x": {"terms": {"field": "a", "order": {"_count": "up"}}}},
        "x_content_parse_exception",
        "[terms] failed to parse field [order]",
    ),
    (
        {"x": {"terms": {"field": "a", "script": "doc.a"}}},
        "parsing_exception",
        "[terms] option [script] is not supported by mlgate",
    ),
    (
        {"x": {"terms": {"field": "model_state", "order": {"nope": "desc"}}}},
        "illegal_argument_exception",
        "Invalid aggregation order path [nope]. The provided aggregation [nope] either does not exist, or is a pipeline aggregation and cannot be used to sort the buckets.",
    ),
    (
        {
            "x": {"terms": {"field": "model_state", "order": {"s": "desc"}}},
            "s": {"stats": {"field": "score"}},
        },
        "illegal_argument_exception",
        "Invalid aggregation order path [s]. The provided aggregation [s] either does not exist",
    ),
    (
        {
            "x": {
                "terms": {"field": "model_state", "order": {"s": "desc"}},
                "aggs": {"s": {"stats": {"field": "score"}}},
            }
        },
        "illegal_argument_exception",
        "Invalid aggregation order path [s]. When ordering on a multi-value metrics aggregation a metric name must be specified.",
    ),
    (
        {"x": {"terms": {"field": "model_state", "order": {"t": "desc"}}, "aggs": {"t": TERMS_STATE}}},
        "illegal_argument_exception",
        "Invalid aggregation order path [t]. Buckets can only be sorted on a sub-aggregator path",
    ),
    (
        {"x>y": {"max": {"field": "score"}}},
        "parsing_exception",
        "Invalid aggregation name [x>y]. Aggregation names can contain any character except '[', ']', and '>'",
    ),
    (
        {"x": 3},
        "parsing_exception",
        "Aggregation definition for [x starts with a [VALUE_NUMBER], expected a [START_OBJECT].",
    ),
    (
        {"x": {"terms": "model_state"}},
        "parsing_exception",
        "Expected [START_OBJECT] under [terms], but got a [VALUE_STRING] in [x]",
    ),
    (
        {"x": {"max": {"field": "score"}, "min": {"field": "score"}}},
        "parsing_exception",
        "Found two aggregation type definitions in [x]: [max] and [min]",
    ),
    ({"x": {"aggs": {}}}, "parsing_exception", "Missing definition for aggregation [x]"),
    (
        {"x": {**TERMS_STATE, "aggs": {}, "aggregations": {}}},
        "parsing_exception",
        "Found two sub aggregation definitions under [x]",
    ),
    (
        {"x": {"max": {"field": "score"}, "aggs": {"y": TERMS_STATE}}},
        "aggregation_initialization_exception",
        "Aggregator [x] of type [max] cannot accept sub-aggregations",
    ),
    (
        {"x": {"date_histogram": {"field": "created_time"}}},
        "illegal_argument_exception",
        "Invalid interval specified, must be non-null and non-empty",
    ),
    (
        {"x": {"date_histogram": {"field": "created_time", "calendar_interval": "2d"}}},
        "x_content_parse_exception",
        "[date_histogram] failed to parse field [calendar_interval]",
    ),
    (
        {"x": {"date_histogram": {"field": "created_time", "fixed_interval": "1w"}}},
        "x_content_parse_exception",
        "[date_histogram] failed to parse field [fixed_interval]",
    ),
    (
        {
            "x": {
                "date_histogram": {"field": "created_time", "fixed_interval": "1d", "calendar_interval": "1d"}
            }
        },
        "x_content_parse_exception",
        "[date_histogram] failed to parse field [calendar_interval]",
    ),
    (
        {
            "x": {
                "date_histogram": {
                    "field": "created_time",
                    "calendar_interval": "1d",
                    "time_zone": "Europe/Paris",
                }
            }
        },
        "x_content_parse_exception",
        "[date_histogram] failed to parse field [time_zone]",
    ),
    (
        {
            "x": {
                "date_histogram": {
                    "field": "created_time",
                    "calendar_interval": "1d",
                    "extended_bounds": {"min": 5, "max": 1},
                }
            }
        },
        "illegal_argument_exception",
        "[extended_bounds.min][5] cannot be greater than [extended_bounds.max][1] for histogram aggregation [x]",
    ),
    (
        {"x": {"date_histogram": {"field": "created_time", "calendar_interval": "1d", "format": "yyyy-qq"}}},
        "x_content_parse_exception",
        "[date_histogram] failed to parse field [format]",
    ),
    (
        {"x": {"range": {"field": "score"}}},
        "illegal_argument_exception",
        "No [ranges] specified for the [x] aggregation",
    ),
    (
        {"x": {"range": {"field": "score", "ranges": [{"from": 1, "upto": 2}]}}},
        "x_content_parse_exception",
        "[range] failed to parse field [ranges]",
    ),
    ({"x": {"filters": {"filters": []}}}, "illegal_argument_exception", "[filters] cannot be empty."),
    (
        {"x": {"filters": {"filters": {"a": {"match_all": {}}}, "other": True}}},
        "parsing_exception",
        "Unknown key for a VALUE_BOOLEAN in [x]: [other].",
    ),
    ({"x": {"filter": {"nope": {}}}}, "parsing_exception", "unknown query [nope]"),
    (
        {"x": {"top_hits": {"size": 101}}},
        "illegal_argument_exception",
        "Top hits result window is too large, the top hits aggregator [x]'s from + size must be less than or equal to: [100] but was [101]. This limit can be set by changing the [index.max_inner_result_window] index level setting.",
    ),
    (
        {"x": {"top_hits": {"highlight": {}}}},
        "parsing_exception",
        "Unknown key for a START_OBJECT in [highlight].",
    ),
    (
        {"x": {"top_hits": {"sort": [{"name": "asc"}]}}},
        "illegal_argument_exception",
        "Text fields are not optimised",
    ),
    (
        {
            "x": {
                "terms": {"field": "model_state", "include": ["DEPLOYED"]},
                "aggs": {"y": {"terms": {"field": "score", "include": "1.*"}}},
            }
        },
        "illegal_argument_exception",
        "Aggregation [y] cannot support regular expression style include/exclude settings",
    ),
]


@pytest.mark.parametrize(
    ("spec", "error_type", "reason"), REFUSALS, ids=[str(s)[:60] for s, _, _ in REFUSALS]
)
def test_refusals(spec: dict[str, Any], error_type: str, reason: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        run({"aggs": spec})
    assert caught.value.error_type == error_type
    assert caught.value.message.startswith(reason), caught.value.message


def test_unknown_type_carries_the_named_object_cause_and_setter_errors_their_own() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        run({"aggs": {"x": {"termz": {}}}})
    assert caught.value.caused_by == ("named_object_not_found_exception", "unknown field [termz]")
    with pytest.raises(InvalidRequestError) as caught:
        run({"aggs": {"x": {"terms": {"field": "a", "size": -1}}}})
    assert caught.value.caused_by == (
        "illegal_argument_exception",
        "[size] must be greater than 0. Found [-1] in [x]",
    )


def test_nesting_is_bounded() -> None:
    spec: dict[str, Any] = {"leaf": {"max": {"field": "score"}}}
    for level in range(40):
        spec = {f"l{level}": {"filter": {"match_all": {}}, "aggs": spec}}
    with pytest.raises(InvalidRequestError, match=r"nested more than \[32\] levels"):
        run({"aggs": spec})


def test_too_many_buckets_is_opensearch_s_503_error() -> None:
    spec = {"date_histogram": {"field": "created_time", "fixed_interval": "1s"}}
    with pytest.raises(LimitExceededError) as caught:
        run({"aggs": {"x": spec}})
    assert caught.value.error_type == "too_many_buckets_exception"
    assert caught.value.message == (
        "Trying to create too many buckets. Must be less than or equal to: [65535] but was [65536]. This limit "
        "can be set by changing the [search.max_buckets] cluster level setting."
    )
    # Every bucket of every level counts: 4 x 3 x ... grows past the limit through nesting too.
    nested: dict[str, Any] = {"t": {"terms": {"field": "score", "size": 3}}}
    for level in range(12):
        nested = {f"f{level}": {"filters": {"filters": [{"match_all": {}}] * 4}, "aggs": nested}}
    with pytest.raises(LimitExceededError, match="too many buckets"):
        run({"aggs": nested})


def test_aggregation_work_is_charged_to_the_search_budget() -> None:
    docs = [StoredDoc(f"d{i}", {"model_state": "DEPLOYED"}) for i in range(100)]
    many = {"x": {"filters": {"filters": [{"term": {"model_state": "DEPLOYED"}}] * 1000}}}
    with pytest.raises(SearchBudgetExceededError, match=r"more than \[50000\] matching steps"):
        run({"size": 0, "aggs": many}, docs=docs, budget=SearchBudget(limit=50_000))
    one = {"x": {"filters": {"filters": [{"term": {"model_state": "DEPLOYED"}}]}}}
    found = run({"size": 0, "aggs": one}, docs=docs, budget=SearchBudget(limit=50_000))["aggregations"]
    assert found["x"]["buckets"] == [{"doc_count": 100}]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (100.0, "100.0"),
        (0.001, "0.001"),
        (1234567.5, "1234567.5"),
        (1e7, "1.0E7"),
        (1.5e-5, "1.5E-5"),
        (-2e21, "-2.0E21"),
        (0.0, "0.0"),
    ],
)
def test_java_double(value: float, text: str) -> None:
    assert java_double(value) == text


@pytest.mark.parametrize(
    ("spec", "offset", "text"),
    [
        ("strict_date_time", 0, "2024-01-01T13:05:09.042Z"),
        ("date_optional_time||epoch_millis", 3_600_000, "2024-01-01T14:05:09.042+01:00"),
        ("epoch_millis", 0, str(JAN_1 + 47_109_042)),
        ("epoch_second", 0, "1704114309.042"),
        ("yyyy/MM/dd HH:mm", 0, "2024/01/01 13:05"),
        ("EEE, d MMM yy h:mm a 'at' Z", -19_800_000, "Mon, 1 Jan 24 7:35 AM at -0530"),
        ("basic_date_time_no_millis", 0, "20240101T130509Z"),
    ],
)
def test_date_formats(spec: str, offset: int, text: str) -> None:
    assert parse_date_format(spec).format(JAN_1 + 47_109_042, offset) == text


@pytest.mark.parametrize(
    ("unit", "millis", "key"),
    [
        ("week", JAN_1 + 6 * DAY + 1, JAN_1),  # Sunday belongs to the week started on Monday
        ("month", JAN_1 + 45 * DAY, JAN_1 + 31 * DAY),
        ("quarter", JAN_1 + 100 * DAY, JAN_1 + 91 * DAY),  # 2024 is a leap year: April 1st is day 91
        ("year", JAN_1 + 300 * DAY, JAN_1),
        ("hour", JAN_1 + 5_400_000, JAN_1 + 3_600_000),
    ],
)
def test_calendar_rounding(unit: str, millis: int, key: int) -> None:
    interval = calendar_interval(unit)
    assert interval.round_down(millis, 0) == key
    assert interval.round_down(interval.next_key(key, 0) - 1, 0) == key


def test_rounding_in_a_fixed_offset_zone() -> None:
    assert (
        parse_time_zone("+02:00") == 7_200_000
        and parse_time_zone("UTC") == 0
        and parse_time_zone(-3) == -10_800_000
    )
    day = calendar_interval("1d")
    # 23:00 UTC on Dec 31st is already Jan 1st in UTC+2; the bucket starts at 22:00 UTC.
    assert day.round_down(JAN_1 - 3_600_000, 7_200_000) == JAN_1 - 7_200_000
    assert Interval(fixed_ms=3 * 3_600_000).round_down(JAN_1 + 4 * 3_600_000, 0) == JAN_1 + 3 * 3_600_000


def test_suggestions_follow_lucene_levenshtein() -> None:
    assert levenshtein_similarity("termz", "terms") == pytest.approx(0.8)
    assert suggest("rnage", ["range", "rare_terms"]) == " did you mean [range]?"
    assert suggest("xyz", ["terms"]) == ""
