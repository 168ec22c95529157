"""Offline batch predict: start a provider job, refresh its task, cancel it.

ml-commons: plugin/.../task/MLPredictTaskRunner.java (start),
plugin/.../action/tasks/{GetTask,CancelBatchJob}TransportAction.java (refresh, cancel).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlgate.domain import batch as bdomain
from mlgate.domain import model as mdomain
from mlgate.domain import task as tdomain
from mlgate.domain.errors import ExecutionError, InvalidRequestError, NotFoundError, RateLimitedError
from mlgate.domain.model import Model
from mlgate.domain.predict_input import PredictInput
from mlgate.domain.principal import Principal
from mlgate.remote.executor import ConnectorExecutor
from mlgate.remote.runtime_connector import RuntimeConnector
from mlgate.services.access import ModelAccess
from mlgate.services.connectors import ConnectorService
from mlgate.services.environment import Environment
from mlgate.services.predict import PredictService
from mlgate.services.runtime import ModelRuntime
from mlgate.services.runtime_builder import RuntimeBuilder
from mlgate.services.settings import SettingsService
from mlgate.storage.store import Store

_STATUS_REGEX = "remote_job.status_regex."


class BatchService:
    """Batch jobs live at the provider; the BATCH_PREDICTION task keeps the provider's description."""

    def __init__(
        self,
        store: Store,
        env: Environment,
        settings: SettingsService,
        connectors: ConnectorService,
        model_access: ModelAccess,
        builder: RuntimeBuilder,
        runtime: ModelRuntime,
        executor: ConnectorExecutor,
        predict: PredictService,
    ) -> None:
        self._store = store
        self._env = env
        self._settings = settings
        self._connectors = connectors
        self._model_access = model_access
        self._builder = builder
        self._runtime = runtime
        self._executor = executor
        self._predict = predict

    async def batch_predict(
        self, principal: Principal | None, model_id: str, body: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """``POST /models/{id}/_batch_predict``: run BATCH_PREDICT once and persist the job's task."""
        self._connectors.require_remote_inference()
        self._require_enabled()
        request = dict(body or {})
        dlq = bdomain.parse_dlq(request)
        if await self._count_active() >= int(self._settings.current.number("max_batch_inference_tasks")):
            raise RateLimitedError(bdomain.TOO_MANY)
        # The path decides the action, whatever the body says; predict does the gates and auto-deploy.
        request["action_type"] = bdomain.BATCH_PREDICT
        output = await self._predict.predict_result(principal, model_id, None, request)
        remote_job = bdomain.remote_job_of(output, dlq)
        task_id = self._env.new_id()
        doc = bdomain.new_batch_task(model_id, self._env.node_id, self._env.now_ms(), remote_job)
        await self._store.save(tdomain.INDEX, task_id, doc)
        return {"task_id": task_id, "status": tdomain.CREATED, "remote_job": remote_job}

    async def refresh(self, principal: Principal | None, task_id: str, doc: dict[str, Any]) -> dict[str, Any]:
        """``GET /tasks/{id}`` of a batch task: ask BATCH_PREDICT_STATUS, store the new state and job."""
        self._require_enabled()
        if doc.get("function_name") != "REMOTE":
            return doc
        rc = await self._connector_for(principal, doc, "You don't have permission to access this batch job")
        remote_job = doc.get("remote_job") or {}
        output = await self._run(rc, bdomain.BATCH_PREDICT_STATUS, remote_job)
        job = bdomain.refreshed_job(remote_job, output)
        updated = dict(doc)
        updated["remote_job"] = job
        state = self._status_rules().state_of(job)
        if state is not None:
            updated["state"] = state
        updated["last_update_time"] = self._env.now_ms()
        await self._store.save(tdomain.INDEX, task_id, updated)
        return updated

    async def cancel(self, principal: Principal | None, task_id: str) -> dict[str, Any]:
        """``POST /tasks/{id}/_cancel``: CANCEL_BATCH_PREDICT; the next GET shows the new state."""
        stored = await self._store.load(tdomain.INDEX, task_id)
        if stored is None:
            raise NotFoundError("Fail to find task")
        doc = dict(stored.source)
        is_batch = doc.get("task_type") == bdomain.BATCH_PREDICTION
        if is_batch:
            self._require_enabled()
        if not is_batch or doc.get("function_name") != "REMOTE":
            raise InvalidRequestError(bdomain.NOT_A_BATCH_TASK)
        rc = await self._connector_for(principal, doc, "You don't have permission to cancel this batch job")
        output = await self._run(rc, bdomain.CANCEL_BATCH_PREDICT, doc.get("remote_job") or {})
        if not bdomain.is_cancel_accepted(output):
            raise ExecutionError(bdomain.CANCEL_FAILED, error_type="exception")
        return {"status": "OK"}

    def _require_enabled(self) -> None:
        if not self._settings.current.flag("offline_batch_inference_enabled"):
            # ML Commons answers 500; a feature switched off is the caller's problem (400, same type).
            raise InvalidRequestError(bdomain.DISABLED, error_type="illegal_state_exception")

    async def _count_active(self) -> int:
        docs = await self._store.load_all(tdomain.INDEX)
        return sum(
            1
            for d in docs
            if d.source.get("task_type") == bdomain.BATCH_PREDICTION
            and d.source.get("state") in tdomain.UNFINISHED_STATES
        )

    async def _connector_for(
        self, principal: Principal | None, doc: Mapping[str, Any], denied: str
    ) -> RuntimeConnector:
        """The task's model's connector: the deployed one, else built afresh (as ML Commons does)."""
        model_id = str(doc.get("model_id"))
        stored = await self._store.load(mdomain.INDEX, model_id)
        if stored is None:
            raise NotFoundError("Failed to retrieve the ML model for the given task ID")
        model = Model.from_doc(stored.source)
        await self._model_access.check(principal, model, denied)
        deployed = self._runtime.get(model_id)
        if deployed is None:
            deployed = await self._builder.model(model_id, model)
        return deployed.connector

    async def _run(
        self, rc: RuntimeConnector, action_type: str, remote_job: Mapping[str, Any]
    ) -> dict[str, Any]:
        if action_type not in rc.actions:
            raise bdomain.underivable(action_type)
        inp = PredictInput(
            algorithm="REMOTE", parameters=bdomain.job_parameters(remote_job), action_type=action_type
        )
        return {"inference_results": await self._executor.predict(rc, inp)}

    def _status_rules(self) -> bdomain.StatusRules:
        current = self._settings.current
        regexes = {
            key: str(current.value(_STATUS_REGEX + key))
            for key in ("cancelling", "cancelled", "completed", "expired", "failed")
        }
        return bdomain.StatusRules.compile(current.strings("remote_job.status_field"), regexes)
