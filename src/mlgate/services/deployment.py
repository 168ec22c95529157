"""Deploy and undeploy through tasks; restoring the runtime after a restart."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from mlgate.domain import connector as cdomain
from mlgate.domain import model as mdomain
from mlgate.domain import task as tdomain
from mlgate.domain.errors import ForbiddenError, InvalidRequestError, MlgateError, NotFoundError
from mlgate.domain.guardrails import compile_guardrails
from mlgate.domain.interface import compile_interface
from mlgate.domain.interface_presets import preset_interface
from mlgate.domain.principal import Principal
from mlgate.domain.rate_limit import build_rate_limiter
from mlgate.remote.client import ClientPool
from mlgate.remote.executor import build_runtime_connector
from mlgate.services.access import AccessPolicy
from mlgate.services.connectors import INDEX as CONNECTOR_INDEX
from mlgate.services.connectors import ConnectorService
from mlgate.services.environment import Environment
from mlgate.services.runtime import DeployedModel, ModelRuntime
from mlgate.services.settings import SettingsService
from mlgate.services.tasks import TaskService
from mlgate.storage.store import Store

INDEX = mdomain.INDEX
GROUP_INDEX = ".plugins-ml-model-group"


class DeploymentService:
    """Loads models into the runtime and keeps the model documents' states in step."""

    def __init__(
        self,
        store: Store,
        env: Environment,
        settings: SettingsService,
        access: AccessPolicy,
        connectors: ConnectorService,
        tasks: TaskService,
        runtime: ModelRuntime,
        pool: ClientPool,
        *,
        clock: Callable[[], float] = time.monotonic,
        worker_nodes: int = 1,
    ) -> None:
        """``clock`` (monotonic seconds) drives rate limiters; ``worker_nodes`` is how many nodes serve a
        model, each enforcing its share of the model's ``rate_limiter``."""
        self._store = store
        self._env = env
        self._settings = settings
        self._access = access
        self._connectors = connectors
        self._tasks = tasks
        self._runtime = runtime
        self._pool = pool
        self._clock = clock
        self._worker_nodes = worker_nodes

    async def check_model_access(
        self,
        principal: Principal | None,
        model: Mapping[str, Any],
        message: str = "User doesn't have privilege to perform this operation on this model",
    ) -> None:
        """The model's group decides (§9.3); models without a group are open."""
        if principal is None or not self._access.model_control_on(principal):
            return
        group_id = model.get("model_group_id")
        if not group_id:
            return
        group = await self._store.load(GROUP_INDEX, group_id)
        if group is not None and not self._access.can_access_model_group(principal, group.source):
            raise ForbiddenError(message)

    async def load_runtime(self, model_id: str, model: Mapping[str, Any]) -> DeployedModel:
        """Build the in-memory predictor and install it, replacing any older one."""
        deployed = await self.build_runtime(model_id, model)
        self._runtime.put(deployed)
        return deployed

    async def build_runtime(self, model_id: str, model: Mapping[str, Any]) -> DeployedModel:
        """Build the in-memory predictor without installing it: load the connector, decrypt, prepare."""
        connector_id = model.get("connector_id")
        if connector_id:
            stored = await self._store.load(CONNECTOR_INDEX, connector_id)
            if stored is None:
                raise NotFoundError(f"Failed to find connector:{connector_id}")
            source: Mapping[str, Any] = stored.source
            key = f"connector:{connector_id}"
        else:
            source = model.get("connector") or {}
            key = f"model:{model_id}"
        credential = self._connectors.decrypt(source.get("credential") or {})
        runtime_connector = build_runtime_connector(key, source, credential, cdomain.actions_of(source))
        # ML Commons stores the preset at register; a model registered without one still gets it here.
        interface = model.get("interface") if "interface" in model else preset_interface(source)
        return DeployedModel(
            model_id=model_id,
            source=dict(model),
            connector=runtime_connector,
            connector_id=connector_id,
            rate_limiter=build_rate_limiter(
                model.get("rate_limiter"), worker_nodes=self._worker_nodes, clock=self._clock
            ),
            interface=compile_interface(interface),
            guardrails=compile_guardrails(model.get("guardrails")),
        )

    async def deploy(
        self, principal: Principal | None, model_id: str, body: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """``POST /models/{id}/_deploy`` — synchronous on one node; the task records the outcome."""
        stored = await self._store.load(INDEX, model_id)
        if stored is None:
            raise NotFoundError("Failed to find model")
        await self.check_model_access(principal, stored.source)
        self._connectors.require_remote_inference()
        if body and body.get("node_ids") is not None:
            if not self._settings.current.flag("allow_custom_deployment_plan"):
                raise InvalidRequestError("Don't allow custom deployment plan")
            node_ids = body["node_ids"]
            if not isinstance(node_ids, list) or self._env.node_id not in node_ids:
                raise InvalidRequestError("no eligible node found")
        task_id, task = await self._tasks.create(tdomain.DEPLOY_MODEL, is_async=True, model_id=model_id)
        await self._set_state(model_id, mdomain.DEPLOYING, planning=True)
        task = tdomain.finish(task, tdomain.RUNNING, now=self._env.now_ms())
        try:
            await self.load_runtime(model_id, stored.source)
        except MlgateError as exc:
            await self._tasks.finish(
                task_id, task, tdomain.FAILED, error=orjson.dumps({self._env.node_id: exc.message}).decode()
            )
            await self._set_state(model_id, mdomain.DEPLOY_FAILED)
            return {"task_id": task_id, "task_type": tdomain.DEPLOY_MODEL, "status": tdomain.COMPLETED}
        await self._set_state(model_id, mdomain.DEPLOYED)
        await self._tasks.finish(task_id, task, tdomain.COMPLETED)
        return {"task_id": task_id, "task_type": tdomain.DEPLOY_MODEL, "status": tdomain.COMPLETED}

    async def _set_state(self, model_id: str, state: str, *, planning: bool = False) -> None:
        stored = await self._store.load(INDEX, model_id)
        if stored is None:
            return
        doc = dict(stored.source)
        now = self._env.now_ms()
        doc["model_state"] = state
        doc["last_updated_time"] = now
        if planning:
            doc["planning_worker_node_count"] = 1
            doc["planning_worker_nodes"] = [self._env.node_id]
            doc["deploy_to_all_nodes"] = True
        if state == mdomain.DEPLOYED:
            doc["last_deployed_time"] = now
            doc["current_worker_node_count"] = 1
            doc.setdefault("auto_redeploy_retry_times", 0)
        elif state in (mdomain.UNDEPLOYED, mdomain.DEPLOY_FAILED):
            doc["current_worker_node_count"] = 0
            if state == mdomain.UNDEPLOYED:
                doc["last_undeployed_time"] = now
                doc["planning_worker_nodes"] = []
                doc["planning_worker_node_count"] = 0
        await self._store.save(INDEX, model_id, doc)

    async def undeploy(self, principal: Principal | None, model_ids: list[str]) -> dict[str, Any]:
        """``POST /models/{id}/_undeploy`` and ``/models/_undeploy`` — node-keyed stats."""
        if not model_ids:
            raise InvalidRequestError("Must set specific model ids to undeploy")
        if len(model_ids) > 1 and self._access.model_control_on(principal):
            raise InvalidRequestError("only support undeploy one model")
        stats: dict[str, str] = {}
        for model_id in model_ids:
            stored = await self._store.load(INDEX, model_id)
            if stored is None:
                continue
            if len(model_ids) == 1:
                try:
                    await self.check_model_access(principal, stored.source)
                except ForbiddenError as exc:
                    raise InvalidRequestError(f"No permission to undeploy model {model_id}") from exc
            loaded = self._runtime.drop(model_id)
            await self._pool.drop(f"model:{model_id}")
            stats[model_id] = "undeployed" if loaded else "not_found"
            await self._set_state(model_id, mdomain.UNDEPLOYED)
        return {self._env.node_id: {"stats": stats}} if stats else {}

    def is_deployed(self, model_id: str) -> bool:
        """Whether the model is loaded on this node."""
        return self._runtime.get(model_id) is not None

    async def refresh_connector(self, connector_id: str) -> None:
        """A connector changed (credential rotation): rebuild the models that use it, in place."""
        for model_id in self._runtime.using_connector(connector_id):
            deployed = self._runtime.get(model_id)
            if deployed is not None:
                await self.load_runtime(model_id, deployed.source)
        await self._pool.drop(f"connector:{connector_id}")

    async def restore(self) -> None:
        """At start-up: fail tasks a crash interrupted, then redeploy what was deployed."""
        await self._tasks.fail_unfinished("mlgate restarted before the task finished")
        redeploy = self._settings.current.flag("model_auto_redeploy.enable")
        for doc in await self._store.load_all(INDEX):
            state = doc.source.get("model_state")
            if state == mdomain.DEPLOYING:
                await self._set_state(doc.id, mdomain.DEPLOY_FAILED)
            elif state in (mdomain.DEPLOYED, mdomain.PARTIALLY_DEPLOYED):
                if not redeploy:
                    await self._set_state(doc.id, mdomain.DEPLOY_FAILED)
                    continue
                try:
                    await self.load_runtime(doc.id, doc.source)
                except MlgateError:
                    await self._set_state(doc.id, mdomain.DEPLOY_FAILED)
