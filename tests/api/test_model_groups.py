"""Model groups: register, get, search, update, delete."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import assert_error

G = "/_plugins/_ml/model_groups"


async def register(client: httpx.AsyncClient, name: str, **extra: object) -> str:
    response = await client.post(f"{G}/_register", json={"name": name, **extra})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "CREATED"
    return response.json()["model_group_id"]


async def test_register_get(client: httpx.AsyncClient) -> None:
    group_id = await register(client, "group one", description="first")
    body = (await client.get(f"{G}/{group_id}")).json()
    assert body["name"] == "group one" and body["description"] == "first"
    assert body["latest_version"] == 0 and body["access"] == "public"
    assert "owner" not in body and "model_group_id" not in body


@pytest.mark.parametrize(
    ("body", "status", "error_type", "reason"),
    [
        (
            {"name": "   "},
            400,
            "action_request_validation_exception",
            "Validation Failed: 1: Model group name is required and cannot be null or blank;",
        ),
        (
            {"name": "bad<name>"},
            400,
            "action_request_validation_exception",
            "Validation Failed: 1: Model group name can only contain letters, numbers, spaces, and basic "
            "punctuation (.,!?():@-_'/\");",
        ),
        ({"description": "x"}, 400, "illegal_argument_exception", "model group name must not be null"),
        (
            {"name": "g", "access_mode": "private"},
            400,
            "illegal_argument_exception",
            "You cannot specify model access control parameters because the Security plugin or model access control "
            "is disabled on your cluster.",
        ),
    ],
)
async def test_register_refusals(
    client: httpx.AsyncClient, body: dict, status: int, error_type: str, reason: str
) -> None:
    assert_error(await client.post(f"{G}/_register", json=body), status, error_type, reason)


async def test_empty_body(client: httpx.AsyncClient) -> None:
    assert_error(
        await client.post(f"{G}/_register"), 400, "parse_exception", "Model group request has empty body"
    )


async def test_duplicate_name(client: httpx.AsyncClient) -> None:
    group_id = await register(client, "dup")
    assert_error(
        await client.post(f"{G}/_register", json={"name": "dup"}),
        400,
        "illegal_argument_exception",
        f"The name you provided is already being used by a model group with ID: {group_id}.",
    )


async def test_search(client: httpx.AsyncClient) -> None:
    await register(client, "alpha group")
    await register(client, "beta group")
    hits = (await client.post(f"{G}/_search", json={"query": {"match": {"name": "alpha"}}})).json()["hits"]
    assert [h["_source"]["name"] for h in hits["hits"]] == ["alpha group"]
    assert hits["hits"][0]["_index"] == ".plugins-ml-model-group"
    everything = (await client.get(f"{G}/_search")).json()["hits"]
    assert everything["total"] == {"value": 2, "relation": "eq"}
    bad = await client.post(f"{G}/_search", json={"aggs": {"x": {}}})
    assert bad.status_code == 400 and bad.json()["status"] == 400


async def test_update(client: httpx.AsyncClient) -> None:
    group_id = await register(client, "to update")
    other = await register(client, "taken")
    response = await client.put(f"{G}/{group_id}", json={"name": "renamed", "description": "d2"})
    assert response.json() == {"status": "Updated"}
    body = (await client.get(f"{G}/{group_id}")).json()
    assert body["name"] == "renamed" and body["description"] == "d2"
    assert_error(
        await client.put(f"{G}/{group_id}", json={"name": "taken"}),
        400,
        "illegal_argument_exception",
        f"The name you provided is already being used by another model with ID: {other}. Please provide a different name",
    )
    assert_error(
        await client.put(f"{G}/nope", json={"name": "x"}),
        404,
        "status_exception",
        "Failed to find model group with the provided model group id: nope",
    )


async def test_delete(client: httpx.AsyncClient) -> None:
    group_id = await register(client, "to delete")
    response = await client.delete(f"{G}/{group_id}")
    assert response.json()["result"] == "deleted" and response.json()["_index"] == ".plugins-ml-model-group"
    assert (await client.delete(f"{G}/{group_id}")).json()["result"] == "not_found"
    assert_error(await client.get(f"{G}/{group_id}"), 404, "status_exception")
