"""How long a provider call waited for its connection: a TCPConnector that times ``connect``.

aiohttp's tracing signals would tell the same, but cost every request several awaited signal sends;
this costs two clock reads, and only for a send that asked (``ConnectorClient.send(..., timing=)``),
which hands a :class:`ConnectProbe` down through a context variable (the connector is called inside
the send's own task).
"""

from __future__ import annotations

from contextvars import ContextVar
from time import perf_counter_ns
from typing import Any

import aiohttp


class ConnectProbe:
    """Nanoseconds ``connect`` took during one send (pool wait, or TCP/TLS connect, or reuse)."""

    __slots__ = ("ns",)

    def __init__(self) -> None:
        self.ns = 0


CONNECT_PROBE: ContextVar[ConnectProbe | None] = ContextVar("mlgate_connect_probe", default=None)


class TimedConnector(aiohttp.TCPConnector):
    """aiohttp's TCPConnector; ``connect`` adds its duration to the send's probe when there is one."""

    async def connect(self, *args: Any, **kwargs: Any) -> aiohttp.connector.Connection:
        """Get a pooled connection or open one (aiohttp's), timed."""
        probe = CONNECT_PROBE.get()
        if probe is None:
            return await super().connect(*args, **kwargs)
        started = perf_counter_ns()
        try:
            return await super().connect(*args, **kwargs)
        finally:
            probe.ns += perf_counter_ns() - started
