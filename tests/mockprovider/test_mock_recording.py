"""Request recording: ``/_mock/requests`` and :meth:`MockProvider.requests`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from mlgate.mockprovider import MockProvider, start_mock_provider
from mlgate.mockprovider.recording import RequestLog


@pytest.fixture
async def fresh() -> AsyncIterator[MockProvider]:
    """A provider of its own, so that no other test's requests are in its record."""
    server = await start_mock_provider()
    yield server
    await server.close()


async def test_requests_are_listed_newest_first(fresh: MockProvider, http: aiohttp.ClientSession) -> None:
    headers = {"Authorization": "Bearer sk-test", "X-Custom": "1"}
    async with http.post(f"{fresh.url}/v1/embeddings?dim=3", json={"input": "first"}, headers=headers):
        pass
    async with http.post(f"{fresh.url}/v1/chat/completions?mock_status=500", data=b"not json"):
        pass
    async with http.get(f"{fresh.url}/_mock/requests") as resp:
        assert resp.status == 200
        recorded = (await resp.json())["requests"]
    assert [r["path"] for r in recorded] == ["/v1/chat/completions", "/v1/embeddings"]
    older = recorded[1]
    assert older["method"] == "POST"
    assert older["query"] == {"dim": "3"}
    assert older["headers"]["Authorization"] == "Bearer sk-test"
    assert older["headers"]["Host"] == f"127.0.0.1:{fresh.port}"
    assert older["body"] == '{"input": "first"}'
    assert recorded[0]["body"] == "not json"
    assert recorded[0]["seq"] > older["seq"]


async def test_limit_path_filter_and_clear(fresh: MockProvider, http: aiohttp.ClientSession) -> None:
    for text in ("a", "b", "c"):
        async with http.post(f"{fresh.url}/v1/embeddings", json={"input": text}):
            pass
    async with http.post(f"{fresh.url}/v1/embed", json={"texts": ["z"]}):
        pass
    async with http.get(f"{fresh.url}/_mock/requests?limit=2&path=/v1/embeddings") as resp:
        bodies = [r["body"] for r in (await resp.json())["requests"]]
    assert bodies == ['{"input": "c"}', '{"input": "b"}']
    assert [r.path for r in fresh.requests(limit=1)] == ["/v1/embed"]
    async with http.get(f"{fresh.url}/_mock/requests?limit=-1") as resp:
        assert resp.status == 400
    async with http.delete(f"{fresh.url}/_mock/requests") as resp:
        assert (await resp.json()) == {"acknowledged": True}
    assert fresh.requests() == []


async def test_introspection_requests_are_not_recorded(
    fresh: MockProvider, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{fresh.url}/_mock/requests"):
        pass
    assert fresh.requests() == []


async def test_reset_forgets_requests_and_counters(fresh: MockProvider, http: aiohttp.ClientSession) -> None:
    url = f"{fresh.url}/v1/embeddings?mock_fail_times=1&mock_key=k"
    async with http.post(url, json={"input": "a"}) as resp:
        assert resp.status == 503
    fresh.reset()
    assert fresh.requests() == []
    async with http.post(url, json={"input": "a"}) as resp:
        assert resp.status == 503


def test_request_log_is_a_bounded_ring() -> None:
    log = RequestLog(capacity=2)
    for body in (b"1", b"2", b"3"):
        log.add("POST", "/p", [], [], body)
    assert [e.body for e in log.newest()] == ["3", "2"]
    assert log.newest(limit=0) == []


def test_request_log_keeps_undecodable_bodies_readable() -> None:
    log = RequestLog()
    entry = log.add("POST", "/p", [("q", "1")], [("H", "v")], b"\xff\xfe ok")
    assert entry.body.endswith(" ok")
    assert entry.as_json()["query"] == {"q": "1"}
