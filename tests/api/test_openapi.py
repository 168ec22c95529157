"""The OpenAPI document is generated from the route table: every route is in it and nothing else."""

from __future__ import annotations

import inspect

import httpx

from mlgate.api.openapi import openapi_document
from mlgate.api.request_schemas import REQUEST_BODIES, body_schema
from mlgate.api.routes import ROUTES
from mlgate.bootstrap import Node

DOC_PATH = "/_plugins/_mlgate/openapi.json"


def operations(document: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


async def test_served_document_lists_every_route_and_nothing_else(admin: httpx.AsyncClient) -> None:
    response = await admin.get(DOC_PATH)
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert operations(document) == {(r.method, r.path) for r in ROUTES}
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_path_parameters_and_actions_match_the_table() -> None:
    document = openapi_document(ROUTES, "test")
    for route in ROUTES:
        operation = document["paths"][route.path][route.method.lower()]
        names = [p["name"] for p in operation.get("parameters", [])]
        assert names == [s[1:-1] for s in route.path.split("/") if s.startswith("{")], route.path
        assert all(p["in"] == "path" and p["required"] for p in operation.get("parameters", []))
        assert operation["x-opensearch-action"] == route.action


def test_every_handler_that_reads_a_body_has_a_body_schema() -> None:
    # The drift guard for the body schemas: a handler that reads the body must have one, and a schema
    # must belong to a handler of the table.
    for route in ROUTES:
        source = inspect.getsource(route.handler)
        reads_body = "req.json" in source or "req.body" in source
        assert reads_body == (body_schema(route.handler) is not None), (route.method, route.path)
    assert set(REQUEST_BODIES) <= {r.handler for r in ROUTES}
    document = openapi_document(ROUTES, "test")
    connector = document["paths"]["/_plugins/_ml/connectors/_create"]["post"]["requestBody"]
    assert "actions" in connector["content"]["application/json"]["schema"]["properties"]


async def test_document_needs_credentials_like_every_route(
    secure_node: Node, anonymous: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    assert (await anonymous.get(DOC_PATH)).status_code == 401
    # Any user may read it: one with no role at all.
    created = await admin.put(
        "/_plugins/_security/api/internalusers/nobody", json={"password": "Quartz-Lantern-Meadow-4471"}
    )
    assert created.status_code == 201, created.text
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=secure_node.app),
        base_url="http://mlgate",
        auth=("nobody", "Quartz-Lantern-Meadow-4471"),
    ) as nobody:
        assert (await nobody.get(DOC_PATH)).status_code == 200
