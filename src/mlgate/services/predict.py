"""Predict: gate checks, auto-deploy, then the connector executor (§7, §10.2)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from functools import partial
from typing import Any

from mlgate.domain import model as mdomain
from mlgate.domain.errors import ForbiddenError, InvalidRequestError, NotFoundError
from mlgate.domain.guardrails import ActiveGuardrails
from mlgate.domain.predict_input import PredictInput, parse_predict_input
from mlgate.domain.principal import Principal
from mlgate.remote.executor import ConnectorExecutor
from mlgate.services.connectors import ConnectorService
from mlgate.services.deployment import DeploymentService
from mlgate.services.runtime import DeployedModel, ModelRuntime
from mlgate.services.settings import SettingsService
from mlgate.services.stats import PredictStats
from mlgate.storage.store import Store

INDEX = mdomain.INDEX


class PredictService:
    """The hot path: one dict lookup for a deployed model, then the executor."""

    def __init__(
        self,
        store: Store,
        settings: SettingsService,
        connectors: ConnectorService,
        deployment: DeploymentService,
        runtime: ModelRuntime,
        executor: ConnectorExecutor,
        stats: PredictStats,
    ) -> None:
        self._store = store
        self._settings = settings
        self._connectors = connectors
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
    ) -> dict[str, Any]:
        """``POST /models/{id}/_predict`` and ``/_predict/{algorithm}/{id}``."""
        self._connectors.require_remote_inference()
        deployed = self._runtime.get(model_id)
        if deployed is None:
            deployed = await self._deploy_on_demand(principal, model_id)
        elif principal is not None:
            await self._deployment.check_model_access(principal, deployed.source)
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
                guardrails = ActiveGuardrails(deployed.guardrails, ask)
            timer.inference_started()
            results = await self._executor.predict(deployed.connector, inp, deployed.rate_limiter, guardrails)
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
        return await self.predict(principal, model_id, None, {"parameters": dict(parameters)})

    async def _deploy_on_demand(self, principal: Principal | None, model_id: str) -> DeployedModel:
        stored = await self._store.load(INDEX, model_id)
        if stored is None:
            raise NotFoundError("Failed to find model")
        await self._deployment.check_model_access(principal, stored.source)
        deploy_setting = stored.source.get("deploy_setting") or {}
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
        deployed = self._runtime.get(model_id)
        if deployed is None:
            raise InvalidRequestError("Model not ready yet. Please deploy the model first.")
        return deployed
