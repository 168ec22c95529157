"""Fault injection through ``mock_*`` query parameters, on real connections."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import orjson
import pytest

from mlgate.mockprovider import MockProvider
from mlgate.mockprovider.faults import PLAIN_TEXT_BODY

EMBED = {"input": ["a", "b"]}
TITAN = {"inputText": "hello"}


@pytest.mark.parametrize(
    ("path", "body", "check"),
    [
        ("/v1/embeddings", EMBED, lambda b: b["error"]["type"] == "invalid_request_error"),
        ("/v1/embed", {"texts": ["a"]}, lambda b: "status 401" in b["message"]),
        ("/model/m/invoke", TITAN, lambda b: set(b) == {"message"}),
    ],
)
async def test_mock_status_gives_a_provider_style_error(
    provider: MockProvider, http: aiohttp.ClientSession, path: str, body: object, check: object
) -> None:
    async with http.post(f"{provider.url}{path}?mock_status=401", json=body) as resp:
        assert resp.status == 401
        payload = await resp.json()
    assert callable(check) and check(payload)


async def test_openai_rate_limit_and_aws_error_type(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{provider.url}/v1/chat/completions?mock_status=429", json={}) as resp:
        assert resp.status == 429
        assert (await resp.json())["error"]["code"] == "rate_limit_exceeded"
    async with http.post(f"{provider.url}/endpoints/e/invocations?mock_status=503", json=["a"]) as resp:
        assert resp.status == 503
        assert resp.headers["x-amzn-ErrorType"].startswith("ServiceUnavailableException:")


async def test_mock_throttle(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{provider.url}/model/m/invoke?mock_throttle=1", json=TITAN) as resp:
        assert resp.status == 400
        assert resp.headers["x-amzn-ErrorType"].startswith("ThrottlingException:")
        assert (await resp.json())["message"] == "Rate exceeded"
    async with http.post(
        f"{provider.url}/model/m/invoke?mock_throttle=1&mock_status=429", json=TITAN
    ) as resp:
        assert resp.status == 429
        assert resp.headers["x-amzn-ErrorType"].startswith("ThrottlingException:")


async def test_mock_fail_times_fails_then_succeeds(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    url = f"{provider.url}/v1/embeddings?mock_fail_times=2&mock_key=retry-503"
    statuses = []
    for _ in range(4):
        async with http.post(url, json=EMBED) as resp:
            statuses.append(resp.status)
            await resp.read()
    assert statuses == [503, 503, 200, 200]


async def test_mock_fail_times_with_throttling_and_counter_reset(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    url = f"{provider.url}/model/m/invoke?mock_fail_times=1&mock_key=retry-throttle&mock_throttle=1"
    async with http.post(url, json=TITAN) as resp:
        assert resp.headers["x-amzn-ErrorType"].startswith("ThrottlingException")
    async with http.post(url, json=TITAN) as resp:
        assert resp.status == 200
    async with http.delete(f"{provider.url}/_mock/counters") as resp:
        assert resp.status == 200
    async with http.post(url, json=TITAN) as resp:
        assert resp.status == 400


async def test_mock_reset_aborts_the_connection(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    with pytest.raises(aiohttp.ClientConnectionError):
        async with http.post(f"{provider.url}/v1/embeddings?mock_reset=1", json=EMBED) as resp:
            await resp.read()
    # The server itself is unharmed.
    async with http.post(f"{provider.url}/v1/embeddings", json=EMBED) as resp:
        assert resp.status == 200


async def test_mock_body_empty(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{provider.url}/v1/embeddings?mock_body=empty", json=EMBED) as resp:
        assert resp.status == 200
        assert await resp.read() == b""
    async with http.post(f"{provider.url}/v1/embeddings?mock_body=empty&mock_status=500", json=EMBED) as resp:
        assert resp.status == 500
        assert await resp.read() == b""


async def test_mock_body_text(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    chat = {"messages": [{"role": "user", "content": "hi"}]}
    async with http.post(f"{provider.url}/v1/chat/completions?mock_body=text", json=chat) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/plain"
        assert await resp.read() == PLAIN_TEXT_BODY


async def test_mock_body_invalid_is_truncated_json(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{provider.url}/v1/embeddings", json=EMBED) as resp:
        full = await resp.read()
    async with http.post(f"{provider.url}/v1/embeddings?mock_body=invalid", json=EMBED) as resp:
        assert resp.status == 200
        broken = await resp.read()
    assert full.startswith(broken)
    assert len(broken) < len(full)
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken)


async def test_mock_body_huge(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    async with http.post(
        f"{provider.url}/v1/embeddings?mock_body=huge&mock_huge_bytes=2000000", json=EMBED
    ) as resp:
        assert resp.status == 200
        data = await resp.read()
    assert len(data) > 2_000_000
    payload = orjson.loads(data)
    assert len(payload["data"]) == 2  # still the real answer, plus padding
    async with http.post(f"{provider.url}/endpoints/e/invocations?mock_body=huge", json=["a"]) as resp:
        payload = orjson.loads(await resp.read())
    assert len(payload["mock_padding"]) == 4 * 1024 * 1024
    assert len(payload["response"]) == 1


async def test_mock_delay_ms_delays_the_headers(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{provider.url}/v1/embeddings?mock_delay_ms=5", json=EMBED) as resp:
        assert resp.status == 200
    with pytest.raises(asyncio.TimeoutError):
        timeout = aiohttp.ClientTimeout(total=0.2)
        async with http.post(
            f"{provider.url}/v1/embeddings?mock_delay_ms=30000", json=EMBED, timeout=timeout
        ) as resp:
            await resp.read()


async def test_mock_slow_body_sends_headers_then_trickles(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{provider.url}/v1/embeddings", json=EMBED) as resp:
        full = await resp.read()
    async with http.post(f"{provider.url}/v1/embeddings?mock_slow_body_ms=20", json=EMBED) as resp:
        assert resp.status == 200
        assert resp.content_length == len(full)
        assert await resp.read() == full
    # Headers arrive at once; the body does not arrive within the read timeout.
    timeout = aiohttp.ClientTimeout(sock_read=0.2)
    async with http.post(
        f"{provider.url}/v1/embeddings?mock_slow_body_ms=60000", json=EMBED, timeout=timeout
    ) as resp:
        assert resp.status == 200
        with pytest.raises(asyncio.TimeoutError):
            await resp.read()


@pytest.mark.parametrize("chunked", [False, True])
async def test_mock_trickle_sends_the_body_slowly_but_never_silent(
    provider: MockProvider, http: aiohttp.ClientSession, chunked: bool
) -> None:
    async with http.post(f"{provider.url}/v1/embeddings", json=EMBED) as resp:
        full = await resp.read()
    query = "mock_trickle_ms=1" + ("&mock_chunked=1" if chunked else "")
    async with http.post(f"{provider.url}/v1/embeddings?{query}", json=EMBED) as resp:
        assert resp.status == 200
        assert resp.content_length == (None if chunked else len(full))
        assert (resp.headers.get("Transfer-Encoding") == "chunked") is chunked
        assert await resp.read() == full
    # Never silent for long: a short idle timeout does not end a trickle that lasts much longer.
    timeout = aiohttp.ClientTimeout(sock_read=5, total=0.5)
    with pytest.raises(asyncio.TimeoutError) as caught:
        async with http.post(
            f"{provider.url}/v1/embeddings?mock_trickle_ms=100", json=EMBED, timeout=timeout
        ) as resp:
            await resp.read()
    assert not isinstance(caught.value, aiohttp.ServerTimeoutError)


async def test_mock_slow_headers_trickles_the_head(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{provider.url}/v1/embeddings", json=EMBED) as resp:
        full = await resp.read()
    async with http.post(f"{provider.url}/v1/embeddings?mock_slow_headers_ms=1", json=EMBED) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        assert await resp.read() == full
    with pytest.raises(asyncio.TimeoutError):
        timeout = aiohttp.ClientTimeout(total=0.3)
        async with http.post(
            f"{provider.url}/v1/embeddings?mock_slow_headers_ms=100", json=EMBED, timeout=timeout
        ) as resp:
            await resp.read()


async def test_bad_knob_values_are_rejected(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    for query in (
        "mock_status=abc",
        "mock_status=42",
        "mock_body=weird",
        "mock_reset=yes",
        "mock_delay_ms=-1",
        "mock_trickle_ms=x",
        "mock_chunked=2",
        "mock_slow_headers_ms=-5",
    ):
        async with http.post(f"{provider.url}/v1/embeddings?{query}", json=EMBED) as resp:
            assert resp.status == 400, query
            assert query.split("=")[0] in (await resp.json())["message"]


async def test_faults_apply_to_unknown_paths_too(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{provider.url}/no/such/route?mock_status=502", json={}) as resp:
        assert resp.status == 502
    async with http.get(f"{provider.url}/no/such/route") as resp:
        assert resp.status == 404
        assert "/no/such/route" in (await resp.json())["message"]
