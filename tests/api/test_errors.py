"""Routing, parsing and size errors: always the OpenSearch envelope, never a trace."""

from __future__ import annotations

import httpx

from tests.conftest import assert_error


async def test_unknown_path(client: httpx.AsyncClient) -> None:
    response = await client.get("/_plugins/_ml/nothing/here")
    assert response.status_code == 400
    assert response.json() == {
        "error": "no handler found for uri [/_plugins/_ml/nothing/here] and method [GET]",
        "status": 400,
    }


async def test_wrong_method(client: httpx.AsyncClient) -> None:
    response = await client.delete("/_cluster/settings")
    assert response.status_code == 405
    assert response.json() == {
        "error": "Incorrect HTTP method for uri [/_cluster/settings] and method [DELETE], allowed: [GET, PUT]",
        "status": 405,
    }


async def test_malformed_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/_plugins/_ml/connectors/_create", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "json_parse_exception")


async def test_body_must_be_object(client: httpx.AsyncClient) -> None:
    response = await client.post("/_plugins/_ml/model_groups/_register", json=[1, 2])
    assert_error(response, 400, "parse_exception")


async def test_oversize_body(client: httpx.AsyncClient, node) -> None:
    limit = 100 * 1024 * 1024
    response = await client.post(
        "/_plugins/_ml/connectors/_create", content=b"x", headers={"content-length": str(limit + 1)}
    )
    assert response.status_code == 413
    assert response.json()["status"] == 413


async def test_trailing_slash_accepted(client: httpx.AsyncClient) -> None:
    response = await client.get("/_cluster/health/")
    assert response.status_code == 200
    assert response.json()["status"] == "green"


async def test_root_info(client: httpx.AsyncClient) -> None:
    body = (await client.get("/")).json()
    assert set(body) >= {"name", "cluster_name", "version", "tagline"}
    assert body["version"]["number"].count(".") == 2
