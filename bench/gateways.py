"""The systems under test, each reachable as a :class:`Target`: direct, forwarder, mlgate, LiteLLM.

A target answers "for this workload and provider delay, which URL, body and headers does the load
generator send?". mlgate is set up through its own REST API exactly like the README walkthrough
(cluster settings → model group → connector → register → deploy), with security on and HTTP Basic
auth when this build has security.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from procs import GATEWAY_CORE, LOOPBACK, Processes, free_port
from provider import EMBED_INPUT, MESSAGES, MODELS, Provider, provider_body

BENCH_DIR = Path(__file__).resolve().parent
ML = "/_plugins/_ml"
API_KEY = "sk-bench-0000"
TEMPLATES = {
    "chat": '{ "model": "${parameters.model}", "messages": ${parameters.messages} }',
    "embedding": '{ "input": ${parameters.input}, "model": "${parameters.model}" }',
}


def predict_body(workload: str) -> bytes:
    """The ``_predict`` body a client sends to mlgate or the forwarder."""
    if workload == "chat":
        return orjson.dumps({"parameters": {"messages": MESSAGES}})
    return orjson.dumps({"parameters": {"input": EMBED_INPUT}})


@dataclass
class Target:
    """One system under test."""

    name: str
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    # (workload, delay_ms) → (path, body); a missing key means "not measured".
    calls: dict[tuple[str, int], tuple[str, bytes]] = field(default_factory=dict)

    def request(self, workload: str, delay_ms: int) -> tuple[str, bytes] | None:
        """The full URL and body for one cell, or None when this target skips it."""
        call = self.calls.get((workload, delay_ms))
        if call is None:
            return None
        path, body = call
        return self.base_url + path, body


def direct_target(provider: Provider, workloads: list[str], delays: list[int]) -> Target:
    """The load generator calling the provider itself: the baseline for added latency."""
    target = Target("direct", "")
    for w in workloads:
        for d in delays:
            target.calls[(w, d)] = (provider.url(w, d), provider_body(w))
    return target


def _connector_body(workload: str, url: str) -> dict[str, Any]:
    return {
        "name": f"bench {workload} connector",
        "description": "benchmark connector",
        "version": 1,
        "protocol": "http",
        "parameters": {"model": MODELS[workload]},
        "credential": {"openAI_key": API_KEY},
        "actions": [
            {
                "action_type": "predict",
                "method": "POST",
                "url": url,
                "headers": {"Authorization": "Bearer ${credential.openAI_key}"},
                "request_body": TEMPLATES[workload],
            }
        ],
    }


def start_forwarder(
    procs: Processes, workdir: Path, provider: Provider, workloads: list[str], delays: list[int]
) -> Target:
    """bench/forwarder.py on the gateway core, with one model per (workload, delay)."""
    models: dict[str, Any] = {}
    target = Target("forwarder", "")
    for w in workloads:
        for d in delays:
            model_id = f"{w}-{d}"
            models[model_id] = {
                "url": provider.url(w, d),
                "headers": {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
                "request_body": TEMPLATES[w],
                "parameters": {"model": MODELS[w]},
            }
            target.calls[(w, d)] = (f"{ML}/models/{model_id}/_predict", predict_body(w))
    models_file = workdir / "forwarder-models.json"
    models_file.write_bytes(orjson.dumps(models))
    port = free_port()
    argv = [
        sys.executable,
        str(BENCH_DIR / "forwarder.py"),
        "--port",
        str(port),
        "--models",
        str(models_file),
    ]
    proc = procs.start("forwarder", argv, core=GATEWAY_CORE)
    target.base_url = f"http://{LOOPBACK}:{port}"
    procs.wait_http("forwarder", proc, target.base_url + "/")
    return target


def mlgate_has_security() -> bool:
    """True when this build of ``mlgate serve`` knows ``--no-security`` (so security exists, on by default)."""
    done = subprocess.run(
        [sys.executable, "-m", "mlgate", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return "--no-security" in done.stdout


class _Api:
    """A tiny JSON client for mlgate's REST API (set-up only, not the measured path)."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        self.base_url = base_url
        self.headers = headers

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else orjson.dumps(body)
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        for name, value in {"Content-Type": "application/json", **self.headers}.items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return orjson.loads(reply.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path} → {exc.code}: {exc.read()[:500]!r}") from None

    def wait_task(self, task_id: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            task: dict[str, Any] = self.call("GET", f"{ML}/tasks/{task_id}")
            if task.get("state") in ("COMPLETED", "FAILED", "COMPLETED_WITH_ERROR"):
                if task["state"] != "COMPLETED":
                    raise RuntimeError(f"task {task_id} ended {task['state']}: {task.get('error')}")
                return task
            if time.monotonic() > deadline:
                raise RuntimeError(f"task {task_id} still {task.get('state')} after {timeout:.0f} s")
            time.sleep(0.1)


def start_mlgate(
    procs: Processes,
    workdir: Path,
    provider: Provider,
    workloads: list[str],
    delays: list[int],
    security: bool,
    *,
    workers: int = 1,
    core: int | None = GATEWAY_CORE,
) -> Target:
    """``python -m mlgate serve [--workers N]`` pinned to ``core`` (None: unpinned), set up through its
    REST API like the README."""
    port = free_port()
    name = "mlgate" if workers == 1 else f"mlgate-{workers}-workers"
    env = {
        "MLGATE_DATA_DIR": str(workdir / f"{name}-data"),
        "MLGATE_PORT": str(port),
        "MLGATE_HOST": LOOPBACK,
    }
    headers: dict[str, str] = {}
    if security:
        password = "Bench-" + secrets.token_urlsafe(18)
        env.update({"MLGATE_SECURITY": "on", "MLGATE_INITIAL_ADMIN_PASSWORD": password})
        headers["Authorization"] = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()
    argv = [sys.executable, "-m", "mlgate", "serve", "--workers", str(workers)]
    proc = procs.start(name, argv, core=core, env=env)
    base_url = f"http://{LOOPBACK}:{port}"
    procs.wait_http(name, proc, base_url + "/")
    target = Target(name, base_url, headers)
    configure_mlgate(target, provider, workloads, delays)
    return target


def configure_mlgate(target: Target, provider: Provider, workloads: list[str], delays: list[int]) -> None:
    """The README walkthrough: settings, model group, then connector → register → deploy per model."""
    api = _Api(target.base_url, target.headers)
    api.call(
        "PUT",
        "/_cluster/settings",
        {
            "persistent": {
                "plugins.ml_commons.trusted_connector_endpoints_regex": [r"^http://127\.0\.0\.1:[0-9]+/.*$"],
                "plugins.ml_commons.connector.private_ip_enabled": True,
            }
        },
    )
    group = api.call("POST", f"{ML}/model_groups/_register", {"name": "bench_group", "description": "bench"})
    for w in workloads:
        for d in delays:
            connector = api.call("POST", f"{ML}/connectors/_create", _connector_body(w, provider.url(w, d)))
            registered = api.call(
                "POST",
                f"{ML}/models/_register",
                {
                    "name": f"bench-{w}-{d}",
                    "function_name": "remote",
                    "model_group_id": group["model_group_id"],
                    "description": "benchmark model",
                    "connector_id": connector["connector_id"],
                },
            )
            if registered.get("task_id"):
                api.wait_task(registered["task_id"])
            model_id = registered["model_id"]
            deployed = api.call("POST", f"{ML}/models/{model_id}/_deploy")
            if deployed.get("status") != "COMPLETED" and deployed.get("task_id"):
                api.wait_task(deployed["task_id"])
            path = f"{ML}/models/{model_id}/_predict"
            reply = api.call("POST", path, json.loads(predict_body(w)))
            if "inference_results" not in reply:
                raise RuntimeError(f"mlgate predict gave no inference_results: {str(reply)[:300]}")
            target.calls[(w, d)] = (path, predict_body(w))


def start_litellm(
    procs: Processes, workdir: Path, command: str, provider: Provider, workloads: list[str], delays: list[int]
) -> Target:
    """The LiteLLM proxy (its own venv) on the gateway core, one openai-compatible model per cell."""
    model_list = []
    target = Target("litellm", "")
    for w in workloads:
        for d in delays:
            if d and not provider.has_port_delay():
                continue  # an OpenAI client cannot add the mock's ?mock_delay_ms to its URLs
            name = f"bench-{w}-{d}"
            model_list.append(
                {
                    "model_name": name,
                    "litellm_params": {
                        "model": f"openai/{MODELS[w]}",
                        "api_base": provider.base_url(d) + "/v1",
                        "api_key": API_KEY,
                    },
                }
            )
            if w == "chat":
                body = orjson.dumps({"model": name, "messages": MESSAGES})
                target.calls[(w, d)] = ("/v1/chat/completions", body)
            else:
                target.calls[(w, d)] = ("/v1/embeddings", orjson.dumps({"model": name, "input": EMBED_INPUT}))
    config = workdir / "litellm.yaml"  # JSON is YAML
    config.write_bytes(orjson.dumps({"model_list": model_list, "litellm_settings": {"telemetry": False}}))
    port = free_port()
    env = {
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no download of the price list at start
        "LITELLM_TELEMETRY": "False",
        "LITELLM_LOG": "ERROR",
        "NO_DOCS": "True",
    }
    argv = [command, "--config", str(config), "--host", LOOPBACK, "--port", str(port), "--num_workers", "1"]
    proc = procs.start("litellm", argv, core=GATEWAY_CORE, env=env, cwd=workdir)
    target.base_url = f"http://{LOOPBACK}:{port}"
    procs.wait_http("litellm", proc, target.base_url + "/health/liveliness", timeout=180)
    return target
