"""Each provider call attempt ends by connection_timeout + read_timeout, however the provider dribbles;
a transport failure is told in words, never as a repr of the HTTP client's internals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from mlgate.mockprovider import MockProvider
from tests.conftest import assert_error
from tests.engine.support import chat_path, predict
from tests.engine.test_remote_failures import BODY, COMMUNICATION, failing_model

DEADLINE = COMMUNICATION + "Request did not complete within 3 seconds (connection_timeout + read_timeout)"
# A byte every 100 ms never leaves the connection idle for read_timeout (2 s: room for a busy machine's
# stalls); the reply would take half a minute.
CONFIG = {"connection_timeout": 1, "read_timeout": 2}
TRICKLES = ["mock_trickle_ms=100", "mock_trickle_ms=100&mock_chunked=1", "mock_slow_headers_ms=100"]


@pytest.mark.parametrize("fault", TRICKLES)
async def test_a_trickling_provider_meets_the_deadline(
    loopback: httpx.AsyncClient, provider: MockProvider, fault: str
) -> None:
    model_id = await failing_model(loopback, f"{provider.url}{chat_path()}?{fault}", CONFIG)
    assert_error(await predict(loopback, model_id, BODY), 500, "status_exception", DEADLINE)


async def test_each_retry_attempt_has_its_own_deadline(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    path = chat_path()
    config = {**CONFIG, "max_retry_times": 1, "retry_backoff_millis": 1}
    model_id = await failing_model(loopback, f"{provider.url}{path}?mock_trickle_ms=100", config)
    assert_error(await predict(loopback, model_id, BODY), 500, "status_exception", DEADLINE)
    assert len(provider.requests(path=path)) == 2


# Replies no HTTP client should accept, each with what the predict error says about it.
BROKEN_REPLIES = {
    "headers cut short": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Le",
        "Server disconnected before the response was complete",
    ),
    "body cut short": (
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":',
        "Response payload is not completed",
    ),
    "not HTTP": (b"NOT HTTP AT ALL\r\n\r\n", "Invalid HTTP response from remote model: Bad status line"),
    "bad header": (
        b"HTTP/1.1 200 OK\r\nX-\x01Bad: v\r\n\r\n",
        "Invalid HTTP response from remote model: Invalid header token",
    ),
    "bad chunk": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n",
        "Invalid HTTP response from remote model: Invalid character in chunk size",
    ),
}


@pytest.fixture
async def broken_provider() -> AsyncIterator[str]:
    """Answers every request with the raw bytes of ``BROKEN_REPLIES[<first path segment>]``, then closes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_line = await reader.readline()
        case = request_line.split(b" ")[1].split(b"/")[1].decode().replace("%20", " ")
        await reader.readuntil(b"\r\n\r\n")
        writer.write(BROKEN_REPLIES[case][0])
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    server.close()
    await server.wait_closed()


@pytest.mark.parametrize("case", BROKEN_REPLIES)
async def test_a_broken_reply_is_described_in_words(
    loopback: httpx.AsyncClient, broken_provider: str, case: str
) -> None:
    model_id = await failing_model(loopback, f"{broken_provider}/{case.replace(' ', '%20')}/v1")
    response = await predict(loopback, model_id, BODY)
    assert_error(response, 500, "status_exception", COMMUNICATION + BROKEN_REPLIES[case][1])
    assert "<" not in response.text and "RawResponseMessage" not in response.text
