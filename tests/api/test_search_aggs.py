"""Aggregations through ``_search`` of the ML indices, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mlgate.bootstrap import build_node
from mlgate.config import Config
from mlgate.mockprovider import MockProvider
from tests.api.fixtures import chat_connector
from tests.conftest import LOOPBACK_TRUSTED, TEST_MASTER_KEY, assert_error
from tests.storage.conftest import BACKENDS, pg_cluster_url, pg_url

__all__ = ["pg_cluster_url", "pg_url"]

ML = "/_plugins/_ml"
DAY = 86_400_000


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest) -> str | None:
    """``None`` for SQLite, a fresh PostgreSQL schema otherwise."""
    return str(request.getfixturevalue("pg_url")) if request.param == "postgresql" else None


@pytest.fixture
async def http(store_url: str | None, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a node on the backend under test, allowed to reach the mock provider."""
    config = Config(
        data_dir=tmp_path / "data", master_key=TEST_MASTER_KEY, security=False, store_url=store_url
    )
    node = await build_node(config)
    await node.start()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=node.app), base_url="http://mlgate"
        ) as client:
            settings = {
                "plugins.ml_commons.trusted_connector_endpoints_regex": [LOOPBACK_TRUSTED],
                "plugins.ml_commons.connector.private_ip_enabled": True,
            }
            assert (await client.put("/_cluster/settings", json={"persistent": settings})).status_code == 200
            yield client
    finally:
        await node.stop()


async def _ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


async def _models(http: httpx.AsyncClient, provider: MockProvider, names: list[str]) -> list[str]:
    created = await _ok(await http.post(f"{ML}/connectors/_create", json=chat_connector(provider.url)))
    ids = []
    for name in names:
        body = {"name": name, "function_name": "remote", "connector_id": created["connector_id"]}
        ids.append((await _ok(await http.post(f"{ML}/models/_register", json=body)))["model_id"])
    return ids


async def test_models_by_state_for_a_dashboard(http: httpx.AsyncClient, provider: MockProvider) -> None:
    ids = await _models(http, provider, ["chat a", "chat b", "chat c"])
    await _ok(await http.post(f"{ML}/models/{ids[0]}/_deploy"))
    body = {"size": 0, "aggs": {"by_state": {"terms": {"field": "model_state"}}}}
    response = await _ok(await http.post(f"{ML}/models/_search", json=body))
    assert response["hits"]["hits"] == [] and response["hits"]["total"] == {"value": 3, "relation": "eq"}
    assert response["aggregations"] == {
        "by_state": {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": 0,
            "buckets": [{"key": "REGISTERED", "doc_count": 2}, {"key": "DEPLOYED", "doc_count": 1}],
        }
    }
    # The other spelling and the GET form give the same answer.
    again = await _ok(
        await http.request("GET", f"{ML}/models/_search", json={"size": 0, "aggregations": body["aggs"]})
    )
    assert again["aggregations"] == response["aggregations"]


async def test_date_histogram_on_created_time_and_top_hits(
    http: httpx.AsyncClient, provider: MockProvider
) -> None:
    ids = await _models(http, provider, ["first", "second"])
    created = [(await _ok(await http.get(f"{ML}/models/{i}")))["created_time"] for i in ids]
    body = {
        "size": 0,
        "query": {"term": {"algorithm": "REMOTE"}},
        "aggs": {
            "per_day": {
                "date_histogram": {
                    "field": "created_time",
                    "calendar_interval": "day",
                    "format": "yyyy-MM-dd",
                },
                "aggs": {
                    "latest": {
                        "top_hits": {"size": 1, "sort": [{"created_time": "desc"}], "_source": ["name"]}
                    }
                },
            },
            "first_seen": {"min": {"field": "created_time"}},
        },
    }
    aggs = (await _ok(await http.post(f"{ML}/models/_search", json=body)))["aggregations"]
    days = aggs["per_day"]["buckets"]
    assert sum(b["doc_count"] for b in days) == 2
    assert days[0]["key"] == min(created) // DAY * DAY and days[-1]["key"] == max(created) // DAY * DAY
    newest = days[-1]["latest"]["hits"]["hits"][0]
    assert newest["_source"] == {"name": "second"} and newest["_id"] == ids[1]
    assert aggs["first_seen"]["value"] == float(min(created))
    assert aggs["first_seen"]["value_as_string"].endswith("Z")


async def test_connector_and_task_aggregations_never_show_a_credential(
    http: httpx.AsyncClient, provider: MockProvider
) -> None:
    ids = await _models(http, provider, ["m"])
    await _ok(await http.post(f"{ML}/models/{ids[0]}/_deploy"))
    body = {
        "size": 0,
        "aggs": {
            "protocols": {"terms": {"field": "protocol"}, "aggs": {"one": {"top_hits": {}}}},
            "keys": {"terms": {"field": "credential.openAI_key"}},
        },
    }
    response = await http.post(f"{ML}/connectors/_search", json=body)
    aggs = (await _ok(response))["aggregations"]
    assert aggs["protocols"]["buckets"][0]["key"] == "http"
    assert "credential" not in aggs["protocols"]["buckets"][0]["one"]["hits"]["hits"][0]["_source"]
    assert aggs["keys"]["buckets"] == []
    assert "sk-test-secret-value-123" not in response.text
    tasks = {"size": 0, "aggs": {"types": {"terms": {"field": "task_type", "order": {"_key": "asc"}}}}}
    found = (await _ok(await http.post(f"{ML}/tasks/_search", json=tasks)))["aggregations"]["types"][
        "buckets"
    ]
    assert [b["key"] for b in found] == ["DEPLOY_MODEL", "REGISTER_MODEL"]


async def test_aggregation_errors_are_opensearch_errors(http: httpx.AsyncClient) -> None:
    unknown = assert_error(
        await http.post(f"{ML}/models/_search", json={"aggs": {"x": {"termz": {"field": "model_state"}}}}),
        400,
        "parsing_exception",
        "Unknown aggregation type [termz] did you mean [terms]?",
    )
    assert unknown["error"]["caused_by"] == {
        "type": "named_object_not_found_exception",
        "reason": "unknown field [termz]",
    }
    await _ok(await http.post(f"{ML}/model_groups/_register", json={"name": "group"}))
    assert_error(
        await http.post(f"{ML}/model_groups/_search", json={"aggs": {"x": {"terms": {"field": "name"}}}}),
        400,
        "illegal_argument_exception",
    )
    too_many = {
        "x": {
            "date_histogram": {
                "field": "created_time",
                "fixed_interval": "1ms",
                "extended_bounds": {"min": 0, "max": DAY},
            }
        }
    }
    assert_error(
        await http.post(f"{ML}/models/_search", json={"aggs": too_many}), 503, "too_many_buckets_exception"
    )
