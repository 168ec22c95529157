"""Predict counters and latencies, and the cluster's ``/_plugins/_ml/profile`` and ``/stats``.

ml-commons: plugin/.../action/profile/MLProfileTransportAction.java,
plugin/.../action/stats/MLStatsNodesTransportAction.java.

The predict path pays for two clock reads, a few integer increments and two bounded-deque appends per
request; percentiles are computed only when someone asks for a profile.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlgate.domain import controller as controller_domain
from mlgate.domain import model as mdomain
from mlgate.domain import task as tdomain
from mlgate.domain.errors import ExecutionError, MlgateError, RemoteError
from mlgate.domain.node import NodeInfo
from mlgate.remote.forward import NodeForwarder
from mlgate.services.cluster import NodeRegistry
from mlgate.services.connectors import INDEX as CONNECTOR_INDEX
from mlgate.services.environment import Environment
from mlgate.services.runtime import ModelRuntime
from mlgate.storage.store import Store

log = logging.getLogger("mlgate.stats")

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


INTERNAL_PROFILE = "/_plugins/_mlgate/_internal/profile"
INTERNAL_STATS = "/_plugins/_mlgate/_internal/stats"


class StatsService:
    """Profile and stats of the cluster: this node's part in process, every other node's over the
    node-to-node routes, asked in parallel; a node that does not answer in time is left out (logged)."""

    def __init__(
        self,
        store: Store,
        env: Environment,
        runtime: ModelRuntime,
        stats: PredictStats,
        nodes: NodeRegistry,
        forwarder: NodeForwarder,
        *,
        peer_timeout_s: float = 2.0,
    ) -> None:
        self._store = store
        self._env = env
        self._runtime = runtime
        self._stats = stats
        self._nodes = nodes
        self._forwarder = forwarder
        self._peer_timeout_s = peer_timeout_s

    async def profile(
        self,
        *,
        models: bool,
        model_ids: str | None = None,
        view: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``GET /_plugins/_ml/profile[/models[/{ids}]|/tasks[/{ids}]]``; ``{}`` when nothing matches.

        ``models`` is false for the task paths. No task runs in the background on a node (deploy is
        synchronous), so there are never task profiles to show.
        """
        body = body or {}
        wanted = _ids(model_ids)
        if wanted is None and isinstance(body.get("model_ids"), list) and body["model_ids"]:
            wanted = {str(i) for i in body["model_ids"]}
        node_ids = body.get("node_ids")
        targets = self._nodes.live()
        if isinstance(node_ids, list) and node_ids:
            named = {str(n) for n in node_ids}
            targets = [n for n in targets if n.node_id in named or n.name in named]
        query = {"models": "true" if models else "false"}
        if wanted is not None:
            query["model_ids"] = ",".join(sorted(wanted))
        parts = await self._collect(
            targets,
            INTERNAL_PROFILE,
            query,
            lambda: {"models": self.local_profile(models=models, wanted=wanted)},
        )
        per_node = {
            node_id: part["models"]
            for node_id, part in parts.items()
            if isinstance(part, dict) and isinstance(part.get("models"), dict) and part["models"]
        }
        if not per_node:
            return {}
        if view != "model":
            return {"nodes": {node_id: {"models": profiles} for node_id, profiles in per_node.items()}}
        by_model: dict[str, dict[str, Any]] = {}
        for node_id, profiles in per_node.items():
            for model_id, profile in profiles.items():
                by_model.setdefault(model_id, {})[node_id] = profile
        out: dict[str, Any] = {}
        for model_id in sorted(by_model):
            target, workers = await self._cluster_view(model_id)
            out[model_id] = {
                "target_worker_nodes": target,
                "worker_nodes": workers,
                "nodes": by_model[model_id],
            }
        return {"models": out}

    def local_profile(self, *, models: bool, wanted: set[str] | None) -> dict[str, dict[str, Any]]:
        """This node's profile of each deployed, non-hidden model (of ``wanted`` when given)."""
        if not models:
            return {}
        node = self._env.node_id
        profiles: dict[str, dict[str, Any]] = {}
        for model_id in sorted(self._runtime.ids()):
            deployed = self._runtime.get(model_id)
            if deployed is None or (wanted is not None and model_id not in wanted):
                continue
            if deployed.model.is_hidden is True:
                continue
            profile: dict[str, Any] = {
                "model_state": mdomain.DEPLOYED,
                "predictor": f"{PREDICTOR}@{id(deployed.connector):x}",
                "target_worker_nodes": list(deployed.model.workers or [node]),
                "worker_nodes": [n.node_id for n in self._nodes.workers_of(model_id)],
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

    async def _cluster_view(self, model_id: str) -> tuple[list[str], list[str]]:
        """The model's planned worker nodes (its document) and the live nodes serving it (heartbeats)."""
        workers = [n.node_id for n in self._nodes.workers_of(model_id)]
        stored = await self._store.load(mdomain.INDEX, model_id)
        target = list(stored.source.get("planning_worker_nodes") or ()) if stored is not None else []
        return target or workers, workers

    async def stats(self, node_id: str | None = None, stat: str | None = None) -> dict[str, Any]:
        """``GET /_plugins/_ml[/{nodeId}]/stats[/{stat}]`` (``stat`` may list several, comma-separated).

        ``nodeId``: comma-separated node ids or names, ``_all`` or ``_local``; unknown ones are ignored.
        """
        wanted = _ids(stat)
        counts = {
            name: len(await self._store.load_all(index))
            for name, index in (
                ("model", mdomain.INDEX),
                ("connector", CONNECTOR_INDEX),
                ("task", tdomain.INDEX),
                ("controller", controller_domain.INDEX),
            )
        }

        def status(count: int) -> str:
            return "green" if count else "non-existent"

        cluster: dict[str, Any] = {
            "ml_model_index_status": status(counts["model"]),
            "ml_connector_index_status": status(counts["connector"]),
            "ml_config_index_status": "green",
            "ml_task_index_status": status(counts["task"]),
            "ml_controller_index_status": status(counts["controller"]),
            "ml_model_count": counts["model"],
            "ml_connector_count": counts["connector"],
        }
        out = {k: v for k, v in cluster.items() if wanted is None or k in wanted}
        query = {"stat": stat} if stat is not None else {}
        parts = await self._collect(
            self._select(node_id), INTERNAL_STATS, query, lambda: self.local_stats(wanted)
        )
        nodes = {node: part for node, part in parts.items() if isinstance(part, dict) and part}
        if nodes:
            out["nodes"] = nodes
        return out

    def _select(self, node_id: str | None) -> list[NodeInfo]:
        live = self._nodes.live()
        if node_id is None:
            return live
        names = {part.strip() for part in node_id.split(",") if part.strip()}
        if "_all" in names:
            return live
        me = self._env.node_id
        return [
            n
            for n in live
            if n.node_id in names or n.name in names or ("_local" in names and n.node_id == me)
        ]

    def local_stats(self, wanted: set[str] | None) -> dict[str, Any]:
        """This node's counters (only the ``wanted`` ones when given)."""
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

    async def _collect(
        self, targets: list[NodeInfo], path: str, query: Mapping[str, str], local: Callable[[], Any]
    ) -> dict[str, Any]:
        """Each target node's part by node id (sorted): this node's from ``local``, the others' asked in
        parallel over ``path``; a node that fails or does not answer in time is left out and logged."""
        me = self._env.node_id
        others = [n for n in targets if n.node_id != me]

        async def ask(node: NodeInfo) -> Any:
            try:
                return await self._forwarder.get(node.url, path, query, timeout_s=self._peer_timeout_s)
            except RemoteError as exc:
                log.warning("node %s (%s) left out of %s: %s", node.node_id, node.name, path, exc.message)
                return None

        answers = await asyncio.gather(*(ask(n) for n in others))
        parts: dict[str, Any] = {}
        if any(n.node_id == me for n in targets):
            parts[me] = local()
        for node, answer in zip(others, answers, strict=True):
            if answer is not None:
                parts[node.node_id] = answer
        return dict(sorted(parts.items()))
