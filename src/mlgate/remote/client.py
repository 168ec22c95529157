"""The pooled HTTP client for connector calls, and the one place transport failures become RemoteErrors.

One :class:`ConnectorClient` (an aiohttp ClientSession over a bounded keep-alive pool) exists per
connector ``client_config``; :class:`ClientPool` owns them. Every send passes the egress check (its
verdict cached by the resolver until the policy or the host's addresses change), and the shared
:class:`~mlgate.remote.resolver.GuardedResolver` makes the socket go to the address that was checked.
:func:`raise_for_remote_status` applies ML Commons' outcome table to a received response
(ml-commons: ml-algorithms/.../algorithms/remote/MLSdkAsyncHttpResponseHandler.java).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import aiohttp
from yarl import URL

from mlgate.domain.egress import enforce
from mlgate.domain.errors import InvalidRequestError, MlgateError, RemoteError, RemoteTimeoutError
from mlgate.domain.memory_budget import REMOTE_RESPONSE, Lease
from mlgate.domain.request_trace import RequestTrace
from mlgate.remote.client_config import ClientConfig
from mlgate.remote.deadline import Deadlines
from mlgate.remote.mtls import mtls_context
from mlgate.remote.resolver import GuardedResolver
from mlgate.remote.timing import CONNECT_PROBE, ConnectProbe, TimedConnector
from mlgate.remote.transport_errors import describe_client_error, describe_os_error

DEFAULT_MAX_RESPONSE_BYTES = 100_000_000
# Parsed target URLs kept per client (a connector's URL rarely varies; bounded all the same).
_MAX_CACHED_URLS = 256
COMMUNICATION_ERROR = "Error communicating with remote model: "
REMOTE_SERVICE_ERROR = "Error from remote service: "
POOL_EXHAUSTED = (
    "Acquire operation took longer than the configured maximum time. This indicates that a request "
    "cannot get a connection from the pool within the specified maximum time. This can be due to high "
    "request rate. Consider increasing max_connection in the connector client_config or slowing the "
    "request rate."
)
THROTTLED = (
    REMOTE_SERVICE_ERROR + "The request was denied due to remote server throttling. "
    "To change the retry policy and behavior, please update the connector client_config."
)


@dataclass(frozen=True)
class RemoteResponse:
    """A provider's answer as received: status, headers (case-insensitive when from aiohttp), raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def _is_aws_throttling(headers: Mapping[str, str]) -> bool:
    # Iterate items rather than look up: aiohttp headers may repeat the name, plain dicts vary in case.
    return any(
        name.lower() == "x-amzn-errortype" and value.startswith("ThrottlingException")
        for name, value in headers.items()
    )


def remote_failure(resp: RemoteResponse) -> RemoteError | None:
    """The error ML Commons makes of ``resp``, or None when it is a usable success.

    Success is 200–300 inclusive with a non-blank body. ``retryable`` marks AWS throttling, 429 and ≥ 500
    (including the 502 for an empty success body), the failures :mod:`mlgate.remote.retry` retries.
    """
    blank = not resp.body.strip()
    if 200 <= resp.status <= 300:
        if blank:
            return RemoteError("Remote service returned empty response body", status=502, retryable=True)
        return None
    retryable = resp.status == 429 or resp.status >= 500
    if _is_aws_throttling(resp.headers):
        return RemoteError(THROTTLED, status=resp.status, retryable=True)
    if blank:
        message = f"Remote service returned error status {resp.status} with empty body"
    else:
        message = REMOTE_SERVICE_ERROR + resp.body.decode("utf-8", errors="replace")
    return RemoteError(message, status=resp.status, retryable=retryable)


def raise_for_remote_status(resp: RemoteResponse) -> None:
    """Raise :func:`remote_failure`'s error for a failed or empty response; return for a usable success."""
    failure = remote_failure(resp)
    if failure is not None:
        raise failure


def _transport_error(cause: str, status: int | None, *, timeout: bool = False) -> RemoteError:
    # Headers already received: the provider's status; otherwise 500 (the pool's 429 is raised apart).
    error_class = RemoteTimeoutError if timeout else RemoteError
    return error_class(COMMUNICATION_ERROR + cause, status=status or 500, retryable=True)


class ConnectorClient:
    """One pooled aiohttp ClientSession per connector client_config (TCPConnector(limit=max_connection),
    keep-alive, no redirects, timeouts from the config in seconds, GuardedResolver). Pool exhaustion
    (waiting for a connection longer than the connect timeout) ⇒ 429 with ML Commons' text;
    transport errors mapped ONCE to RemoteError/RemoteTimeoutError with 'Error communicating with remote
    model: <cause>' (status as in MLSdkAsyncHttpResponseHandler). Bodies above ``max_response_bytes``
    are refused.

    The pool bound is aiohttp's own (``limit``; its ``connect`` timeout covers the wait for a free
    connection plus the connect); this class only counts requests in flight, to tell a pool wait from a
    slow connect and to close a retired client once its last request is done.
    """

    def __init__(
        self, config: ClientConfig, resolver: GuardedResolver, tls: ssl.SSLContext | None = None
    ) -> None:
        """``tls``: the context of a mutual-TLS connector (else the default verification applies)."""
        self.config = config
        self._resolver = resolver
        self._tls = tls
        self._session: aiohttp.ClientSession | None = None
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._closing = False
        self._urls: dict[str, URL] = {}
        deadline = config.attempt_deadline
        self._deadlines = Deadlines(deadline) if deadline is not None else None

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = TimedConnector(
                limit=self.config.max_connection,
                resolver=self._resolver,
                # The GuardedResolver caches and re-checks; aiohttp's own cache would skip the check.
                use_dns_cache=False,
                ssl=self._tls if self._tls is not None else not self.config.skip_ssl_verification,
            )
            connect = self.config.connection_timeout or None
            timeout = aiohttp.ClientTimeout(
                total=None,
                connect=connect,
                sock_connect=connect,
                sock_read=self.config.read_timeout or None,
            )
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=timeout, auto_decompress=True, trust_env=False
            )
        return self._session

    def _target(self, url: str) -> URL:
        target = self._urls.get(url)
        if target is None:
            # The URL passed the URI check, so send it byte for byte as signed; otherwise let yarl encode.
            target = URL(url, encoded=True) if url.isascii() else URL(url)
            if len(self._urls) >= _MAX_CACHED_URLS:
                self._urls.clear()
            self._urls[url] = target
        return target

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        timing: RequestTrace | None = None,
        lease: Lease | None = None,
    ) -> RemoteResponse:
        """Check egress for ``url``, send the request and read the whole response, charging its bytes
        to ``lease`` (the in-flight budget of the request this call serves) as they arrive.

        Raises InvalidRequestError when egress is refused or the body exceeds ``max_response_bytes``
        (None = unlimited), CircuitBreakingError when the budget cannot take the body, RemoteError(429)
        when no pooled connection frees up within ``connection_timeout``, and RemoteError /
        RemoteTimeoutError for transport failures. A provider's error status is returned, not raised:
        see :func:`raise_for_remote_status`. ``timing`` receives the connection wait, the provider's
        first byte and the body read.
        """
        enforce(await self._resolver.check(url))
        target = self._target(url)
        # Every pooled connection is taken: this request waits for one (bounded by connection_timeout).
        pool_full = self._in_flight >= self.config.max_connection
        self._in_flight += 1
        session = self._open_session()
        status: int | None = None
        probe = ConnectProbe() if timing is not None else None
        probing = CONNECT_PROBE.set(probe)
        sent = time.perf_counter_ns()
        headers_at = 0
        attempt = self._deadlines.start() if self._deadlines is not None else None
        try:
            async with session.request(
                method, target, headers=headers, data=body, allow_redirects=False
            ) as resp:
                status = resp.status
                headers_at = time.perf_counter_ns()
                payload = await read_body(resp, max_response_bytes, lease)
                return RemoteResponse(status, resp.headers, payload)
        except MlgateError:
            raise
        except asyncio.CancelledError:
            if attempt is None or not attempt.expired:
                raise
            # The attempt's deadline cancelled it: the provider kept sending, too slowly to finish.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            raise _transport_error(self.config.deadline_message, status, timeout=True) from None
        except aiohttp.ConnectionTimeoutError:
            if pool_full:
                raise RemoteError(COMMUNICATION_ERROR + POOL_EXHAUSTED, status=429, retryable=True) from None
            cause = f"Connect timed out after {self.config.connection_timeout} seconds"
            raise _transport_error(cause, status, timeout=True) from None
        except (aiohttp.ServerTimeoutError, TimeoutError):
            cause = f"Read timed out after {self.config.read_timeout} seconds"
            raise _transport_error(cause, status, timeout=True) from None
        except aiohttp.ClientError as error:
            raise _transport_error(describe_client_error(error), status) from None
        except OSError as error:
            raise _transport_error(describe_os_error(error), status) from None
        finally:
            CONNECT_PROBE.reset(probing)
            if timing is not None and probe is not None:
                timing.sent(sent, headers_at, time.perf_counter_ns(), probe.ns, pool_full)
            if attempt is not None:
                attempt.finish()
            self._in_flight -= 1
            if self._closing and self._in_flight == 0:
                self._idle.set()
                # A late request (e.g. a retry) on a retired client: do not leave its pool open.
                await self._close_session()

    @property
    def in_flight(self) -> int:
        """Requests sent or waiting for a connection right now."""
        return self._in_flight

    async def close(self) -> None:
        """Wait for requests in flight (bounded by their timeouts), then close the pool.

        A request sent after close still works; its connection pool closes when it completes.
        """
        self._closing = True
        if self._in_flight:
            self._idle.clear()
            await self._idle.wait()
        await self._close_session()

    async def _close_session(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


async def read_body(resp: aiohttp.ClientResponse, limit: int | None, lease: Lease | None) -> bytes:
    """The whole body of ``resp``, refused past ``limit`` bytes and charged to ``lease``: its declared
    length before reading, bytes beyond it (a compressed body grows when decompressed) as they arrive."""
    charged = resp.content_length or 0
    if limit is not None and charged > limit:
        raise _too_large(limit)
    if lease is not None and charged:
        lease.charge(charged, REMOTE_RESPONSE)
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > charged:
            if limit is not None and size > limit:
                raise _too_large(limit)
            if lease is not None:
                lease.charge(size - charged, REMOTE_RESPONSE)
            charged = size
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> InvalidRequestError:
    # ML Commons' max_json_size message: a bigger body could never be parsed anyway.
    return InvalidRequestError(f"JSON string size exceeds maximum allowed size ({limit} bytes)")


class ClientPool:
    """Owns the ConnectorClients, keyed by (connector identity, ClientConfig, certificate material).

    Asking for a key with a new config (or, with mutual TLS, new certificates) retires the key's older
    clients once their requests finish.
    """

    def __init__(self, resolver: GuardedResolver) -> None:
        self._resolver = resolver
        self._clients: dict[tuple[Hashable, ClientConfig, str], ConnectorClient] = {}
        self._retiring: set[asyncio.Task[None]] = set()

    def get(
        self,
        key: Hashable,
        config: ClientConfig,
        credential: Mapping[str, str] | None = None,
        identity: str = "",
    ) -> ConnectorClient:
        """The client for ``key`` under ``config``, created on first use (call from the event loop).

        A mutual-TLS config builds its TLS context from ``credential`` (InvalidRequestError when the
        certificates are missing or unusable); ``identity`` is the credential's ``mtls.tls_identity``,
        computed once by the caller, so a rotated certificate gets a new client.
        """
        client = self._clients.get((key, config, identity))
        if client is not None:
            return client
        tls = None
        if config.mutual_tls_enabled:
            tls = mtls_context(config.skip_ssl_verification, config.keystore_type, credential or {})
        for old_key in [k for k in self._clients if k[0] == key]:
            self._retire(self._clients.pop(old_key))
        client = ConnectorClient(config, self._resolver, tls)
        self._clients[(key, config, identity)] = client
        return client

    def _retire(self, client: ConnectorClient) -> None:
        task = asyncio.ensure_future(client.close())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def drop(self, key: Hashable) -> None:
        """Close every client of ``key`` (e.g. on undeploy or connector update)."""
        dropped = [self._clients.pop(k) for k in [k for k in self._clients if k[0] == key]]
        await asyncio.gather(*(client.close() for client in dropped))

    def usage(self) -> list[tuple[str, int, int]]:
        """(connector key, max_connection, requests in flight) of every open client, for the metrics."""
        return [(str(key[0]), c.config.max_connection, c.in_flight) for key, c in self._clients.items()]

    async def close_all(self) -> None:
        """Close every client, including retiring ones."""
        clients = list(self._clients.values())
        self._clients.clear()
        await asyncio.gather(*(client.close() for client in clients), *self._retiring)
