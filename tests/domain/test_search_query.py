"""Query DSL compilation: each query type, field typing (keyword / text / .keyword), arrays, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.search_field import analyze, index_document
from mlgate.domain.search_query import compile_query

KEYWORD_FIELDS = frozenset({"access", "protocol", "model_state"})
UNSEARCHABLE = ("credential", "connector.credential")

DOCS: dict[str, dict[str, Any]] = {
    "c1": {
        "name": "OpenAI Chat Connector",
        "description": "Connector for GPT-4o",
        "protocol": "http",
        "version": 1,
        "created_time": 1700000000000,
        "access": "public",
        "backend_roles": ["ml-team", "ops"],
        "owner": {"name": "alice", "backend_roles": ["ml-team"]},
        "credential": {"openAI_key": "sk-secret"},
        "is_hidden": False,
    },
    "c2": {
        "name": "Amazon Bedrock Titan",
        "description": "amazon.titan-embed-text-v1 embeddings",
        "protocol": "aws_sigv4",
        "version": "2",
        "created_time": 1700000005000,
        "access": "private",
        "backend_roles": [],
        "owner": {"name": "bob"},
        "connector": {"credential": {"access_key": "AKIA"}, "protocol": "aws_sigv4"},
        "is_hidden": True,
    },
    "c3": {
        "name": "Cohere embed",
        "protocol": "http",
        "created_time": 1699999999000,
        "access": "restricted",
        "backend_roles": ["ops"],
        "tags": [{"k": "a", "v": 1}, {"k": "b", "v": 2}],
        "description": None,
    },
    "c4": {
        "name": "openai embeddings",
        "model_state": "DEPLOYED",
        "owner": {"name": "Alice Smith"},
        "score": 2.5,
        "long": "x" * 300,
    },
}


def matching(query: dict[str, Any] | None) -> list[str]:
    compiled = compile_query(query, keyword_fields=KEYWORD_FIELDS, unsearchable_prefixes=UNSEARCHABLE)
    return [doc_id for doc_id, source in DOCS.items() if compiled.matches(source, doc_id)]


ALL = ["c1", "c2", "c3", "c4"]

CASES: list[tuple[str, dict[str, Any] | None, list[str]]] = [
    # match_all / match_none / ids
    ("none is match_all", None, ALL),
    ("match_all", {"match_all": {}}, ALL),
    ("match_all with boost", {"match_all": {"boost": 2}}, ALL),
    ("match_none", {"match_none": {}}, []),
    ("ids", {"ids": {"values": ["c1", "c3", "zz"]}}, ["c1", "c3"]),
    ("ids empty", {"ids": {"values": []}}, []),
    # term on text fields matches one token, not analysed
    ("term text token", {"term": {"name": "openai"}}, ["c1", "c4"]),
    ("term text not analysed", {"term": {"name": "OpenAI"}}, []),
    (
        "term text case_insensitive",
        {"term": {"name": {"value": "OpenAI", "case_insensitive": True}}},
        ["c1", "c4"],
    ),
    ("term whole text is not a token", {"term": {"name": "cohere embed"}}, []),
    ("term .keyword exact", {"term": {"name.keyword": "OpenAI Chat Connector"}}, ["c1"]),
    ("term .keyword case matters", {"term": {"name.keyword": "openai chat connector"}}, []),
    ("term .keyword ignore_above", {"term": {"long.keyword": "x" * 300}}, []),
    ("term long text token", {"term": {"long": "x" * 300}}, ["c4"]),
    ("term keyword field", {"term": {"access": "public"}}, ["c1"]),
    ("term keyword field case", {"term": {"access": "Public"}}, []),
    (
        "term keyword case_insensitive",
        {"term": {"access": {"value": "PUBLIC", "case_insensitive": True}}},
        ["c1"],
    ),
    ("term keyword .keyword alias", {"term": {"access.keyword": "public"}}, ["c1"]),
    ("term keyword field value key", {"term": {"protocol": {"value": "http", "boost": 1.5}}}, ["c1", "c3"]),
    ("term legacy term key", {"term": {"protocol": {"term": "http"}}}, ["c1", "c3"]),
    ("term array of text", {"term": {"backend_roles": "ops"}}, ["c1", "c3"]),
    ("term array .keyword", {"term": {"backend_roles.keyword": "ml-team"}}, ["c1"]),
    ("term hyphenated text split", {"term": {"backend_roles": "ml-team"}}, []),
    ("term nested path", {"term": {"owner.name": "alice"}}, ["c1", "c4"]),
    ("term nested .keyword", {"term": {"owner.name.keyword": "alice"}}, ["c1"]),
    ("term array of objects", {"term": {"tags.k": "b"}}, ["c3"]),
    ("term number on number", {"term": {"version": 1}}, ["c1"]),
    ("term numeric string on number", {"term": {"version": "1"}}, ["c1"]),
    ("term number on text", {"term": {"version": 2}}, ["c2"]),
    ("term float", {"term": {"score": 2.5}}, ["c4"]),
    ("term float as string", {"term": {"score": "2.50"}}, ["c4"]),
    ("term long number", {"term": {"created_time": 1700000000000}}, ["c1"]),
    ("term bool", {"term": {"is_hidden": True}}, ["c2"]),
    ("term bool string", {"term": {"is_hidden": "false"}}, ["c1"]),
    ("term _id", {"term": {"_id": "c2"}}, ["c2"]),
    ("term null field not indexed", {"term": {"description": "none"}}, []),
    # terms
    ("terms keyword", {"terms": {"protocol": ["aws_sigv4", "http"]}}, ["c1", "c2", "c3"]),
    ("terms .keyword", {"terms": {"name.keyword": ["Cohere embed", "x"], "boost": 1}}, ["c3"]),
    ("terms _id", {"terms": {"_id": ["c4"]}}, ["c4"]),
    ("terms empty", {"terms": {"protocol": []}}, []),
    ("terms array field", {"terms": {"backend_roles.keyword": ["ops", "none"]}}, ["c1", "c3"]),
    # exists
    ("exists text", {"exists": {"field": "description"}}, ["c1", "c2"]),
    ("exists object", {"exists": {"field": "owner"}}, ["c1", "c2", "c4"]),
    ("exists nested", {"exists": {"field": "owner.backend_roles"}}, ["c1"]),
    ("exists empty array", {"exists": {"field": "backend_roles"}}, ["c1", "c3"]),
    ("exists .keyword", {"exists": {"field": "name.keyword"}}, ALL),
    ("exists .keyword over ignore_above", {"exists": {"field": "long.keyword"}}, []),
    # unsearchable prefixes: never matchable, even by exists
    ("exists credential", {"exists": {"field": "credential"}}, []),
    ("exists credential leaf", {"exists": {"field": "credential.openAI_key"}}, []),
    ("term credential", {"term": {"credential.openAI_key": "sk-secret"}}, []),
    ("exists connector.credential", {"exists": {"field": "connector.credential"}}, []),
    ("prefix connector.credential", {"prefix": {"connector.credential.access_key.keyword": "AK"}}, []),
    ("connector sibling still searchable", {"term": {"connector.protocol": "aws_sigv4"}}, ["c2"]),
    ("wildcard credential", {"wildcard": {"credential.openAI_key.keyword": "*"}}, []),
    # prefix
    ("prefix text token", {"prefix": {"name": "open"}}, ["c1", "c4"]),
    ("prefix text not analysed", {"prefix": {"name": "Open"}}, []),
    (
        "prefix case_insensitive",
        {"prefix": {"name": {"value": "Open", "case_insensitive": True}}},
        ["c1", "c4"],
    ),
    ("prefix .keyword", {"prefix": {"name.keyword": "Open"}}, ["c1"]),
    ("prefix keyword field", {"prefix": {"access": {"prefix": "pub"}}}, ["c1"]),
    # wildcard
    ("wildcard .keyword", {"wildcard": {"name.keyword": "*embed*"}}, ["c3", "c4"]),
    ("wildcard text token", {"wildcard": {"name": "emb?ddings"}}, ["c4"]),
    (
        "wildcard case_insensitive",
        {"wildcard": {"name.keyword": {"value": "cohere*", "case_insensitive": True}}},
        ["c3"],
    ),
    ("wildcard escape", {"wildcard": {"name.keyword": {"wildcard": "Cohere\\*"}}}, []),
    ("wildcard keyword field", {"wildcard": {"model_state": "DEPLOY*"}}, ["c4"]),
    # range
    ("range gte number", {"range": {"created_time": {"gte": 1700000000000}}}, ["c1", "c2"]),
    ("range gt lt exclusive", {"range": {"created_time": {"gt": 1700000000000, "lt": 1700000005000}}}, []),
    ("range lte", {"range": {"created_time": {"lte": 1700000000000}}}, ["c1", "c3"]),
    ("range iso date", {"range": {"created_time": {"gte": "2023-11-14T22:13:20Z"}}}, ["c1", "c2"]),
    ("range iso naive is utc", {"range": {"created_time": {"lt": "2023-11-14T22:13:20"}}}, ["c3"]),
    (
        "range from/to legacy",
        {"range": {"created_time": {"from": 1699999999000, "to": 1700000000000, "include_upper": False}}},
        ["c3"],
    ),
    ("range null bound unbounded", {"range": {"created_time": {"gte": None, "lt": 1700000000000}}}, ["c3"]),
    ("range keyword strings", {"range": {"access": {"gte": "private", "lt": "r"}}}, ["c1", "c2"]),
    ("range .keyword", {"range": {"owner.name.keyword": {"gte": "a", "lt": "b"}}}, ["c1"]),
    ("range array of objects", {"range": {"tags.v": {"gt": 1}}}, ["c3"]),
    ("range numeric string bound", {"range": {"score": {"gt": "2"}}}, ["c4"]),
    (
        "range with format",
        {"range": {"created_time": {"gte": 1700000005000, "format": "epoch_millis"}}},
        ["c2"],
    ),
    # match
    ("match analysed", {"match": {"name": "OpenAI"}}, ["c1", "c4"]),
    ("match any token", {"match": {"name": "openai cohere"}}, ["c1", "c3", "c4"]),
    ("match and", {"match": {"name": {"query": "OpenAI embeddings", "operator": "and"}}}, ["c4"]),
    ("match AND upper", {"match": {"name": {"query": "chat openai", "operator": "AND"}}}, ["c1"]),
    ("match msm int", {"match": {"name": {"query": "openai chat embed", "minimum_should_match": 2}}}, ["c1"]),
    (
        "match msm negative",
        {"match": {"name": {"query": "openai chat embed", "minimum_should_match": "-1"}}},
        ["c1"],
    ),
    (
        "match msm percent",
        {"match": {"name": {"query": "openai chat embed", "minimum_should_match": "50%"}}},
        ["c1", "c3", "c4"],
    ),
    ("match keyword field exact", {"match": {"access": "public"}}, ["c1"]),
    ("match keyword field not analysed", {"match": {"access": "PUBLIC"}}, []),
    ("match .keyword exact", {"match": {"name.keyword": "Cohere embed"}}, ["c3"]),
    ("match dotted token", {"match": {"description": "amazon.titan"}}, ["c2"]),
    ("match dotted token whole", {"match": {"description": "titan"}}, []),
    ("match number field", {"match": {"version": 1}}, ["c1"]),
    ("match nested", {"match": {"owner.name": "SMITH"}}, ["c4"]),
    ("match zero terms", {"match": {"name": "!!!"}}, []),
    ("match zero terms all", {"match": {"name": {"query": "!!!", "zero_terms_query": "all"}}}, ALL),
    ("match array union with and", {"match": {"tags.k": {"query": "a b", "operator": "and"}}}, ["c3"]),
    ("match bool", {"match": {"is_hidden": {"query": True}}}, ["c2"]),
    # match_phrase
    ("phrase in order", {"match_phrase": {"description": "amazon.titan embed text"}}, ["c2"]),
    ("phrase wrong order", {"match_phrase": {"name": "embeddings openai"}}, []),
    ("phrase exact", {"match_phrase": {"name": {"query": "OpenAI Embeddings"}}}, ["c4"]),
    ("phrase single token", {"match_phrase": {"name": "chat"}}, ["c1"]),
    ("phrase across array values", {"match_phrase": {"tags.k": "a b"}}, []),
    ("phrase keyword field exact", {"match_phrase": {"protocol": "http"}}, ["c1", "c3"]),
    # multi_match
    ("multi_match", {"multi_match": {"query": "alice", "fields": ["name", "owner.name^2"]}}, ["c1", "c4"]),
    ("multi_match single field", {"multi_match": {"query": "cohere", "fields": "name"}}, ["c3"]),
    (
        "multi_match and",
        {"multi_match": {"query": "alice smith", "fields": ["name", "owner.name"], "operator": "and"}},
        ["c4"],
    ),
    (
        "multi_match phrase",
        {"multi_match": {"query": "smith alice", "fields": ["owner.name"], "type": "phrase"}},
        [],
    ),
    # bool
    (
        "bool must + must_not",
        {"bool": {"must": [{"term": {"protocol": "http"}}], "must_not": [{"term": {"access": "public"}}]}},
        ["c3"],
    ),
    ("bool single clause object", {"bool": {"must": {"term": {"protocol": "http"}}}}, ["c1", "c3"]),
    (
        "bool filter makes should optional",
        {"bool": {"filter": [{"term": {"protocol": "http"}}], "should": [{"term": {"access": "public"}}]}},
        ["c1", "c3"],
    ),
    (
        "bool filter + should msm",
        {
            "bool": {
                "filter": [{"term": {"protocol": "http"}}],
                "should": [{"term": {"access": "public"}}],
                "minimum_should_match": 1,
            }
        },
        ["c1"],
    ),
    (
        "bool should only is a disjunction",
        {"bool": {"should": [{"term": {"access": "public"}}, {"term": {"access": "private"}}]}},
        ["c1", "c2"],
    ),
    (
        "bool should msm 0 still needs one",
        {"bool": {"should": [{"term": {"access": "public"}}], "minimum_should_match": 0}},
        ["c1"],
    ),
    (
        "bool should msm 2",
        {
            "bool": {
                "should": [
                    {"term": {"protocol": "http"}},
                    {"term": {"backend_roles": "ops"}},
                    {"exists": {"field": "tags"}},
                ],
                "minimum_should_match": 2,
            }
        },
        ["c1", "c3"],
    ),
    (
        "bool should msm 100%",
        {
            "bool": {
                "should": [{"term": {"protocol": "http"}}, {"exists": {"field": "tags"}}],
                "minimum_should_match": "100%",
            }
        },
        ["c3"],
    ),
    (
        "bool msm above clause count",
        {"bool": {"should": [{"match_all": {}}], "minimum_should_match": 3}},
        [],
    ),
    ("bool must_not only", {"bool": {"must_not": [{"exists": {"field": "description"}}]}}, ["c3", "c4"]),
    ("bool empty", {"bool": {}}, ALL),
    (
        "bool nested",
        {
            "bool": {
                "must": [
                    {"bool": {"should": [{"match": {"name": "openai"}}, {"match": {"name": "cohere"}}]}},
                    {"bool": {"must_not": {"term": {"name": "chat"}}}},
                ]
            }
        },
        ["c3", "c4"],
    ),
    (
        "constant_score",
        {"constant_score": {"filter": {"term": {"protocol": "http"}}, "boost": 1.2}},
        ["c1", "c3"],
    ),
]


@pytest.mark.parametrize(
    ("query", "expected"), [(q, e) for _, q, e in CASES], ids=[name for name, _, _ in CASES]
)
def test_query_matches(query: dict[str, Any] | None, expected: list[str]) -> None:
    assert matching(query) == expected


def access_filter(user: str, roles: list[str]) -> dict[str, Any]:
    """ML Commons' access filter (ModelAccessControlHelper.addUserBackendRolesFilter; owner test nested)."""
    return {
        "bool": {
            "should": [
                {"term": {"access": "public"}},
                {"terms": {"backend_roles.keyword": roles}},
                {
                    "bool": {
                        "must": [
                            {
                                "nested": {
                                    "path": "owner",
                                    "query": {"term": {"owner.name.keyword": user}},
                                    "score_mode": "none",
                                }
                            },
                            {"term": {"access": "private"}},
                        ]
                    }
                },
            ]
        }
    }


@pytest.mark.parametrize(
    ("user", "roles", "expected"),
    [
        ("alice", [], ["c1"]),
        ("bob", [], ["c1", "c2"]),
        ("carol", ["ops"], ["c1", "c3"]),
        ("bob", ["ops", "ml-team"], ["c1", "c2", "c3"]),
    ],
)
def test_access_control_filter_shape(user: str, roles: list[str], expected: list[str]) -> None:
    assert matching(access_filter(user, roles)) == expected


REFUSALS: list[tuple[Any, str, str]] = [
    ({"foo": {}}, "parsing_exception", "unknown query [foo]"),
    (
        {"query_string": {"query": "x"}},
        "parsing_exception",
        "query [query_string] is not supported by mlgate",
    ),
    (
        {"has_child": {"type": "a", "query": {"match_all": {}}}},
        "parsing_exception",
        "query [has_child] is not supported",
    ),
    ({"nested": {"query": {"match_all": {}}}}, "parsing_exception", "[nested] requires 'path' field"),
    ({"nested": {"path": "owner"}}, "parsing_exception", "[nested] requires 'query' field"),
    (
        {"nested": {"path": "o", "query": {"match_all": {}}, "score_mode": "x"}},
        "parsing_exception",
        "score_mode [x]",
    ),
    (
        {"nested": {"path": "o", "query": {"match_all": {}}, "inner_hits": {}}},
        "parsing_exception",
        "[inner_hits]",
    ),
    ({"nested": {"path": "o", "query": {"nope": {}}}}, "parsing_exception", "unknown query [nope]"),
    ({}, "parsing_exception", "query malformed, empty clause found"),
    (["match_all"], "parsing_exception", "[_na] query malformed, must start with start_object"),
    (
        {"term": {"a": 1}, "match": {"b": 2}},
        "parsing_exception",
        "[term] malformed query, expected [END_OBJECT] but found [FIELD_NAME]",
    ),
    ({"term": "x"}, "parsing_exception", "[term] query malformed, no start_object after query name"),
    ({"term": {}}, "parsing_exception", "[term] query malformed, no field specified"),
    (
        {"term": {"a": 1, "b": 2}},
        "parsing_exception",
        "[term] query doesn't support multiple fields, found [a] and [b]",
    ),
    ({"term": {"a": 1, "boost": 2}}, "parsing_exception", "[term] query doesn't support multiple fields"),
    ({"term": {"a": {"value": 1, "foo": 2}}}, "parsing_exception", "[term] query does not support [foo]"),
    ({"term": {"a": [1, 2]}}, "parsing_exception", "[term] query does not support array of values"),
    ({"term": {"a": None}}, "illegal_argument_exception", "[term] value cannot be null"),
    (
        {"term": {"a": {"boost": 2}}},
        "parsing_exception",
        "[term] query malformed, no value specified for field [a]",
    ),
    (
        {"term": {"a": {"value": "x", "case_insensitive": "yes"}}},
        "parsing_exception",
        "failed to parse field",
    ),
    (
        {"term": {"a": {"value": "x", "boost": "high"}}},
        "parsing_exception",
        "[term] query failed to parse field [boost]",
    ),
    ({"terms": {"a": "x"}}, "parsing_exception", "[terms] query does not support [a]"),
    (
        {"terms": {"a": {"index": "i", "id": "1", "path": "p"}}},
        "parsing_exception",
        "lookup is not supported",
    ),
    ({"terms": {"a": [1], "b": [2]}}, "parsing_exception", "[terms] query requires exactly one field"),
    ({"terms": {"a": [[1]]}}, "parsing_exception", "[terms] query does not support array of values"),
    ({"ids": {"values": "c1"}}, "parsing_exception", "[ids] failed to parse field [values]"),
    ({"ids": {"value": ["c1"]}}, "parsing_exception", "[ids] query does not support [value]"),
    ({"exists": {}}, "parsing_exception", "[exists] must be provided with a [field]"),
    ({"exists": {"field": 3}}, "parsing_exception", "[exists] must be provided with a [field]"),
    (
        {"prefix": {"a": {"value": {"x": 1}}}},
        "parsing_exception",
        "[prefix] query does not support array of values",
    ),
    (
        {"range": {"a": 5}},
        "parsing_exception",
        "[range] query malformed, no start_object after field name [a]",
    ),
    (
        {"range": {"a": {"gt": 1, "relation": "within"}}},
        "parsing_exception",
        "[range] query does not support [relation]",
    ),
    ({"range": {"a": {"gte": "now-1d"}}}, "parse_exception", "date math [now-1d] is not supported"),
    (
        {"match": {"a": {"query": "x", "fuzziness": "AUTO"}}},
        "parsing_exception",
        "option [fuzziness] is not supported",
    ),
    (
        {"match": {"a": {"query": "x", "operator": "xor"}}},
        "parsing_exception",
        "[match] query does not support [operator]",
    ),
    (
        {"match": {"a": {"query": "x", "analyzer": "english"}}},
        "parsing_exception",
        "analyzer [english] is not supported",
    ),
    (
        {"match": {"a": {"query": "x", "zero_terms_query": "some"}}},
        "parsing_exception",
        "zero_terms_query value",
    ),
    ({"match": {"a": {"operator": "and"}}}, "parsing_exception", "no value specified for field [a]"),
    (
        {"match": {"a": {"query": "x", "cutoff": 1}}},
        "parsing_exception",
        "[match] query does not support [cutoff]",
    ),
    (
        {"match": {"a": {"query": "x", "minimum_should_match": "2<75%"}}},
        "parsing_exception",
        "minimum_should_match",
    ),
    (
        {"match_phrase": {"a": {"query": "x", "slop": 2}}},
        "parsing_exception",
        "option [slop] is not supported",
    ),
    (
        {"match_phrase": {"a": {"query": "x", "operator": "and"}}},
        "parsing_exception",
        "does not support [operator]",
    ),
    ({"multi_match": {"fields": ["a"]}}, "parsing_exception", "No text specified for multi_match query"),
    ({"multi_match": {"query": "x"}}, "parsing_exception", "requires a non-empty list of [fields]"),
    ({"multi_match": {"query": "x", "fields": ["na*"]}}, "parsing_exception", "wildcard field names"),
    (
        {"multi_match": {"query": "x", "fields": ["a"], "type": "cross_fields"}},
        "parsing_exception",
        "[cross_fields]",
    ),
    ({"bool": {"must": [{"foo": {}}]}}, "parsing_exception", "unknown query [foo]"),
    ({"bool": {"should": "x"}}, "parsing_exception", "[_na] query malformed, must start with start_object"),
    ({"bool": {"musts": []}}, "parsing_exception", "[bool] query does not support [musts]"),
    ({"bool": {"should": [], "minimum_should_match": True}}, "parsing_exception", "minimum_should_match"),
    ({"match_all": {"boost": "x"}}, "parsing_exception", "[match_all] query failed to parse field [boost]"),
    ({"match_all": {"foo": 1}}, "parsing_exception", "[match_all] query does not support [foo]"),
    ({"constant_score": {"boost": 1}}, "parsing_exception", "[constant_score] requires a 'filter' element"),
    ({"constant_score": {"filter": {"bar": {}}}}, "parsing_exception", "unknown query [bar]"),
]


@pytest.mark.parametrize(
    ("query", "error_type", "reason"), REFUSALS, ids=[str(q)[:60] for q, _, _ in REFUSALS]
)
def test_malformed_or_unsupported_queries_are_refused(query: Any, error_type: str, reason: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        compile_query(query)
    assert caught.value.error_type == error_type
    assert reason in caught.value.message


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("OpenAI Chat Connector", ["openai", "chat", "connector"]),
        ("amazon.titan-embed-text-v1", ["amazon.titan", "embed", "text", "v1"]),
        ("gpt-4o, v1.2 costs 1,000.50", ["gpt", "4o", "v1.2", "costs", "1,000.50"]),
        ("snake_case_name", ["snake_case_name"]),
        ("O'Neil's  model!", ["o'neil's", "model"]),
        ("Ünïcode Wörds", ["ünïcode", "wörds"]),
        ("a.1 end.", ["a", "1", "end"]),
        ("!!! ...", []),
    ],
)
def test_standard_analyzer_approximation(text: str, tokens: list[str]) -> None:
    assert analyze(text) == tokens


def test_index_document_flattens_arrays_and_skips_nulls_and_unsearchable() -> None:
    doc = index_document(
        {"a": [{"b": 1}, {"b": [2, None]}], "c": None, "secret": {"x": 1}, "d.e": "dotted"},
        "id1",
        ("secret",),
    )
    assert doc.fields == {"a.b": [1, 2], "d.e": ["dotted"]}
    assert doc.has_path("a") and doc.has_path("d") and not doc.has_path("secret") and not doc.has_path("c")


def test_unsearchable_prefix_is_not_a_string_prefix() -> None:
    # "credentials_hint" is not under "credential": it stays searchable.
    query = compile_query({"exists": {"field": "credentials_hint"}}, unsearchable_prefixes=("credential",))
    assert query.matches({"credentials_hint": "x"}, "1")
    assert not query.matches({"credential": "x"}, "1")


def test_flat_object_fields_are_declared_keyword_with_a_star() -> None:
    source = {"parameters": {"model": "gpt-4o", "inner": {"region": "us-east-1"}}, "name": "gpt-4o"}
    flat = frozenset({"parameters.*"})
    assert compile_query({"term": {"parameters.model": "gpt-4o"}}, keyword_fields=flat).matches(source, "1")
    assert not compile_query({"term": {"parameters.model": "gpt"}}, keyword_fields=flat).matches(source, "1")
    assert compile_query({"term": {"parameters.inner.region": "us-east-1"}}, keyword_fields=flat).matches(
        source, "1"
    )
    # Undeclared, the same strings are analysed text; other fields are unaffected by the declaration.
    assert compile_query({"term": {"parameters.model": "gpt"}}).matches(source, "1")
    assert compile_query({"term": {"name": "gpt"}}, keyword_fields=flat).matches(source, "1")
