"""Canned answers: :meth:`MockProvider.answer_next` replaces a route's shape for the next requests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from mlgate.mockprovider import MockProvider, start_mock_provider


@pytest.fixture
async def fresh() -> AsyncIterator[MockProvider]:
    """A provider of its own: canned answers are per server."""
    server = await start_mock_provider()
    yield server
    await server.close()


async def test_canned_answers_are_taken_in_order_on_any_path(
    fresh: MockProvider, http: aiohttp.ClientSession
) -> None:
    fresh.answer_next({"first": 1}, [2])
    async with http.post(f"{fresh.url}/v1/embeddings", json={"input": "x"}) as resp:
        assert resp.status == 200
        assert await resp.json() == {"first": 1}
    async with http.post(f"{fresh.url}/no/such/route", json={}) as resp:
        assert resp.status == 200
        assert await resp.json() == [2]
    assert fresh.unused_answers() == 0
    # Queue empty again: the route's own shape answers.
    async with http.post(f"{fresh.url}/v1/embeddings", json={"input": "x"}) as resp:
        assert (await resp.json())["object"] == "list"


async def test_refused_requests_and_faults_win_over_canned_answers(
    fresh: MockProvider, http: aiohttp.ClientSession
) -> None:
    fresh.answer_next({"kept": True})
    async with http.post(f"{fresh.url}/v1/embeddings", data=b"{not json") as resp:
        assert resp.status == 400
    async with http.post(f"{fresh.url}/v1/embeddings", json={"no_input": "x"}) as resp:
        assert resp.status == 400  # the route's shape still checks the request
    async with http.post(f"{fresh.url}/v1/embeddings?mock_status=503", json={"input": "x"}) as resp:
        assert resp.status == 503
    assert fresh.unused_answers() == 1
    fresh.reset()
    assert fresh.unused_answers() == 0
