"""The ``mlgate`` command: ``serve`` and ``mock-provider``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from mlgate.config import Config, config_from, current_environment


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlgate", description="OpenSearch ML Commons remote-model server")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", help="bind address (MLGATE_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (MLGATE_PORT, default 9200)")
    serve.add_argument("--data-dir", dest="data_dir", help="data directory (MLGATE_DATA_DIR, default ./data)")
    serve.add_argument("--log-level", dest="log_level", help="log level (MLGATE_LOG_LEVEL, default info)")
    mock = commands.add_parser("mock-provider", help="serve OpenAI/Cohere/SageMaker/Bedrock-shaped replies")
    mock.add_argument("--host", default="127.0.0.1")
    mock.add_argument("--port", type=int, default=9300)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    if args.command == "mock-provider":
        from mlgate.mockprovider import main as mock_main

        mock_main(["--host", args.host, "--port", str(args.port)])
        return
    config = config_from(
        current_environment(),
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        log_level=args.log_level,
    )
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        import uvloop

        uvloop.run(serve(config))
    except ImportError:
        asyncio.run(serve(config))


async def serve(config: Config) -> None:
    """Build the node, serve HTTP until a signal, then stop cleanly."""
    import uvicorn

    from mlgate.bootstrap import build_node

    node = await build_node(config)
    await node.start()
    server = uvicorn.Server(
        uvicorn.Config(
            node.app,
            host=config.host,
            port=config.port,
            http="httptools",
            lifespan="off",
            log_level=config.log_level,
            access_log=False,
            server_header=False,
        )
    )
    logging.getLogger("mlgate").info(
        "mlgate node %s listening on http://%s:%d (data in %s)",
        node.services.env.node_id,
        config.host,
        config.port,
        config.data_dir,
    )
    try:
        await server.serve()
    finally:
        await node.stop()
