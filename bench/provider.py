"""The fixed-response model provider: nginx when available, else the bundled mock provider.

Two workloads, OpenAI-shaped: a small chat completion and a 1,536-float embedding. Each is served
without delay and with a 50 ms delay.

- nginx answers from two static files. POST is turned into a static reply with ``error_page 405 =200``
  (static files refuse POST; an error-page redirect re-runs the request as GET). The delayed server
  uses a trick because nginx cannot sleep: it proxies to a loopback port whose accept queue is full
  (:func:`procs.blackhole_port`) with ``proxy_connect_timeout 50ms``, and ``error_page 504 =200``
  serves the same static reply when that connect times out — 50 ms later, no extra process involved.
- the mock provider (``mlgate mock-provider``) answers the same paths itself, and delays a request when
  its URL carries ``?mock_delay_ms=50``. Its replies are computed (fake model), not fixed bytes.
"""

from __future__ import annotations

import contextlib
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from procs import LOOPBACK, SIDE_CORE, Processes, blackhole_port, free_port

EMBEDDING_DIM = 1536
DELAY_MS = 50
PATHS = {"chat": "/v1/chat/completions", "embedding": "/v1/embeddings"}
MODELS = {"chat": "gpt-3.5-turbo", "embedding": "text-embedding-3-small"}
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Hello!"},
]
EMBED_INPUT = ["What is the meaning of life?"]


def chat_reply() -> bytes:
    """A small, fixed OpenAI chat completion."""
    return orjson.dumps(
        {
            "id": "chatcmpl-bench0000000000000000000000",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "gpt-3.5-turbo-0125",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hello! How can I assist you today?"},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 19, "completion_tokens": 9, "total_tokens": 28},
            "system_fingerprint": None,
        }
    )


def embedding_reply(dim: int = EMBEDDING_DIM) -> bytes:
    """A fixed OpenAI embedding reply: ``dim`` floats written like OpenAI does (about 10 digits)."""
    rng = random.Random(1536)
    floats = ",".join(f"{rng.gauss(0.0, 0.025):.10f}" for _ in range(dim))
    return (
        b'{"object":"list","data":[{"object":"embedding","index":0,"embedding":['
        + floats.encode()
        + b']}],"model":"text-embedding-3-small","usage":{"prompt_tokens":7,"total_tokens":7}}'
    )


def provider_body(workload: str) -> bytes:
    """What a gateway sends the provider: the body of the direct call."""
    if workload == "chat":
        return orjson.dumps({"model": MODELS["chat"], "messages": MESSAGES})
    return orjson.dumps({"input": EMBED_INPUT, "model": MODELS["embedding"]})


@dataclass(frozen=True)
class Provider:
    """A running provider: where each workload is served, with and without delay."""

    kind: str  # "nginx" or "mock"
    ports: dict[int, int]  # delay in ms → port
    note: str

    def base_url(self, delay_ms: int) -> str:
        """``http://127.0.0.1:port`` serving ``delay_ms`` (for nginx: a port per delay)."""
        return f"http://{LOOPBACK}:{self.ports[delay_ms]}"

    def url(self, workload: str, delay_ms: int) -> str:
        """The full URL of one workload at one delay."""
        url = self.base_url(delay_ms) + PATHS[workload]
        if self.kind == "mock" and delay_ms:
            url += f"?mock_delay_ms={delay_ms}"
        return url

    def has_port_delay(self) -> bool:
        """True when the delay comes with the port (OpenAI clients can't add ``?mock_delay_ms``)."""
        return self.kind == "nginx"


_NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log crit;
events {{ worker_connections 16384; multi_accept on; }}
http {{
  access_log off;
  client_body_temp_path {dir}/tmp_body;
  proxy_temp_path {dir}/tmp_proxy;
  fastcgi_temp_path {dir}/tmp_fastcgi;
  uwsgi_temp_path {dir}/tmp_uwsgi;
  scgi_temp_path {dir}/tmp_scgi;
  default_type application/json;
  etag off;
  server_tokens off;
  keepalive_timeout 300s;
  keepalive_requests 100000000;
  client_body_buffer_size 1m;
  server {{
    listen {host}:{port0} backlog=4096;
    location = {chat} {{ error_page 405 =200 /fixed/chat.json; return 405; }}
    location = {embedding} {{ error_page 405 =200 /fixed/embedding.json; return 405; }}
    location /fixed/ {{ internal; alias {dir}/www/; }}
  }}
  server {{
    listen {host}:{port50} backlog=4096;
    proxy_connect_timeout {delay}ms;
    location = {chat} {{ proxy_pass http://{host}:{hole}; error_page 502 504 =200 /fixed/chat.json; }}
    location = {embedding} {{ proxy_pass http://{host}:{hole}; error_page 502 504 =200 /fixed/embedding.json; }}
    location /fixed/ {{ internal; alias {dir}/www/; }}
  }}
}}
"""


@contextlib.contextmanager
def start_provider(procs: Processes, workdir: Path, nginx: str | None) -> Iterator[Provider]:
    """Start nginx (or the mock provider when ``nginx`` is None) on the side core; stopped by ``procs``."""
    if nginx is None:
        port = free_port()
        # `mlgate mock-provider` has no --dim flag; the module's own entry point does.
        run_mock = "import sys; from mlgate.mockprovider import main; main(sys.argv[1:])"
        argv = [sys.executable, "-c", run_mock, "--port", str(port), "--dim", str(EMBEDDING_DIM)]
        proc = procs.start("provider", argv, core=SIDE_CORE)
        procs.wait_http("provider", proc, f"http://{LOOPBACK}:{port}/_mock/requests")
        note = "bundled mock provider (computed replies; 50 ms delay via ?mock_delay_ms=50)"
        yield Provider("mock", {0: port, DELAY_MS: port}, note)
        return
    root = workdir / "nginx"
    (root / "www").mkdir(parents=True, exist_ok=True)
    for path in (workdir, root, root / "www"):
        path.chmod(0o755)  # nginx workers run as an unprivileged user and must read the replies
    (root / "www" / "chat.json").write_bytes(chat_reply())
    (root / "www" / "embedding.json").write_bytes(embedding_reply())
    with blackhole_port() as hole:
        port0, port50 = free_port(), free_port()
        conf = _NGINX_CONF.format(
            dir=root,
            host=LOOPBACK,
            port0=port0,
            port50=port50,
            hole=hole,
            delay=DELAY_MS,
            chat=PATHS["chat"],
            embedding=PATHS["embedding"],
        )
        (root / "nginx.conf").write_text(conf)
        proc = procs.start(
            "provider", [nginx, "-c", str(root / "nginx.conf"), "-p", str(root)], core=SIDE_CORE
        )
        procs.wait_http("provider", proc, f"http://{LOOPBACK}:{port0}/")
        note = (
            "nginx (fixed files; 50 ms delay: proxy to a full-backlog loopback port with "
            "proxy_connect_timeout 50ms, then error_page serves the same file)"
        )
        try:
            yield Provider("nginx", {0: port0, DELAY_MS: port50}, note)
        finally:
            procs.stop(proc)
