"""Small real HTTP servers on 127.0.0.1 and client factories for the outbound-edge tests."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from mlgate.domain.egress import EgressPolicy
from mlgate.remote.client import ConnectorClient
from mlgate.remote.client_config import ClientConfig
from mlgate.remote.resolver import GuardedResolver

OPEN_POLICY = EgressPolicy(trusted_endpoints=(r"^https?://.*$",), private_ip_enabled=True)

Serve = Callable[..., Awaitable[str]]
MakeClient = Callable[..., ConnectorClient]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start an aiohttp app on 127.0.0.1, port 0; returns its base URL ``http://127.0.0.1:<port>``
    (``https://`` when started with a server ``ssl_context``)."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> str:
        runner = web.AppRunner(app, shutdown_timeout=0.5)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context).start()
        runners.append(runner)
        scheme = "https" if ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    """Build ConnectorClients (closed at teardown) over a GuardedResolver with a given policy."""
    clients: list[ConnectorClient] = []

    def make(
        config: ClientConfig | None = None,
        *,
        policy: EgressPolicy = OPEN_POLICY,
        resolver: GuardedResolver | None = None,
    ) -> ConnectorClient:
        client = ConnectorClient(config or ClientConfig(), resolver or GuardedResolver(lambda: policy))
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
