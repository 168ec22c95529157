"""Searches that used to freeze the server or answer 500: hostile patterns, deep queries, odd options.

Issue 11 item 1 (a backtracking wildcard stalled everything) and issue 12 item 6 (RecursionError and
TypeError 500s), through the REST API.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.fixtures import chat_connector
from tests.conftest import assert_error

C = "/_plugins/_ml/connectors"
SEARCHES = [
    "/_plugins/_ml/connectors/_search",
    "/_plugins/_ml/models/_search",
    "/_plugins/_ml/model_groups/_search",
    "/_plugins/_ml/tasks/_search",
]
HOSTILE = "*?*?*?*?*?*?*?*?*Z"


async def create_connector(client: httpx.AsyncClient, name: str, request_body: str, **extra: Any) -> str:
    body = chat_connector("http://127.0.0.1:9", name=name, **extra)
    body["actions"][0]["request_body"] = request_body
    response = await client.post(f"{C}/_create", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["connector_id"])


def hit_ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [hit["_id"] for hit in response.json()["hits"]["hits"]]


async def test_the_reported_wildcard_is_answered_with_the_right_hits(loopback: httpx.AsyncClient) -> None:
    for i in range(5):
        await create_connector(loopback, f"long {i}", "a" * 5_000)
    wanted = await create_connector(loopback, "ends in Z", "a" * 5_000 + "Z")
    query = {"query": {"wildcard": {"actions.request_body": HOSTILE}}}
    assert hit_ids(await loopback.post(f"{C}/_search", json=query)) == [wanted]


async def test_regexp_query(loopback: httpx.AsyncClient) -> None:
    first = await create_connector(loopback, "gpt-4o connector", "{}")
    await create_connector(loopback, "cohere connector", "{}")
    query = {"query": {"regexp": {"name.keyword": "gpt-[0-9]o.*"}}}
    assert hit_ids(await loopback.post(f"{C}/_search", json=query)) == [first]
    folded = {"query": {"regexp": {"name.keyword": {"value": "GPT.*", "case_insensitive": True}}}}
    assert hit_ids(await loopback.post(f"{C}/_search", json=folded)) == [first]
    hostile = {"query": {"regexp": {"actions.request_body": "(a|aa)*(a*)*b"}}}
    assert hit_ids(await loopback.post(f"{C}/_search", json=hostile)) == []


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (
            "a" * 1001,
            "The length of regex [1001] used in the Regexp Query request has exceeded the allowed maximum of "
            "[1000]. This maximum can be set by changing the [index.max_regex_length] index level setting.",
        ),
        ("gpt-(4o", "expected ')' at position 7"),
        (
            "(a|b){30000}",
            "Determinizing automaton with 40000 states and 46662 transitions would require more than 10000 effort.",
        ),
    ],
)
async def test_bad_regexp_is_a_400_query_shard_exception(
    client: httpx.AsyncClient, value: str, reason: str
) -> None:
    response = await client.post(f"{C}/_search", json={"query": {"regexp": {"name": value}}})
    body = assert_error(response, 400, "query_shard_exception", f"failed to create query: {reason}")
    assert body["error"]["caused_by"] == {"type": "illegal_argument_exception", "reason": reason}


async def test_too_many_terms_is_a_400(client: httpx.AsyncClient) -> None:
    reason = (
        "The number of terms [65537] used in the Terms Query request has exceeded the allowed maximum of "
        "[65536]. This maximum can be set by changing the [index.max_terms_count] index level setting."
    )
    query = {"query": {"terms": {"name.keyword": [str(i) for i in range(65_537)]}}}
    assert_error(
        await client.post(f"{C}/_search", json=query),
        400,
        "query_shard_exception",
        f"failed to create query: {reason}",
    )


async def test_a_search_past_its_budget_is_a_400(loopback: httpx.AsyncClient) -> None:
    await create_connector(loopback, "big", "a" * 100_000)
    clauses = [{"wildcard": {"actions.request_body": f"*{i}?*a"}} for i in range(300)]
    response = await loopback.post(f"{C}/_search", json={"query": {"bool": {"should": clauses}}})
    body = assert_error(response, 400, "illegal_argument_exception")
    assert body["error"]["reason"].startswith("The search would take more than [20000000] matching steps")
    # The server answers the next search normally.
    assert hit_ids(await loopback.post(f"{C}/_search", json={"query": {"match": {"name": "big"}}}))


def nested_bool(depth: int) -> dict[str, Any]:
    query: dict[str, Any] = {"match_all": {}}
    for _ in range(depth - 1):
        query = {"bool": {"must": [query]}}
    return query


@pytest.mark.parametrize("path", SEARCHES)
async def test_queries_nested_too_deep_are_a_400(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.post(path, json={"query": nested_bool(20)})).status_code == 200
    assert_error(
        await client.post(path, json={"query": nested_bool(21)}),
        400,
        "illegal_argument_exception",
        "The nested depth of the query exceeds the maximum nested depth for queries set in "
        "[indices.query.bool.max_nested_depth]",
    )
    # 300 levels of bool (900 of JSON) used to raise RecursionError: the body is refused as a whole.
    assert_error(
        await client.post(path, json={"query": nested_bool(300)}),
        400,
        "json_parse_exception",
        "Document nesting depth (101) exceeds the maximum allowed (100)",
    )


@pytest.mark.parametrize("key", ["track_total_hits", "track_scores", "version", "seq_no_primary_term"])
@pytest.mark.parametrize(("value", "token"), [([], "START_ARRAY"), ({}, "START_OBJECT")])
async def test_scalar_options_given_an_array_or_object_are_parse_errors(
    client: httpx.AsyncClient, key: str, value: Any, token: str
) -> None:
    for path in SEARCHES:
        assert_error(
            await client.post(path, json={key: value}),
            400,
            "parsing_exception",
            f"Unknown key for a {token} in [{key}].",
        )


def deep(levels: int) -> Any:
    value: Any = "leaf"
    for i in range(levels - 1):
        value = {"k": value} if i % 2 else [value]
    return value


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", f"{C}/_create", {"name": "x", "parameters": {"deep": deep(150)}}),
        ("PUT", "/_cluster/settings", {"persistent": deep(150)}),
        ("POST", "/_plugins/_ml/model_groups/_register", {"name": "g", "description": deep(200)}),
        ("POST", "/_plugins/_ml/models/m1/_predict", {"parameters": {"messages": deep(500)}}),
    ],
)
async def test_deeply_nested_bodies_are_a_400_everywhere(
    client: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    response = await client.request(method, path, json=body)
    assert_error(
        response,
        400,
        "json_parse_exception",
        "Document nesting depth (101) exceeds the maximum allowed (100)",
    )


async def test_source_filter_patterns_are_linear(loopback: httpx.AsyncClient) -> None:
    """A many-star ``_source`` include against a long key used to backtrack (Python re); now it is a scan."""
    connector_id = await create_connector(
        loopback, "long key", "{}", parameters={"a" * 5_000: "v", "keep": "k"}
    )
    includes = ["name", "parameters.*a*a*a*a*a*a*a*a*a*a*a*b", "parameters.kee*"]
    response = await loopback.post(f"{C}/_search", json={"_source": {"includes": includes}})
    assert hit_ids(response) == [connector_id]
    assert response.json()["hits"]["hits"][0]["_source"] == {"name": "long key", "parameters": {"keep": "k"}}
