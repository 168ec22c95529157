"""Liveness under a hostile search (issue 11 item 1): other clients are answered while it runs.

A user with only ``ml_read_access`` searches connectors with many long fields; meanwhile the admin asks
for ``GET /_cluster/health``. Everything is established by events, never by durations: the test waits
until a worker thread is inside the search, then sends the health request, and checks that the answer
came while the search had not finished. A search evaluated on the event loop could never be seen from
the loop while running, so this test fails on such an implementation.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from mlgate.bootstrap import Node
from tests.api.fixtures import chat_connector
from tests.e2e.threads import another_thread_runs

C = "/_plugins/_ml/connectors"
READER = ("reader", "Walnut-Horizon-Ember-6604")
BOUND_S = 60.0  # generous: only a hang would reach it
LONG = 20_000
HOSTILE_WILDCARD = "*?*?*?*?*?*?*?*?*Z"


def search_thread_running() -> bool:
    """Whether a thread other than this one is executing ``mlgate.domain.search.search`` right now."""
    return another_thread_runs(
        lambda code: code.co_name == "search" and code.co_filename.endswith("mlgate/domain/search.py")
    )


@pytest.fixture
async def reader(secure_node: Node, admin: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a user who may only read ML objects."""
    response = await admin.put(
        f"/_plugins/_security/api/internalusers/{READER[0]}",
        json={"password": READER[1], "opendistro_security_roles": ["ml_read_access"]},
    )
    assert response.status_code in (200, 201), response.text
    transport = httpx.ASGITransport(app=secure_node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mlgate", auth=READER) as http:
        yield http


async def create_connectors(admin: httpx.AsyncClient) -> str:
    """Thirty connectors with a 20,000-character request body; the id of the one ending in Z."""
    wanted = ""
    for i in range(30):
        body = chat_connector("http://127.0.0.1:9", name=f"long {i}")
        body["actions"][0]["request_body"] = "a" * LONG + ("Z" if i == 7 else "")
        response = await admin.post(f"{C}/_create", json=body)
        assert response.status_code == 200, response.text
        if i == 7:
            wanted = response.json()["connector_id"]
    return wanted


async def test_health_is_answered_while_a_hostile_search_runs(
    admin: httpx.AsyncClient, reader: httpx.AsyncClient
) -> None:
    wanted = await create_connectors(admin)
    # The reported pattern is answered, with the right hit, by a linear matcher.
    reported = await reader.post(
        f"{C}/_search", json={"query": {"wildcard": {"actions.request_body": HOSTILE_WILDCARD}}}
    )
    assert reported.status_code == 200, reported.text
    assert [hit["_id"] for hit in reported.json()["hits"]["hits"]] == [wanted]

    # A search that does as much work as a search may: regexps over every long value until the budget
    # stops it.
    clauses = [{"regexp": {"actions.request_body": f"(a|aa)*(a*)*{i}"}} for i in range(40)]
    hostile = asyncio.create_task(reader.post(f"{C}/_search", json={"query": {"bool": {"should": clauses}}}))

    async def search_started() -> None:
        while not search_thread_running():
            assert not hostile.done(), "the search finished without ever running in a worker thread"
            await asyncio.sleep(0.001)

    await asyncio.wait_for(search_started(), BOUND_S)
    health = await asyncio.wait_for(admin.get("/_cluster/health"), BOUND_S)
    answered_while_searching = not hostile.done()

    assert health.status_code == 200, health.text
    assert health.json()["cluster_name"]
    assert answered_while_searching, "health was answered only after the hostile search had finished"

    # The hostile search ends by itself, refused at its budget rather than running on.
    response = await asyncio.wait_for(hostile, BOUND_S)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["reason"].startswith("The search would take more than [20000000]")
