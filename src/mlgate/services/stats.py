"""Predict counters and latencies, and the ``/_plugins/_ml/profile`` and ``/stats`` answers (§6.3, §6.4).

The predict path pays for two clock reads, a few integer increments and two bounded-deque appends per
request; percentiles are computed only when someone asks for a profile.
"""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlgate.domain import model as mdomain
from mlgate.domain import task as tdomain
from mlgate.domain.errors import ExecutionError, MlgateError, RemoteError
from mlgate.services.connectors import INDEX as CONNECTOR_INDEX
from mlgate.services.environment import Environment
from mlgate.services.runtime import ModelRuntime
from mlgate.storage.store import Store

# ML Commons' monitoring_request_count default: latencies over the last 100 requests per model.
WINDOW = 100
# What ML Commons prints for a remote model's in-memory predictor (clients treat it as opaque).
PREDICTOR = "org.opensearch.ml.engine.algorithms.remote.RemoteModel"


def is_tracked_failure(error: BaseException) -> bool:
    """Whether a failed predict counts as a failure: not the caller's error (4xx), as in ML Commons."""
    if isinstance(error, RemoteError):
        return error.status >= 500
    if isinstance(error, MlgateError):
        return isinstance(error, ExecutionError)
    return True


@dataclass
class ModelCounters:
    """One model's predict counters and recent latencies (milliseconds)."""

    requests: int = 0
    failures: int = 0
    predict_ms: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=WINDOW))
    inference_ms: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=WINDOW))


class PredictTimer:
    """Measures one predict; created by :meth:`PredictStats.start`."""

    __slots__ = ("_clock", "_counters", "_inference_started", "_started", "_stats")

    def __init__(self, stats: PredictStats, counters: ModelCounters, clock: Callable[[], float]) -> None:
        self._stats = stats
        self._counters = counters
        self._clock = clock
        self._started = clock()
        self._inference_started: float | None = None

    def inference_started(self) -> None:
        """The remote calls begin (gate checks and input validation are done)."""
        self._inference_started = self._clock()

    def inference_finished(self) -> None:
        """The remote calls and post-processing are done."""
        if self._inference_started is not None:
            self._counters.inference_ms.append((self._clock() - self._inference_started) * 1000)

    def finished(self, error: BaseException | None) -> None:
        """The predict answered (``error`` when it failed)."""
        self._counters.predict_ms.append((self._clock() - self._started) * 1000)
        if error is not None and is_tracked_failure(error):
            self._counters.failures += 1
            self._stats.failures += 1


class PredictStats:
    """Counters of this node's predict requests, per model and in total."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self.models: dict[str, ModelCounters] = {}
        self.requests = 0
        self.failures = 0

    def start(self, model_id: str) -> PredictTimer:
        """Count a predict of ``model_id`` and start timing it."""
        counters = self.models.get(model_id)
        if counters is None:
            counters = self.models[model_id] = ModelCounters()
        counters.requests += 1
        self.requests += 1
        return PredictTimer(self, counters, self._clock)


def latency_summary(values: Iterable[float]) -> dict[str, float | int] | None:
    """``count``, ``max``, ``min``, ``average`` and nearest-rank ``p50``/``p90``/``p99``; None if empty."""
    ordered = sorted(values)
    if not ordered:
        return None

    def rank(p: float) -> float:
        return round(ordered[max(0, math.ceil(p * len(ordered)) - 1)], 3)

    return {
        "count": len(ordered),
        "max": round(ordered[-1], 3),
        "min": round(ordered[0], 3),
        "average": round(sum(ordered) / len(ordered), 3),
        "p50": rank(0.50),
        "p90": rank(0.90),
        "p99": rank(0.99),
    }


def _ids(raw: str | None) -> set[str] | None:
    if raw is None:
        return None
    return {part for part in raw.split(",") if part}


class StatsService:
    """Profile and stats of this single node."""

    def __init__(self, store: Store, env: Environment, runtime: ModelRuntime, stats: PredictStats) -> None:
        self._store = store
        self._env = env
        self._runtime = runtime
        self._stats = stats

    def profile(
        self,
        *,
        models: bool,
        model_ids: str | None = None,
        view: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``GET /_plugins/_ml/profile[/models[/{ids}]|/tasks[/{ids}]]``; ``{}`` when nothing matches.

        ``models`` is false for the task paths. No task runs in the background on this node (deploy
        is synchronous), so there are never task profiles to show.
        """
        body = body or {}
        node_ids = body.get("node_ids")
        if isinstance(node_ids, list) and node_ids and self._env.node_id not in node_ids:
            return {}
        wanted = _ids(model_ids)
        if wanted is None and isinstance(body.get("model_ids"), list) and body["model_ids"]:
            wanted = {str(i) for i in body["model_ids"]}
        profiles = self._model_profiles(wanted) if models else {}
        if not profiles:
            return {}
        node = self._env.node_id
        if view == "model":
            return {
                "models": {
                    model_id: {
                        "target_worker_nodes": [node],
                        "worker_nodes": [node],
                        "nodes": {node: profile},
                    }
                    for model_id, profile in profiles.items()
                }
            }
        return {"nodes": {node: {"models": profiles}}}

    def _model_profiles(self, wanted: set[str] | None) -> dict[str, dict[str, Any]]:
        node = self._env.node_id
        profiles: dict[str, dict[str, Any]] = {}
        for model_id in sorted(self._runtime.ids()):
            deployed = self._runtime.get(model_id)
            if deployed is None or (wanted is not None and model_id not in wanted):
                continue
            if deployed.source.get("is_hidden") is True:
                continue
            profile: dict[str, Any] = {
                "model_state": mdomain.DEPLOYED,
                "predictor": f"{PREDICTOR}@{id(deployed.connector):x}",
                "target_worker_nodes": [node],
                "worker_nodes": [node],
            }
            counters = self._stats.models.get(model_id)
            if counters is not None:
                inference = latency_summary(counters.inference_ms)
                if inference is not None:
                    profile["model_inference_stats"] = inference
                predict = latency_summary(counters.predict_ms)
                if predict is not None:
                    profile["predict_request_stats"] = predict
            profiles[model_id] = profile
        return profiles

    async def stats(self, node_id: str | None = None, stat: str | None = None) -> dict[str, Any]:
        """``GET /_plugins/_ml[/{nodeId}]/stats[/{stat}]`` (``stat`` may list several, comma-separated)."""
        wanted = _ids(stat)
        counts = {
            name: len(await self._store.load_all(index))
            for name, index in (
                ("model", mdomain.INDEX),
                ("connector", CONNECTOR_INDEX),
                ("task", tdomain.INDEX),
            )
        }

        def status(count: int) -> str:
            return "green" if count else "non-existent"

        cluster: dict[str, Any] = {
            "ml_model_index_status": status(counts["model"]),
            "ml_connector_index_status": status(counts["connector"]),
            "ml_config_index_status": "green",
            "ml_task_index_status": status(counts["task"]),
            "ml_controller_index_status": "non-existent",
            "ml_model_count": counts["model"],
            "ml_connector_count": counts["connector"],
        }
        out = {k: v for k, v in cluster.items() if wanted is None or k in wanted}
        if node_id in (None, "_all", "_local", self._env.node_id, self._env.node_name):
            node = self._node_stats(wanted)
            if node:
                out["nodes"] = {self._env.node_id: node}
        return out

    def _node_stats(self, wanted: set[str] | None) -> dict[str, Any]:
        stats = self._stats
        node: dict[str, Any] = {
            "ml_jvm_heap_usage": 0,
            "ml_executing_task_count": 0,
            "ml_request_count": stats.requests,
            "ml_failure_count": stats.failures,
            "ml_deployed_model_count": len(self._runtime.ids()),
            "ml_circuit_breaker_trigger_count": 0,
        }
        node = {k: v for k, v in node.items() if wanted is None or k in wanted}
        if wanted is None and stats.requests:
            node["algorithms"] = {
                "remote": {
                    "predict": {
                        "ml_action_request_count": stats.requests,
                        "ml_action_failure_count": stats.failures,
                    }
                }
            }
            node["models"] = {
                model_id: {
                    "predict": {
                        "ml_action_request_count": counters.requests,
                        "ml_action_failure_count": counters.failures,
                    }
                }
                for model_id, counters in stats.models.items()
            }
        return node
