"""Predict: gate checks, auto-deploy, then the connector executor.

ml-commons: plugin/.../action/prediction/TransportPredictionTaskAction.java,
plugin/.../task/MLPredictTaskRunner.java; in a cluster: docs/compatibility.md, "Predict routing in a cluster".
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson

from mlgate.domain.errors import ForbiddenError, InvalidRequestError, NotFoundError, RemoteError
from mlgate.domain.guardrails import ActiveGuardrails
from mlgate.domain.memory_budget import Lease
from mlgate.domain.model import Model
from mlgate.domain.node import NodeInfo
from mlgate.domain.predict_input import PredictInput, parse_predict_input
from mlgate.domain.principal import Principal
from mlgate.remote.executor import ConnectorExecutor
from mlgate.remote.forward import NodeForwarder
from mlgate.services.access import ModelAccess
from mlgate.services.cluster import NodeRegistry
from mlgate.services.connectors import ConnectorService
from mlgate.services.cpu import CpuWorkers
from mlgate.services.deployment import DeploymentService
from mlgate.services.doc_cache import DocumentCache
from mlgate.services.model_loader import ModelLoader
from mlgate.services.runtime import DeployedModel, ModelRuntime
from mlgate.services.settings import SettingsService
from mlgate.services.stats import PredictStats


@dataclass(frozen=True)
class Forwarded:
    """The answer of the node a predict was forwarded to, passed through unchanged."""

    status: int
    body: bytes

    def as_result(self) -> dict[str, Any]:
        """The answer as a predict result; an error answer is raised again with its status and reason."""
        try:
            payload = orjson.loads(self.body)
        except orjson.JSONDecodeError as exc:
            raise RemoteError("the serving node sent an unreadable answer", status=502) from exc
        if self.status >= 300:
            error = payload.get("error") if isinstance(payload, dict) else None
            if isinstance(error, dict):
                raise RemoteError(
                    str(error.get("reason")), status=self.status, error_type=str(error.get("type"))
                )
            raise RemoteError(str(error), status=self.status)
        assert isinstance(payload, dict)
        return payload


class PredictService:
    """The hot path: one dict lookup for a deployed model, then the executor."""

    def __init__(
        self,
        models: DocumentCache,
        settings: SettingsService,
        connectors: ConnectorService,
        model_access: ModelAccess,
        loader: ModelLoader,
        deployment: DeploymentService,
        runtime: ModelRuntime,
        executor: ConnectorExecutor,
        stats: PredictStats,
        nodes: NodeRegistry,
        forwarder: NodeForwarder,
        cpu: CpuWorkers,
    ) -> None:
        self._nodes = nodes
        self._cpu = cpu
        self._forwarder = forwarder
        self._turn = 0
        self._models = models
        self._settings = settings
        self._connectors = connectors
        self._model_access = model_access
        self._loader = loader
        self._deployment = deployment
        self._runtime = runtime
        self._executor = executor
        self._stats = stats
        self._auto_deploys: dict[str, asyncio.Task[Any]] = {}

    async def predict(
        self,
        principal: Principal | None,
        model_id: str,
        algorithm: str | None,
        body: Mapping[str, Any] | None,
        *,
        forwarded: bool = False,
        splice: bool = False,
        user: str | None = None,
        lease: Lease | None = None,
    ) -> dict[str, Any] | Forwarded:
        """``POST /models/{id}/_predict`` and ``/_predict/{algorithm}/{id}``.

        A node that does not serve the model forwards the call to one that does; a forwarded call was
        authorized by the node that received it and is never forwarded again, carrying the caller's
        ``user`` name for the model controller's limits (docs/compatibility.md, "Predict routing in a
        cluster"). ``splice``: the caller only encodes the result with orjson, so it may carry provider
        bytes as orjson Fragments. ``lease``: the HTTP request's share of the in-flight byte budget,
        charged for the replies read on its behalf.
        """
        self._connectors.require_remote_inference()
        if principal is not None:
            user = principal.name
        deployed = self._runtime.get(model_id)
        if deployed is None:
            located = await self._locate(principal, model_id, forwarded=forwarded)
            if isinstance(located, NodeInfo):
                payload = {"algorithm": algorithm, "body": body, "user": user}
                return Forwarded(*await self._forwarder.predict(located.url, model_id, payload, lease))
            deployed = located
        elif principal is not None:
            await self._model_access.check(principal, deployed.model)
        if not deployed.is_enabled:
            raise ForbiddenError("Model is disabled.")
        timer = self._stats.start(model_id)
        try:
            inp: PredictInput = parse_predict_input(algorithm, body or {})
            interface = deployed.interface
            if interface is not None:
                interface.check_input(inp)
            guardrails = None
            if deployed.guardrails is not None:
                ask = partial(self._ask_guardrail_model, principal)
                guardrails = ActiveGuardrails(deployed.guardrails, ask, self._cpu.run)
            timer.inference_started()
            results = await self._executor.predict(
                deployed.connector,
                inp,
                deployed.rate_limiter,
                guardrails,
                user_limiter=deployed.user_limiters.get(user) if user is not None else None,
                # An output schema checks the parsed output: nothing to splice then.
                splice=splice and (interface is None or interface.output is None),
                lease=lease,
            )
            timer.inference_finished()
            output = {"inference_results": results}
            if interface is not None:
                interface.check_output(output)
        except Exception as exc:
            timer.finished(exc)
            raise
        timer.finished(None)
        return output

    async def _ask_guardrail_model(
        self, principal: Principal | None, model_id: str, parameters: Mapping[str, str]
    ) -> dict[str, Any]:
        # A guardrail model is an ordinary model, predicted as the caller (ML Commons' nested predict).
        return await self.predict_result(principal, model_id, None, {"parameters": dict(parameters)})

    async def predict_result(
        self,
        principal: Principal | None,
        model_id: str,
        algorithm: str | None,
        body: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        """:meth:`predict` for in-process callers: a forwarded answer is decoded (errors raised)."""
        result = await self.predict(principal, model_id, algorithm, body)
        return result if isinstance(result, dict) else result.as_result()

    async def _locate(
        self, principal: Principal | None, model_id: str, *, forwarded: bool
    ) -> DeployedModel | NodeInfo:
        """Load the model here, or find a live node serving it, or auto-deploy it.

        The model document comes from memory: a node that forwards reads no storage per predict.
        """
        doc = await self._models.get(model_id)
        if doc is None:
            raise NotFoundError("Failed to find model")
        model = Model.from_doc(doc)
        await self._model_access.check(principal, model)
        if model.is_serving:
            if self._loader.may_serve(model):
                return await self._loader.join(model_id, model)
            workers = self._other_workers(model_id, model)
            if workers and not forwarded:
                self._turn = (self._turn + 1) % len(workers)
                return workers[self._turn]
        if forwarded:
            raise InvalidRequestError("Model not ready yet. Please deploy the model first.")
        deployed = await self._deploy_on_demand(model_id, model)
        if deployed is None:
            latest = await self._models.get(model_id)
            workers = self._other_workers(model_id, Model.from_doc(latest) if latest is not None else model)
            if workers:
                return workers[0]
            raise InvalidRequestError("Model not ready yet. Please deploy the model first.")
        return deployed

    def _other_workers(self, model_id: str, model: Model) -> list[NodeInfo]:
        """Live nodes serving the model: as their heartbeats say, or else as its plan says (a deploy that
        just finished is in the plan before the next heartbeat advertises it)."""
        me = self._nodes.me.node_id
        serving = [n for n in self._nodes.workers_of(model_id) if n.node_id != me]
        if serving:
            return serving
        planned = set(model.workers)
        return [n for n in self._nodes.live() if n.node_id in planned and n.node_id != me]

    async def _deploy_on_demand(self, model_id: str, model: Model) -> DeployedModel | None:
        """Auto-deploy: the deploy plans the eligible nodes, which may not include this one.

        ml-commons: plugin/.../task/MLPredictTaskRunner.java.
        """
        deploy_setting = model.deploy_setting or {}
        if deploy_setting.get("is_auto_deploy_enabled") is False:
            raise InvalidRequestError(
                f"Auto deployment disabled for this model, please deploy model first Model ID: {model_id}"
            )
        if not self._settings.current.flag("model_auto_deploy.enable"):
            raise InvalidRequestError("Model not ready yet. Please deploy the model first.")
        # At most one auto-deploy per model at a time; concurrent predicts wait for it.
        pending = self._auto_deploys.get(model_id)
        if pending is None:
            pending = asyncio.ensure_future(self._deployment.deploy(None, model_id, None))
            self._auto_deploys[model_id] = pending
            pending.add_done_callback(lambda _: self._auto_deploys.pop(model_id, None))
        await asyncio.shield(pending)
        return self._runtime.get(model_id)
