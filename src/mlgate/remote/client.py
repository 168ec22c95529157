"""The pooled HTTP client for connector calls, and the one place transport failures become RemoteErrors.

One :class:`ConnectorClient` (an aiohttp ClientSession over a bounded keep-alive pool) exists per
connector ``client_config``; :class:`ClientPool` owns them. Every send passes the egress check (its
verdict cached by the resolver until the policy or the host's addresses change), and the shared
:class:`~mlgate.remote.resolver.GuardedResolver` makes the socket go to the address that was checked.
:func:`raise_for_remote_status` applies the §7.14 outcome table to a received response.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import ssl
import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import aiohttp
from yarl import URL

from mlgate.domain.egress import enforce
from mlgate.domain.errors import InvalidRequestError, MlgateError, RemoteError, RemoteTimeoutError
from mlgate.domain.request_trace import RequestTrace
from mlgate.remote.mtls import mtls_context
from mlgate.remote.resolver import GuardedResolver
from mlgate.remote.timing import CONNECT_PROBE, ConnectProbe, TimedConnector

RETRY_BACKOFF_POLICIES = ("constant", "exponential_equal_jitter", "exponential_full_jitter")
DEFAULT_MAX_RESPONSE_BYTES = 100_000_000
# The pool of a connector WITHOUT client_config. ML Commons' 30 (the default when client_config is given)
# is per node of a cluster that usually has several; one mlgate worker holding only 30 connections caps a
# 50 ms provider at 600 req/s. 512 stays well inside a default 1,024-descriptor limit.
IMPLICIT_MAX_CONNECTION = 512
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


def _int_field(name: str, value: Any, minimum: int) -> int:
    # Like OpenSearch's XContentParser.intValue(): numbers (truncated) and numeric strings.
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = float(value.strip())
    if number is None or not math.isfinite(number) or abs(number) >= 2**31:
        raise InvalidRequestError(f"client_config.{name} must be an integer")
    if int(number) < minimum:
        raise InvalidRequestError(f"client_config.{name} must be at least {minimum}")
    return int(number)


def _bool_field(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise InvalidRequestError(f"client_config.{name} must be true or false")


@dataclass(frozen=True)
class ClientConfig:
    """A connector's ``client_config`` (§4.3) with HEAD defaults; timeouts in seconds (0 = none).

    ``connection_timeout`` bounds both the TCP/TLS connect and the wait for a free pooled connection;
    ``read_timeout`` bounds each wait for data from the provider. ``mutual_tls_enabled`` presents the
    client certificate of the connector's credential (``keystore_type`` PEM or PKCS12; remote/mtls.py).
    """

    max_connection: int = 30
    connection_timeout: float = 30
    read_timeout: float = 30
    retry_backoff_millis: int = 200
    retry_timeout_seconds: int = 30
    max_retry_times: int = 0
    retry_backoff_policy: str = "constant"
    skip_ssl_verification: bool = False
    mutual_tls_enabled: bool = False
    keystore_type: str | None = None

    _MINIMUMS: ClassVar[dict[str, int]] = {
        "max_connection": 1,
        "connection_timeout": 0,
        "read_timeout": 0,
        "retry_backoff_millis": 0,
        "retry_timeout_seconds": 0,
        "max_retry_times": -1,
    }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ClientConfig:
        """Parse a ``client_config`` object; missing or null fields take their defaults.

        Unknown fields are ignored as in ML Commons. Raises InvalidRequestError for wrong types, values
        below their minimum, and ``"Unsupported retry backoff policy"``.
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise InvalidRequestError("client_config must be an object")
        values: dict[str, Any] = {}
        for name, minimum in cls._MINIMUMS.items():
            if data.get(name) is not None:
                values[name] = _int_field(name, data[name], minimum)
        for name in ("skip_ssl_verification", "mutual_tls_enabled"):
            if data.get(name) is not None:
                values[name] = _bool_field(name, data[name])
        policy = data.get("retry_backoff_policy")
        if policy is not None:
            if not isinstance(policy, str) or policy.lower() not in RETRY_BACKOFF_POLICIES:
                raise InvalidRequestError("Unsupported retry backoff policy")
            values["retry_backoff_policy"] = policy.lower()
        keystore_type = data.get("keystore_type")
        if keystore_type is not None:
            if not isinstance(keystore_type, str):
                raise InvalidRequestError("client_config.keystore_type must be a string")
            values["keystore_type"] = keystore_type
        return cls(**values)

    @classmethod
    def for_connector(cls, data: Mapping[str, Any] | None) -> ClientConfig:
        """The config a connector runs with: its ``client_config``, or when it has none the implicit one
        (ML Commons' defaults with a pool of :data:`IMPLICIT_MAX_CONNECTION`; see docs/api.md)."""
        if data is None:
            return IMPLICIT_CLIENT_CONFIG
        return cls.from_json(data)

    def to_json(self) -> dict[str, Any]:
        """The complete object as GET returns it (``keystore_type`` only when set)."""
        out = {field.name: getattr(self, field.name) for field in fields(self)}
        if self.keystore_type is None:
            del out["keystore_type"]
        return out


IMPLICIT_CLIENT_CONFIG = ClientConfig(max_connection=IMPLICIT_MAX_CONNECTION)


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
    """The error §7.14 makes of ``resp``, or None when it is a usable success.

    Success is 200–300 inclusive with a non-blank body. ``retryable`` marks AWS throttling, 429 and ≥ 500
    (including the 502 for an empty success body), the failures §7.12 retries.
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
    """Raise the §7.14 RemoteError for a failed or empty response; return for a usable success."""
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
    (waiting for a connection longer than the connect timeout) ⇒ 429 with the spec text;
    transport errors mapped ONCE to RemoteError/RemoteTimeoutError with 'Error communicating with remote
    model: <cause>' (status per §7.14). Bodies above ``max_response_bytes`` are refused.

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
    ) -> RemoteResponse:
        """Check egress for ``url``, send the request and read the whole response.

        Raises InvalidRequestError when egress is refused or the body exceeds ``max_response_bytes``
        (None = unlimited), RemoteError(429) when no pooled connection frees up within
        ``connection_timeout``, and RemoteError / RemoteTimeoutError for transport failures. A
        provider's error status is returned, not raised: see :func:`raise_for_remote_status`.
        ``timing`` receives the connection wait, the provider's first byte and the body read.
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
        try:
            async with session.request(
                method, target, headers=headers, data=body, allow_redirects=False
            ) as resp:
                status = resp.status
                headers_at = time.perf_counter_ns()
                payload = await _read_body(resp, max_response_bytes)
                return RemoteResponse(status, resp.headers, payload)
        except MlgateError:
            raise
        except aiohttp.ConnectionTimeoutError:
            if pool_full:
                raise RemoteError(COMMUNICATION_ERROR + POOL_EXHAUSTED, status=429, retryable=True) from None
            cause = f"Connect timed out after {self.config.connection_timeout} seconds"
            raise _transport_error(cause, status, timeout=True) from None
        except (aiohttp.ServerTimeoutError, TimeoutError):
            cause = f"Read timed out after {self.config.read_timeout} seconds"
            raise _transport_error(cause, status, timeout=True) from None
        except aiohttp.ClientError as error:
            raise _transport_error(str(error) or type(error).__name__, status) from None
        except OSError as error:
            raise _transport_error(str(error), status) from None
        finally:
            CONNECT_PROBE.reset(probing)
            if timing is not None and probe is not None:
                timing.sent(sent, headers_at, time.perf_counter_ns(), probe.ns, pool_full)
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


async def _read_body(resp: aiohttp.ClientResponse, limit: int | None) -> bytes:
    declared = resp.content_length
    if limit is not None and declared is not None and declared > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if limit is not None and size > limit:
            raise _too_large(limit)
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
