"""What the memory budget and the attempt deadline cost on the predict path (docs/performance.md).

Each variant runs in the same process with rounds interleaved, and the best round counts, so a busy
machine blurs the figures less:

* the in-flight budget: a lease taken, charged and released around a request-body read, and a provider
  reply read with and without a lease to charge;
* the attempt deadline: its mechanism alone around ``await asyncio.sleep(0)``, and ``ConnectorClient.send`` to a local aiohttp server with the per-client deadline
  queue (remote/deadline.py), without any deadline, and with ``asyncio.timeout`` around the call.

    python bench/bounds.py [--rounds 25]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import web

from mlgate.domain.egress import EgressPolicy
from mlgate.domain.memory_budget import InFlightBudget
from mlgate.remote.client import ConnectorClient, read_body
from mlgate.remote.client_config import ClientConfig
from mlgate.remote.deadline import Deadlines
from mlgate.remote.resolver import GuardedResolver

BODY = b'{"parameters": {"messages": [{"role": "user", "content": "Hello, how are you today?"}]}}'
REPLY = b'{"ok": true}' * 50

Variant = Callable[[], Awaitable[object]]


async def best_of(variants: dict[str, Variant], rounds: int, calls: int) -> dict[str, float]:
    """Microseconds per call of each variant: the best of ``rounds`` interleaved rounds."""
    best = dict.fromkeys(variants, float("inf"))
    order = list(variants.items())
    for _ in range(rounds):
        order.append(order.pop(0))  # each variant takes each place in turn: no position bias
        for name, call in order:
            started = time.perf_counter()
            for _ in range(calls):
                await call()
            best[name] = min(best[name], (time.perf_counter() - started) / calls * 1e6)
    return best


class _Content:
    async def iter_chunked(self, size: int) -> AsyncIterator[bytes]:
        yield REPLY


class _Reply:
    """The two attributes of aiohttp's response that read_body uses."""

    content_length = len(REPLY)
    content = _Content()


async def budget_figures(rounds: int) -> dict[str, float]:
    budget = InFlightBudget(1 << 28)
    reply = _Reply()

    async def read_uncharged() -> object:
        return await read_body(reply, 100_000_000, None)  # type: ignore[arg-type]

    async def read_charged() -> object:
        lease = budget.lease()
        lease.charge(len(BODY))
        body = await read_body(reply, 100_000_000, lease)  # type: ignore[arg-type]
        lease.release()
        return body

    return await best_of(
        {"reply read, no lease": read_uncharged, "reply read + body charge + lease": read_charged},
        rounds,
        20_000,
    )


async def mechanism_figures(rounds: int) -> dict[str, float]:
    """The deadline mechanisms alone, around one ``await asyncio.sleep(0)``."""
    queue = Deadlines(60)

    async def bare() -> object:
        return await asyncio.sleep(0)

    async def queued() -> object:
        attempt = queue.start()
        try:
            return await asyncio.sleep(0)
        finally:
            attempt.finish()

    async def timed() -> object:
        async with asyncio.timeout(60):
            return await asyncio.sleep(0)

    return await best_of(
        {
            "sleep(0), no deadline": bare,
            "sleep(0), deadline queue": queued,
            "sleep(0), asyncio.timeout": timed,
        },
        rounds,
        20_000,
    )


async def deadline_figures(rounds: int) -> dict[str, float]:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=REPLY, content_type="application/json")

    app = web.Application()
    app.router.add_post("/x", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/x"
    resolver = GuardedResolver(lambda: EgressPolicy((r".*",), private_ip_enabled=True))
    queued = ConnectorClient(ClientConfig(max_connection=8), resolver)
    unbounded = ConnectorClient(ClientConfig(max_connection=8, read_timeout=0), resolver)
    # read_timeout 0 also drops the idle timer; put it back so only the deadline differs.
    unbounded._open_session()._timeout = aiohttp.ClientTimeout(
        total=None, connect=30, sock_connect=30, sock_read=30
    )

    async def timed() -> object:
        async with asyncio.timeout(60):
            return await unbounded.send("POST", url, {}, BODY)

    variants: dict[str, Variant] = {
        "send, deadline queue (mlgate)": lambda: queued.send("POST", url, {}, BODY),
        "send, no deadline": lambda: unbounded.send("POST", url, {}, BODY),
        "send, asyncio.timeout": timed,
    }
    await best_of(variants, 1, 300)  # warm the pools
    figures = await best_of(variants, rounds, 500)
    await queued.close()
    await unbounded.close()
    await runner.cleanup()
    return figures


async def main(rounds: int) -> None:
    figures = {
        **await budget_figures(rounds),
        **await mechanism_figures(rounds),
        **await deadline_figures(rounds),
    }
    for name, micros in figures.items():
        print(f"{name:40} {micros:8.2f} µs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25)
    asyncio.run(main(parser.parse_args().rounds))
