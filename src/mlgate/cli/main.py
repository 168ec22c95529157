"""The ``mlgate`` command: ``serve``, ``security`` and ``mock-provider``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from mlgate.cli import security as security_cli
from mlgate.config import Config, config_from, current_environment
from mlgate.domain.security import SecurityConfigError

if TYPE_CHECKING:
    from mlgate.bootstrap import Node

_NO_SECURITY_BANNER = """
################################################################################
#  WARNING: mlgate security is OFF (--no-security / MLGATE_SECURITY=off).
#  Anyone who can reach this port can read, change and delete every connector
#  and model, and spend the provider credentials stored in them.
#  Use this for local experiments only.
################################################################################
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlgate", description="OpenSearch ML Commons remote-model server")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", help="bind address (MLGATE_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (MLGATE_PORT, default 9200)")
    serve.add_argument("--data-dir", dest="data_dir", help="data directory (MLGATE_DATA_DIR, default ./data)")
    serve.add_argument("--log-level", dest="log_level", help="log level (MLGATE_LOG_LEVEL, default info)")
    serve.add_argument(
        "--no-security",
        dest="no_security",
        action="store_true",
        help="turn authentication and access control OFF (MLGATE_SECURITY=off); local experiments only",
    )
    serve.add_argument("--tls-cert", dest="tls_cert", help="PEM certificate: serve HTTPS (MLGATE_TLS_CERT)")
    serve.add_argument("--tls-key", dest="tls_key", help="PEM private key of --tls-cert (MLGATE_TLS_KEY)")
    serve.add_argument(
        "--store",
        dest="store_url",
        help="postgresql://user:password@host:port/db: cluster state shared by several nodes "
        "(MLGATE_STORE_URL, default SQLite in the data directory)",
    )
    serve.add_argument("--roles", help="node roles, a comma list of data,ml (MLGATE_ROLES, default both)")
    serve.add_argument(
        "--advertise-url",
        dest="advertise_url",
        help="URL other nodes reach this one at (MLGATE_ADVERTISE_URL, default http(s)://host:port)",
    )
    serve.add_argument(
        "--workers", type=int, help="processes serving this node, one per core (MLGATE_WORKERS, default 1)"
    )
    serve.add_argument(
        "--trusted-proxies",
        dest="trusted_proxies",
        help="comma list of CIDRs of proxies whose X-Forwarded-For names the client "
        "(MLGATE_TRUSTED_PROXIES, default none: the client is the socket peer)",
    )
    serve.add_argument(
        "--max-body-bytes",
        dest="max_body_bytes",
        help="largest request body, e.g. 100mb; larger ones get 413 (MLGATE_MAX_BODY_BYTES, default 100mb)",
    )
    serve.add_argument(
        "--max-in-flight-bytes",
        dest="max_in_flight_bytes",
        help="request bodies and provider replies held at once per worker process; past it requests get "
        "429 (MLGATE_MAX_IN_FLIGHT_BYTES, default 256mb)",
    )
    serve.add_argument(
        "--max-reply-bytes",
        dest="max_reply_bytes",
        help="largest provider reply (MLGATE_MAX_REPLY_BYTES, default 100mb)",
    )
    security_cli.add_parser(commands)
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
    if args.command == "security":
        try:
            offline = config_from(current_environment(), data_dir=args.data_dir, store_url=args.store_url)
        except ValueError as exc:
            sys.exit(f"mlgate: {exc}")
        security_cli.run(offline, args)
        return
    try:
        config = config_from(
            current_environment(),
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            log_level=args.log_level,
            no_security=args.no_security,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            store_url=args.store_url,
            roles=args.roles,
            advertise_url=args.advertise_url,
            workers=args.workers,
            trusted_proxies=args.trusted_proxies,
            max_body_bytes=args.max_body_bytes,
            max_in_flight_bytes=args.max_in_flight_bytes,
            max_reply_bytes=args.max_reply_bytes,
        )
        if config.workers < 1:
            raise ValueError("--workers must be at least 1")
    except ValueError as exc:
        sys.exit(f"mlgate: {exc}")
    if (config.tls_cert is None) != (config.tls_key is None):
        sys.exit("mlgate: --tls-cert and --tls-key go together")
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not config.security:
        print(_NO_SECURITY_BANNER, file=sys.stderr, flush=True)
    if config.workers > 1:
        serve_workers(config)
    else:
        _run(_serve_checked(config, None))


def _run(main_coroutine: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(main_coroutine)
    else:
        uvloop.run(main_coroutine)


async def _serve_checked(config: Config, sock: socket.socket | None) -> None:
    # A weak MLGATE_INITIAL_ADMIN_PASSWORD stops the start with the rule, not a traceback.
    try:
        await serve(config, sock=sock)
    except SecurityConfigError as exc:
        sys.exit(f"mlgate: {exc.message}")


async def _prepare(config: Config) -> None:
    """One start and stop before forking workers: migrations, keys and the first admin happen once."""
    from mlgate.bootstrap import build_node

    try:
        node = await build_node(config)
        await node.start()
    except SecurityConfigError as exc:
        sys.exit(f"mlgate: {exc.message}")
    scheme = "https" if config.tls_cert else "http"
    _print_login(config, node, f"{scheme}://{config.host}:{config.port}")
    await node.stop()


def serve_workers(config: Config) -> None:
    """``--workers N``: bind once, fork N processes that share the socket; restart any that dies.

    The workers are one node (same id, same data directory); they keep their in-memory views coherent
    through the store's change feed.
    """
    _run(_prepare(config))
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((config.host, config.port))
    sock.listen(2048)
    sock.set_inheritable(True)
    stopping = False
    children: set[int] = set()

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _run(_serve_checked(config, sock))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                logging.getLogger("mlgate").exception("worker failed")
                code = 1
            os._exit(code)
        children.add(pid)

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(config.workers):
        spawn()
    logging.getLogger("mlgate").info("mlgate serving with %d workers", config.workers)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        children.discard(pid)
        if not stopping:
            logging.getLogger("mlgate").error("worker %d exited (status %d); starting another", pid, status)
            spawn()
    sock.close()


async def serve(config: Config, *, sock: socket.socket | None = None) -> None:
    """Build the node, serve HTTP until a signal, then stop cleanly (on ``sock`` when forked)."""
    import uvicorn

    from mlgate.bootstrap import build_node
    from mlgate.cli.http_protocol import OpenSearchHttpToolsProtocol

    node = await build_node(config)
    await node.start()
    # Everything built at start-up lives as long as the process: keep it out of every future
    # collection, so the collector only scans what requests allocate.
    gc.collect()
    gc.freeze()
    scheme = "https" if config.tls_cert else "http"
    if sock is None:
        _print_login(config, node, f"{scheme}://{config.host}:{config.port}")
    server = uvicorn.Server(
        uvicorn.Config(
            node.app,
            host=config.host,
            port=config.port,
            http=OpenSearchHttpToolsProtocol,
            lifespan="off",
            log_level=config.log_level,
            access_log=False,
            server_header=False,
            # OpenSearch sends no Date header; X-Forwarded-For is read by the app, and only from
            # --trusted-proxies (the login throttle keys on the client address).
            date_header=False,
            proxy_headers=False,
            ssl_certfile=str(config.tls_cert) if config.tls_cert else None,
            ssl_keyfile=str(config.tls_key) if config.tls_key else None,
        )
    )
    logging.getLogger("mlgate").info(
        "mlgate node %s listening on %s://%s:%d (data in %s)",
        node.services.env.node_id,
        scheme,
        config.host,
        config.port,
        config.data_dir,
    )
    try:
        await server.serve(sockets=[sock] if sock is not None else None)
    finally:
        await node.stop()


def _print_login(config: Config, node: Node, url: str) -> None:
    # stdout, not the log: the generated password is shown exactly once and must not reach log files.
    if not config.security:
        logging.getLogger("mlgate").warning("security is OFF: every request is served without login")
        return
    if node.generated_admin_password is not None:
        print(
            f"mlgate: security is ON. Created user 'admin' with password: {node.generated_admin_password}\n"
            f"        (saved in {node.admin_password_file}, mode 0600; it is shown only this once)",
            flush=True,
        )
    else:
        where = (
            f"kept in {node.admin_password_file}"
            if node.admin_password_file is not None and node.admin_password_file.exists()
            else "set at first start (MLGATE_INITIAL_ADMIN_PASSWORD)"
        )
        print(f"mlgate: security is ON. Log in as 'admin' with the password {where}", flush=True)
    print(f"        e.g. curl -u admin:<password> {url}/_plugins/_security/authinfo", flush=True)
    if config.tls_cert is None and config.host not in ("127.0.0.1", "localhost", "::1"):
        logging.getLogger("mlgate").warning(
            "serving Basic credentials over plain HTTP on %s; use --tls-cert/--tls-key", config.host
        )
