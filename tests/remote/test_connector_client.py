"""ConnectorClient against real local servers: pooling, timeouts, transport failures, remote outcomes.

ml-commons: MLSdkAsyncHttpResponseHandler (outcomes).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import pytest
from aiohttp import web

from mlgate.domain.egress import EgressPolicy
from mlgate.domain.errors import InvalidRequestError, RemoteError, RemoteTimeoutError
from mlgate.remote.client import (
    POOL_EXHAUSTED,
    THROTTLED,
    ClientPool,
    ConnectorClient,
    RemoteResponse,
    raise_for_remote_status,
    remote_failure,
)
from mlgate.remote.client_config import ClientConfig
from mlgate.remote.resolver import GuardedResolver

JSON = {"Content-Type": "application/json"}
OPEN_POLICY = EgressPolicy(trusted_endpoints=(r"^https?://.*$",), private_ip_enabled=True)

Serve = Callable[[web.Application], Awaitable[str]]
MakeClient = Callable[..., ConnectorClient]


class FixedLookup:
    """A resolver lookup answering from a table (never touches real DNS); records every call."""

    def __init__(self, answers: dict[str, Sequence[str]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def __call__(self, host: str) -> Sequence[str]:
        self.calls.append(host)
        if host not in self.answers:
            raise OSError(-2, "Name or service not known")
        return self.answers[host]


def _app(handler: web.RequestHandler, path: str = "/{tail:.*}") -> web.Application:
    app = web.Application()
    app.router.add_route("*", path, handler)
    return app


async def echo(request: web.Request) -> web.Response:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "path": request.path_qs,
            "host": request.host,
            "body": body.decode(),
            "content_type": request.headers.get("Content-Type"),
            "peer_port": peer[1] if peer else None,
        }
    )


# --- happy path, keep-alive, redirects --------------------------------------------------------------


async def test_send_returns_status_headers_and_body(serve: Serve, make_client: MakeClient) -> None:
    base = await serve(_app(echo))
    client = make_client()
    resp = await client.send("POST", f"{base}/v1/chat?x=1", JSON, b'{"a": 1}')
    assert resp.status == 200
    assert resp.headers["content-type"].startswith("application/json")
    seen = json.loads(resp.body)
    assert seen["method"] == "POST"
    assert seen["path"] == "/v1/chat?x=1"
    assert seen["body"] == '{"a": 1}'
    assert seen["content_type"] == "application/json"
    raise_for_remote_status(resp)


async def test_keep_alive_reuses_the_connection(serve: Serve, make_client: MakeClient) -> None:
    base = await serve(_app(echo))
    client = make_client()
    first = await client.send("GET", f"{base}/a", {}, None)
    second = await client.send("GET", f"{base}/b", {}, None)
    ports = {json.loads(r.body)["peer_port"] for r in (first, second)}
    assert len(ports) == 1


async def test_redirects_are_not_followed(serve: Serve, make_client: MakeClient) -> None:
    hits: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(request.path)
        if request.path == "/start":
            raise web.HTTPFound("/elsewhere")
        return web.Response(text="{}")

    base = await serve(_app(handler))
    resp = await make_client().send("GET", f"{base}/start", {}, None)
    assert resp.status == 302
    assert hits == ["/start"]
    with pytest.raises(RemoteError) as caught:
        raise_for_remote_status(resp)
    assert caught.value.status == 302


# --- pool bound and exhaustion (429 as in MLSdkAsyncHttpResponseHandler) ----------------------------


async def test_max_connection_bounds_concurrency_and_exhaustion_is_429(
    serve: Serve, make_client: MakeClient
) -> None:
    in_flight = 0
    peak = 0
    two_inside = asyncio.Event()
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if in_flight == 2:
            two_inside.set()
        await release.wait()
        in_flight -= 1
        return web.Response(text='{"ok": true}')

    base = await serve(_app(handler))
    client = make_client(ClientConfig(max_connection=2, connection_timeout=0.2, read_timeout=5))
    first = asyncio.create_task(client.send("GET", f"{base}/1", {}, None))
    second = asyncio.create_task(client.send("GET", f"{base}/2", {}, None))
    try:
        await two_inside.wait()
        with pytest.raises(RemoteError) as caught:
            await client.send("GET", f"{base}/3", {}, None)
    finally:
        release.set()
    assert caught.value.status == 429
    assert caught.value.retryable
    assert caught.value.message == "Error communicating with remote model: " + POOL_EXHAUSTED
    assert "Acquire operation took longer than the configured maximum time" in caught.value.message
    assert [r.status for r in await asyncio.gather(first, second)] == [200, 200]
    assert peak == 2
    # The pool is usable again once connections are free.
    assert (await client.send("GET", f"{base}/4", {}, None)).status == 200


# --- timeouts ---------------------------------------------------------------------------------------


@pytest.fixture
def full_backlog_port() -> AsyncIterator[int]:
    """A listening port whose accept queue is full, so a new connect never completes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for sock in [*fillers, listener]:
        sock.close()


async def test_connect_timeout(full_backlog_port: int, make_client: MakeClient) -> None:
    client = make_client(ClientConfig(connection_timeout=0.2))
    with pytest.raises(RemoteTimeoutError) as caught:
        await client.send("GET", f"http://127.0.0.1:{full_backlog_port}/", {}, None)
    assert caught.value.status == 500
    assert (
        caught.value.message == "Error communicating with remote model: Connect timed out after 0.2 seconds"
    )


async def test_read_timeout_before_headers_is_500(serve: Serve, make_client: MakeClient) -> None:
    never = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        await never.wait()
        return web.Response()

    base = await serve(_app(handler))
    try:
        with pytest.raises(RemoteTimeoutError) as caught:
            await make_client(ClientConfig(read_timeout=0.2)).send("GET", f"{base}/", {}, None)
    finally:
        never.set()
    assert caught.value.status == 500
    assert caught.value.retryable
    assert caught.value.message == "Error communicating with remote model: Read timed out after 0.2 seconds"


async def test_read_timeout_after_headers_keeps_the_remote_status(
    serve: Serve, make_client: MakeClient
) -> None:
    never = asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=201)
        await resp.prepare(request)
        await resp.write(b'{"partial": ')
        await never.wait()
        return resp

    base = await serve(_app(handler))
    try:
        with pytest.raises(RemoteTimeoutError) as caught:
            await make_client(ClientConfig(read_timeout=0.2)).send("GET", f"{base}/", {}, None)
    finally:
        never.set()
    assert caught.value.status == 201
    assert caught.value.message.startswith("Error communicating with remote model: Read timed out")


# --- transport failures -----------------------------------------------------------------------------


async def test_connection_refused_is_500(make_client: MakeClient) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(RemoteError) as caught:
        await make_client().send("GET", f"http://127.0.0.1:{port}/", {}, None)
    assert type(caught.value) is RemoteError
    assert caught.value.status == 500
    assert caught.value.message.startswith("Error communicating with remote model: Cannot connect to host")


async def _raw_server(on_connect: object) -> AsyncIterator[int]:
    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)  # type: ignore[arg-type]
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


@pytest.fixture
async def resetting_port() -> AsyncIterator[int]:
    """A server that reads the request line and then resets the connection."""

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.transport.abort()

    async for port in _raw_server(on_connect):
        yield port


async def test_connection_reset_is_500(resetting_port: int, make_client: MakeClient) -> None:
    with pytest.raises(RemoteError) as caught:
        await make_client().send("POST", f"http://127.0.0.1:{resetting_port}/", JSON, b"{}")
    assert caught.value.status == 500
    assert caught.value.retryable
    assert caught.value.message.startswith("Error communicating with remote model: ")
    assert len(caught.value.message) > len("Error communicating with remote model: ")


@pytest.fixture
async def truncating_port() -> AsyncIterator[int]:
    """A server that promises 100 bytes, sends 5 and closes."""

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"a":')
        await writer.drain()
        writer.close()

    async for port in _raw_server(on_connect):
        yield port


async def test_body_cut_short_keeps_the_remote_status(truncating_port: int, make_client: MakeClient) -> None:
    with pytest.raises(RemoteError) as caught:
        await make_client().send("GET", f"http://127.0.0.1:{truncating_port}/", {}, None)
    assert caught.value.status == 200
    assert caught.value.message.startswith("Error communicating with remote model: ")


# --- response size ----------------------------------------------------------------------------------


async def test_oversize_bodies_are_refused(serve: Serve, make_client: MakeClient) -> None:
    async def sized(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 100)

    async def chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for _ in range(10):
            await resp.write(b"y" * 10)
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/sized", sized)
    app.router.add_get("/chunked", chunked)
    base = await serve(app)
    client = make_client()
    for path in ("/sized", "/chunked"):
        with pytest.raises(InvalidRequestError) as caught:
            await client.send("GET", f"{base}{path}", {}, None, max_response_bytes=99)
        assert caught.value.message == "JSON string size exceeds maximum allowed size (99 bytes)"
        exact = await client.send("GET", f"{base}{path}", {}, None, max_response_bytes=100)
        assert len(exact.body) == 100
        unlimited = await client.send("GET", f"{base}{path}", {}, None, max_response_bytes=None)
        assert len(unlimited.body) == 100


# --- ML Commons' outcome table over real responses --------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected_status", "message", "retryable"),
    [
        (401, b'{"error": "bad key"}', {}, 401, 'Error from remote service: {"error": "bad key"}', False),
        (404, b"not here", {}, 404, "Error from remote service: not here", False),
        (429, b"slow down", {}, 429, "Error from remote service: slow down", True),
        (503, b"", {}, 503, "Remote service returned error status 503 with empty body", True),
        (400, b"  \n", {}, 400, "Remote service returned error status 400 with empty body", False),
        (200, b"", {}, 502, "Remote service returned empty response body", True),
        (204, b"", {}, 502, "Remote service returned empty response body", True),
        (
            400,
            b'{"message": "Rate exceeded"}',
            {"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/"},
            400,
            THROTTLED,
            True,
        ),
        (
            503,
            b"",
            {"X-Amzn-ErrorType": "ThrottlingException"},
            503,
            "Error from remote service: The request was denied due to remote server throttling. "
            "To change the retry policy and behavior, please update the connector client_config.",
            True,
        ),
        (400, b"x", {"x-amzn-ErrorType": "ValidationException"}, 400, "Error from remote service: x", False),
    ],
)
async def test_remote_outcomes(
    serve: Serve,
    make_client: MakeClient,
    status: int,
    body: bytes,
    headers: dict[str, str],
    expected_status: int,
    message: str,
    retryable: bool,
) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, headers=headers)

    base = await serve(_app(handler))
    resp = await make_client().send("POST", f"{base}/", JSON, b"{}")
    assert resp.status == status
    with pytest.raises(RemoteError) as caught:
        raise_for_remote_status(resp)
    assert type(caught.value) is RemoteError
    assert (caught.value.status, caught.value.message, caught.value.retryable) == (
        expected_status,
        message,
        retryable,
    )


@pytest.mark.parametrize("status", [200, 201, 299, 300])
def test_success_range_is_200_to_300_inclusive(status: int) -> None:
    assert remote_failure(RemoteResponse(status, {}, b"{}")) is None


def test_error_reason_carries_only_the_provider_body() -> None:
    resp = RemoteResponse(500, {"x-secret": "sk-123"}, b"\xffoops")
    failure = remote_failure(resp)
    assert failure is not None
    assert failure.message == "Error from remote service: \ufffdoops"
    assert "sk-123" not in failure.message


# --- egress at send time ----------------------------------------------------------------------------


async def test_send_refuses_private_destinations_before_connecting(
    serve: Serve, make_client: MakeClient
) -> None:
    hits: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text="{}")

    base = await serve(_app(handler))
    client = make_client(policy=EgressPolicy(trusted_endpoints=(r"^http://.*$",)))
    with pytest.raises(InvalidRequestError) as caught:
        await client.send("GET", f"{base}/", {}, None)
    assert caught.value.message == "Remote inference host name has private ip address: 127.0.0.1"
    assert hits == []


async def test_send_refuses_untrusted_urls(make_client: MakeClient) -> None:
    client = make_client(policy=EgressPolicy(trusted_endpoints=(r"^https://api\.openai\.com/.*$",)))
    with pytest.raises(InvalidRequestError) as caught:
        await client.send("GET", "http://127.0.0.1:1/", {}, None)
    assert caught.value.message == "Connector URL is not matching the trusted connector endpoint regex"


async def test_policy_changes_apply_to_the_next_send(serve: Serve, make_client: MakeClient) -> None:
    base = await serve(_app(echo))
    current = [OPEN_POLICY]
    client = make_client(resolver=GuardedResolver(lambda: current[0]))
    assert (await client.send("GET", f"{base}/", {}, None)).status == 200
    current[0] = EgressPolicy(trusted_endpoints=OPEN_POLICY.trusted_endpoints)
    with pytest.raises(InvalidRequestError, match="private ip address"):
        await client.send("GET", f"{base}/", {}, None)


async def test_host_names_connect_to_the_checked_address(serve: Serve, make_client: MakeClient) -> None:
    base = await serve(_app(echo))
    port = int(base.rsplit(":", 1)[1])
    lookup = FixedLookup({"provider.test": ["127.0.0.1"]})
    client = make_client(resolver=GuardedResolver(lambda: OPEN_POLICY, lookup=lookup))
    first = await client.send("GET", f"http://provider.test:{port}/x", {}, None)
    second = await client.send("GET", f"http://provider.test:{port}/y", {}, None)
    assert json.loads(first.body)["host"] == f"provider.test:{port}"
    assert second.status == 200
    # One lookup serves the check and the connect of both requests (TTL cache).
    assert lookup.calls == ["provider.test"]


async def test_rebinding_after_the_ttl_is_checked_again(serve: Serve, make_client: MakeClient) -> None:
    base = await serve(_app(echo))
    port = int(base.rsplit(":", 1)[1])
    now = [0.0]
    lookup = FixedLookup({"provider.test": ["127.0.0.1"]})
    policy = EgressPolicy(OPEN_POLICY.trusted_endpoints, True, restricted_ip_patterns=(r"127\.0\.0\.2",))
    resolver = GuardedResolver(lambda: policy, lookup=lookup, ttl=5, clock=lambda: now[0])
    client = make_client(ClientConfig(), resolver=resolver)
    assert (await client.send("GET", f"http://provider.test:{port}/", {}, None)).status == 200
    lookup.answers["provider.test"] = ["127.0.0.2"]
    # Within the TTL the checked answer is still the one used.
    assert (await client.send("GET", f"http://provider.test:{port}/", {}, None)).status == 200
    now[0] = 6.0
    with pytest.raises(InvalidRequestError) as caught:
        await client.send("GET", f"http://provider.test:{port}/", {}, None)
    assert caught.value.message == "Remote inference host name has restricted ip address: provider.test"
    assert lookup.calls == ["provider.test", "provider.test"]


async def test_unresolvable_host_is_500(make_client: MakeClient) -> None:
    resolver = GuardedResolver(lambda: OPEN_POLICY, lookup=FixedLookup({}))
    with pytest.raises(RemoteError) as caught:
        await make_client(resolver=resolver).send("GET", "http://nowhere.test/", {}, None)
    assert caught.value.status == 500
    assert (
        caught.value.message
        == "Error communicating with remote model: nowhere.test: Name or service not known"
    )


# --- ClientPool -------------------------------------------------------------------------------------


async def test_client_pool_reuses_and_replaces_clients(serve: Serve) -> None:
    base = await serve(_app(echo))
    pool = ClientPool(GuardedResolver(lambda: OPEN_POLICY))
    try:
        small = ClientConfig(max_connection=1)
        first = pool.get("connector-a", small)
        assert pool.get("connector-a", ClientConfig(max_connection=1)) is first
        assert (await first.send("GET", f"{base}/", {}, None)).status == 200
        other = pool.get("connector-b", small)
        assert other is not first
        replaced = pool.get("connector-a", ClientConfig(max_connection=2))
        assert replaced is not first
        assert replaced.config.max_connection == 2
        assert (await replaced.send("GET", f"{base}/", {}, None)).status == 200
        await pool.drop("connector-b")
        assert pool.get("connector-b", small) is not other
    finally:
        await pool.close_all()


async def test_close_waits_for_requests_in_flight(serve: Serve, make_client: MakeClient) -> None:
    entered = asyncio.Event()
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        entered.set()
        await release.wait()
        return web.Response(text="{}")

    base = await serve(_app(handler))
    client = make_client()
    pending = asyncio.create_task(client.send("GET", f"{base}/", {}, None))
    await entered.wait()
    closing = asyncio.create_task(client.close())
    await asyncio.sleep(0)
    assert not closing.done()
    release.set()
    assert (await pending).status == 200
    await closing


async def test_the_connect_time_check_refuses_even_after_a_passing_pre_check(
    serve: Serve, make_client: MakeClient
) -> None:
    hits: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text="{}")

    base = await serve(_app(handler))
    port = int(base.rsplit(":", 1)[1])
    # The policy tightens between the pre-send check and the connect (first call: open; then: closed).
    policies = iter([OPEN_POLICY])

    def policy() -> EgressPolicy:
        return next(policies, EgressPolicy(OPEN_POLICY.trusted_endpoints))

    lookup = FixedLookup({"provider.test": ["127.0.0.1"]})
    client = make_client(resolver=GuardedResolver(policy, lookup=lookup))
    with pytest.raises(InvalidRequestError) as caught:
        await client.send("GET", f"http://provider.test:{port}/", {}, None)
    assert caught.value.message == "Remote inference host name has private ip address: provider.test"
    assert hits == []


async def test_a_late_request_on_a_closed_client_works_and_leaves_no_pool_open(
    serve: Serve, make_client: MakeClient
) -> None:
    base = await serve(_app(echo))
    client = make_client()
    assert (await client.send("GET", f"{base}/", {}, None)).status == 200
    await client.close()
    assert (await client.send("GET", f"{base}/", {}, None)).status == 200
    assert client._session is None
