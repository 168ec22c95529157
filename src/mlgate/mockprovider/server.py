"""Running the mock provider: in process (:func:`start_mock_provider`) or from the CLI (:func:`main`)."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from mlgate.mockprovider.app import STATE_KEY, create_app
from mlgate.mockprovider.recording import RecordedRequest

# In-flight handlers (a trickled body, a long mock_delay_ms) must not hold up shutdown for long.
SHUTDOWN_TIMEOUT = 1.0


class MockProvider:
    """A started mock provider server."""

    def __init__(self, runner: web.AppRunner, host: str, port: int) -> None:
        self._runner = runner
        self.port = port
        self.url = f"http://{host}:{port}"

    def requests(self, limit: int | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Recorded requests, newest first (the in-process twin of ``GET /_mock/requests``)."""
        app = self._runner.app
        assert app is not None, "the server has been closed"
        return app[STATE_KEY].log.newest(limit, path)

    def reset(self) -> None:
        """Forget recorded requests, ``mock_fail_times`` counters and unused canned answers."""
        app = self._runner.app
        assert app is not None, "the server has been closed"
        state = app[STATE_KEY]
        state.log.clear()
        state.counters.clear()
        state.canned.clear()

    def answer_next(self, *payloads: Any) -> None:
        """Answer the next requests, in order, with these JSON bodies instead of the route's shape.

        Recording, SigV4 verification and ``mock_*`` faults still apply, and on a known route the shape
        still checks the request: a body the provider would refuse still gets its 4xx. Lets a test
        reproduce one exact provider answer; unknown paths answer it too.
        """
        app = self._runner.app
        assert app is not None, "the server has been closed"
        app[STATE_KEY].canned.extend(payloads)

    def unused_answers(self) -> int:
        """How many queued :meth:`answer_next` bodies no request has taken yet."""
        app = self._runner.app
        assert app is not None, "the server has been closed"
        return len(app[STATE_KEY].canned)

    async def close(self) -> None:
        """Stop listening and close every open connection."""
        await self._runner.cleanup()


async def start_mock_provider(host: str = "127.0.0.1", port: int = 0, **app_kwargs: Any) -> MockProvider:
    """Start a mock provider on ``host:port`` (0 = any free port); ``app_kwargs`` go to :func:`create_app`."""
    runner = web.AppRunner(create_app(**app_kwargs), access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = runner.addresses[0][1]
    return MockProvider(runner, host, bound_port)


def _parse_credential(text: str) -> tuple[str, str]:
    access_key, sep, secret = text.partition(":")
    if not sep or not access_key or not secret:
        raise argparse.ArgumentTypeError("expected ACCESS_KEY:SECRET_KEY")
    return access_key, secret


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mlgate mock-provider",
        description="Serve offline imitations of OpenAI, Cohere, Bedrock, SageMaker, Comprehend, Textract.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9300, help="port to listen on (default: 9300)")
    parser.add_argument("--dim", type=int, default=8, help="default embedding size (default: 8)")
    parser.add_argument(
        "--aws-credential",
        action="append",
        type=_parse_credential,
        metavar="ACCESS_KEY:SECRET_KEY",
        help="verify SigV4 signatures against this key pair (repeatable); off when not given",
    )
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    credentials = dict(args.aws_credential) if args.aws_credential else None
    provider = await start_mock_provider(
        args.host, args.port, aws_credentials=credentials, default_dim=args.dim
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"mock provider listening on {provider.url}", flush=True)
    try:
        await stop.wait()
    finally:
        await provider.close()


def main(argv: Sequence[str] | None = None) -> None:
    """``mlgate mock-provider [--host H] [--port N]``: serve until SIGINT or SIGTERM."""
    args = _parse_args(argv)
    try:
        import uvloop
    except ImportError:
        loop_factory = None  # uvloop is not available on every platform; the default loop works too
    else:
        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(_serve(args))
