"""Deploy and undeploy through tasks; restoring the runtime after a restart."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from mlgate.domain import connector as cdomain
from mlgate.domain import controller as controller_domain
from mlgate.domain import model as mdomain
from mlgate.domain import task as tdomain
from mlgate.domain.errors import ForbiddenError, InvalidRequestError, MlgateError, NotFoundError
from mlgate.domain.guardrails import compile_guardrails
from mlgate.domain.interface import compile_interface
from mlgate.domain.interface_presets import preset_interface
from mlgate.domain.principal import Principal
from mlgate.domain.rate_limit import build_rate_limiter, build_user_limiters
from mlgate.remote.client import ClientPool
from mlgate.remote.runtime_connector import build_runtime_connector
from mlgate.services.access import AccessPolicy
from mlgate.services.changes import CONNECTOR, DEPLOY, DEPLOY_REPORT, MODEL, MODEL_GROUP, UNDEPLOY, ChangeHub
from mlgate.services.cluster import NodeRegistry
from mlgate.services.connectors import INDEX as CONNECTOR_INDEX
from mlgate.services.connectors import ConnectorService
from mlgate.services.doc_cache import DocumentCache
from mlgate.services.environment import Environment
from mlgate.services.runtime import DeployedModel, ModelRuntime
from mlgate.services.settings import SettingsService
from mlgate.services.tasks import TaskService
from mlgate.storage.store import Store, VersionConflict

log = logging.getLogger("mlgate.deployment")

INDEX = mdomain.INDEX


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
        hub: ChangeHub,
        groups: DocumentCache,
        models: DocumentCache,
        nodes: NodeRegistry,
        *,
        clock: Callable[[], float] = time.monotonic,
        report_timeout_s: float = 30.0,
    ) -> None:
        """``groups`` and ``models`` hold the documents predicts read; this service drops them on every
        change it applies. ``clock`` (monotonic seconds) drives rate limiters; ``report_timeout_s`` bounds
        how long a deploy waits for the target nodes to report."""
        self._store = store
        self._env = env
        self._settings = settings
        self._access = access
        self._connectors = connectors
        self._tasks = tasks
        self._runtime = runtime
        self._pool = pool
        self._clock = clock
        self._hub = hub
        self._groups = groups
        self._models = models
        self._nodes = nodes
        self._report_timeout_s = report_timeout_s
        self._waiting: dict[str, _Reports] = {}

    async def check_model_access(
        self,
        principal: Principal | None,
        model: Mapping[str, Any],
        message: str = "User doesn't have privilege to perform this operation on this model",
    ) -> None:
        """The model's group decides; models without a group are open.

        ml-commons: plugin/.../helper/ModelAccessControlHelper.java (validateModelGroupAccess).
        """
        if principal is None or not self._access.model_control_on(principal):
            return
        group_id = model.get("model_group_id")
        if not group_id:
            return
        group = await self._groups.get(group_id)
        if group is not None and not self._access.can_access_model_group(principal, group):
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
        # Each worker node enforces its share of the model's and its users' limits, as ML Commons does.
        worker_nodes = max(1, len(model.get("planning_worker_nodes") or ()))
        return DeployedModel(
            model_id=model_id,
            source=dict(model),
            connector=runtime_connector,
            connector_id=connector_id,
            rate_limiter=build_rate_limiter(
                model.get("rate_limiter"), worker_nodes=worker_nodes, clock=self._clock
            ),
            user_limiters=build_user_limiters(
                await self._controller_limiters(model_id, model), worker_nodes=worker_nodes, clock=self._clock
            ),
            interface=compile_interface(interface),
            guardrails=compile_guardrails(model.get("guardrails")),
        )

    async def _controller_limiters(self, model_id: str, model: Mapping[str, Any]) -> Mapping[str, Any]:
        # As ML Commons: the controller is read only for a model whose flag says it has one.
        if not model.get("is_controller_enabled"):
            return {}
        stored = await self._store.load(controller_domain.INDEX, model_id)
        return (stored.source.get("user_rate_limiter") or {}) if stored is not None else {}

    async def deploy(
        self, principal: Principal | None, model_id: str, body: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """``POST /models/{id}/_deploy`` — every target node loads the model and reports.

        ml-commons: plugin/.../action/deploy/TransportDeployModelAction.java.
        """
        stored = await self._store.load(INDEX, model_id)
        if stored is None:
            raise NotFoundError("Failed to find model")
        await self.check_model_access(principal, stored.source)
        self._connectors.require_remote_inference()
        targets, custom = self._plan(body, stored.source)
        task_id, task = await self._tasks.create(
            tdomain.DEPLOY_MODEL, is_async=True, model_id=model_id, worker_nodes=targets
        )
        await self.update_model(model_id, _deploying(targets, deploy_to_all=not custom))
        task = tdomain.finish(task, tdomain.RUNNING, now=self._env.now_ms())
        reports = self._expect(task_id, targets)
        await self._hub.publish(DEPLOY, _encode({"model_id": model_id, "task_id": task_id, "nodes": targets}))
        try:
            outcome = await asyncio.wait_for(asyncio.shield(reports.done), self._report_timeout_s)
        except TimeoutError:
            outcome = reports.received
        finally:
            self._waiting.pop(task_id, None)
        loaded = [node for node in targets if node in outcome and outcome[node] is None]
        errors = {
            node: outcome.get(node) or "node did not report in time" for node in targets if node not in loaded
        }
        if not loaded:
            state, task_state = mdomain.DEPLOY_FAILED, tdomain.FAILED
        elif errors:
            state, task_state = mdomain.PARTIALLY_DEPLOYED, tdomain.COMPLETED_WITH_ERROR
        else:
            state, task_state = mdomain.DEPLOYED, tdomain.COMPLETED
        await self.update_model(model_id, _deployed(state, len(loaded), self._env.now_ms()))
        await self._tasks.finish(task_id, task, task_state, error=_encode(errors) if errors else None)
        await self._hub.publish(MODEL, model_id, local=False)
        return {"task_id": task_id, "task_type": tdomain.DEPLOY_MODEL, "status": tdomain.COMPLETED}

    def _plan(self, body: Mapping[str, Any] | None, model: Mapping[str, Any]) -> tuple[list[str], bool]:
        """Target nodes: every eligible live node, or the requested ones (custom plan)."""
        eligible = [n.node_id for n in self._nodes.eligible(self._settings)]
        requested = body.get("node_ids") if body else None
        if requested is not None:
            if not self._settings.current.flag("allow_custom_deployment_plan"):
                raise InvalidRequestError("Don't allow custom deployment plan")
            if not isinstance(requested, list):
                raise InvalidRequestError(
                    "node_ids must be an array of node ids", error_type="parse_exception"
                )
            eligible = [node for node in eligible if node in requested]
            serving = model.get("planning_worker_nodes") or () if _is_serving(model) else ()
            if stale := [node for node in serving if node not in requested]:
                raise InvalidRequestError(
                    f"Model already deployed to these nodes: [{', '.join(stale)}], but they are not included in "
                    "target node ids. Undeploy model from these nodes if don't need them any more.Undeploy from old "
                    "nodes before try to deploy model on new nodes. Or include all old nodes on your target nodes."
                )
        if not eligible:
            raise InvalidRequestError("no eligible node found")
        return eligible, requested is not None

    def _expect(self, task_id: str, nodes: list[str]) -> _Reports:
        reports = _Reports(set(nodes))
        self._waiting[task_id] = reports
        return reports

    async def apply_change(self, kind: str, key: str) -> None:
        """Follow deploys, reports, undeploys, model and connector changes (from any process)."""
        if kind == DEPLOY:
            order = _decode(key)
            self._models.forget(order["model_id"])
            await self._on_deploy(order)
        elif kind == DEPLOY_REPORT:
            report = _decode(key)
            waiting = self._waiting.get(report["task_id"])
            if waiting is not None:
                waiting.add(report["node_id"], report.get("error"))
        elif kind == UNDEPLOY:
            self._models.forget(key)
            if self._runtime.drop(key):
                await self._pool.drop(f"model:{key}")
        elif kind == MODEL:
            self._models.forget(key)
            await self.sync_model(key)
        elif kind == CONNECTOR:
            await self.refresh_connector(key)
        elif kind == MODEL_GROUP:
            self._groups.forget(key)

    async def _on_deploy(self, order: Mapping[str, Any]) -> None:
        if self._env.node_id not in order["nodes"]:
            return
        error: str | None = None
        stored = await self._store.load(INDEX, order["model_id"])
        try:
            if stored is None:
                raise NotFoundError("Failed to find model")
            await self.load_runtime(order["model_id"], stored.source)
        except MlgateError as exc:
            error = exc.message
        report = {"task_id": order["task_id"], "node_id": self._env.node_id, "error": error}
        await self._hub.publish(DEPLOY_REPORT, _encode(report))

    async def update_model(self, model_id: str, change: Callable[[dict[str, Any]], None]) -> None:
        """Read-modify-write a model document, retrying when another node wrote it meanwhile."""
        while True:
            stored = await self._store.load(INDEX, model_id)
            if stored is None:
                return
            doc = dict(stored.source)
            change(doc)
            doc["last_updated_time"] = self._env.now_ms()
            try:
                await self._store.save(INDEX, model_id, doc, if_version=stored.version)
                self._models.forget(model_id)
                return
            except VersionConflict:
                continue

    async def undeploy(self, principal: Principal | None, model_ids: list[str]) -> dict[str, Any]:
        """``POST /models/{id}/_undeploy`` and ``/models/_undeploy`` — node-keyed stats."""
        if not model_ids:
            raise InvalidRequestError("Must set specific model ids to undeploy")
        if len(model_ids) > 1 and self._access.model_control_on(principal):
            raise InvalidRequestError("only support undeploy one model")
        stats: dict[str, dict[str, str]] = {}
        for model_id in model_ids:
            stored = await self._store.load(INDEX, model_id)
            if stored is None:
                continue
            if len(model_ids) == 1:
                try:
                    await self.check_model_access(principal, stored.source)
                except ForbiddenError as exc:
                    raise InvalidRequestError(f"No permission to undeploy model {model_id}") from exc
            serving = {n.node_id for n in self._nodes.workers_of(model_id)}
            for node in serving | {self._env.node_id}:
                stats.setdefault(node, {})[model_id] = "undeployed" if node in serving else "not_found"
            await self._hub.publish(UNDEPLOY, model_id)
            await self.update_model(model_id, _undeployed(self._env.now_ms()))
            # Other processes may have read the document between the two: tell them it changed again.
            await self._hub.publish(MODEL, model_id, local=False)
        return {node: {"stats": models} for node, models in stats.items()}

    async def sync_model(self, model_id: str) -> None:
        """A model document changed: rebuild this node's predictor from it, or drop it."""
        stored = await self._store.load(INDEX, model_id)
        state = stored.source.get("model_state") if stored is not None else None
        if stored is None or state in (mdomain.UNDEPLOYED, mdomain.DEPLOY_FAILED, mdomain.REGISTERED):
            if self._runtime.drop(model_id):
                await self._pool.drop(f"model:{model_id}")
            return
        if self._runtime.get(model_id) is not None and state in SERVING_STATES:
            await self.load_runtime(model_id, stored.source)

    async def refresh_connector(self, connector_id: str) -> None:
        """A connector changed (credential rotation): rebuild the models that use it, in place."""
        for model_id in self._runtime.using_connector(connector_id):
            deployed = self._runtime.get(model_id)
            if deployed is not None:
                await self.load_runtime(model_id, deployed.source)
        await self._pool.drop(f"connector:{connector_id}")

    def may_serve(self, model: Mapping[str, Any]) -> bool:
        """Whether this node should serve a deployed model (it is one of its targets, or may join)."""
        me = self._env.node_id
        if me in (model.get("planning_worker_nodes") or ()):
            return True
        eligible = {n.node_id for n in self._nodes.eligible(self._settings)}
        return bool(model.get("deploy_to_all_nodes")) and me in eligible

    async def join(self, model_id: str, model: Mapping[str, Any]) -> DeployedModel:
        """Load a model deployed to all nodes on this node, and add this node to its plan."""
        deployed = await self.load_runtime(model_id, model)
        me = self._env.node_id
        if me not in (model.get("planning_worker_nodes") or ()):
            await self.update_model(model_id, _add_worker(me))
            await self._hub.publish(MODEL, model_id, local=False)
        return deployed

    async def restore(self) -> None:
        """At start-up: fail this node's interrupted tasks, then serve again what it served."""
        me = self._env.node_id
        others = {n.node_id for n in self._nodes.live()} - {me}
        await self._tasks.fail_unfinished(
            "mlgate restarted before the task finished", lambda node: node == me or node not in others
        )
        redeploy = self._settings.current.flag("model_auto_redeploy.enable")
        for doc in await self._store.load_all(INDEX):
            state = doc.source.get("model_state")
            planned = set(doc.source.get("planning_worker_nodes") or ())
            if state == mdomain.DEPLOYING and not (planned & others):
                await self.update_model(doc.id, _deployed(mdomain.DEPLOY_FAILED, 0, self._env.now_ms()))
            elif state in SERVING_STATES and self.may_serve(doc.source):
                if not redeploy:
                    await self.update_model(doc.id, _remove_worker(me))
                    continue
                try:
                    await self.join(doc.id, doc.source)
                except MlgateError:
                    log.exception("redeploying model %s failed", doc.id)
                    await self.update_model(doc.id, _remove_worker(me))

    async def reap(self) -> None:
        """Drop nodes whose heartbeat expired: fail their tasks, take them out of model plans.

        Only the live node with the lowest id does this, so survivors do not all write at once.
        """
        live = self._nodes.live()
        expired = self._nodes.expired()
        if not expired or not live or live[0].node_id != self._env.node_id:
            return
        for node in expired:
            log.warning("node %s (%s) left the cluster: its heartbeat expired", node.node_id, node.name)
            await self._tasks.fail_unfinished(f"node {node.node_id} left the cluster", node.node_id.__eq__)
            for doc in await self._store.load_all(INDEX):
                if node.node_id in (doc.source.get("planning_worker_nodes") or ()):
                    await self.update_model(doc.id, _remove_worker(node.node_id))
                    await self._hub.publish(MODEL, doc.id, local=False)
            await self._store.remove_node(node.node_id)
        await self._nodes.refresh()


SERVING_STATES = (mdomain.DEPLOYED, mdomain.PARTIALLY_DEPLOYED)


class _Reports:
    """Deploy reports of one task as they arrive: node id → error (None when it loaded)."""

    def __init__(self, nodes: set[str]) -> None:
        self.expected = nodes
        self.received: dict[str, str | None] = {}
        self.done: asyncio.Future[dict[str, str | None]] = asyncio.get_running_loop().create_future()

    def add(self, node_id: str, error: str | None) -> None:
        # Several processes of one node each report; a success from any of them counts.
        if node_id not in self.received or error is None:
            self.received[node_id] = error
        if self.expected <= set(self.received) and not self.done.done():
            self.done.set_result(dict(self.received))


def _encode(value: Any) -> str:
    return orjson.dumps(value).decode()


def _decode(text: str) -> dict[str, Any]:
    value = orjson.loads(text)
    assert isinstance(value, dict)
    return value


def _is_serving(model: Mapping[str, Any]) -> bool:
    return model.get("model_state") in (mdomain.DEPLOYED, mdomain.PARTIALLY_DEPLOYED)


def _deploying(targets: list[str], *, deploy_to_all: bool) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        doc["model_state"] = mdomain.DEPLOYING
        doc["planning_worker_node_count"] = len(targets)
        doc["planning_worker_nodes"] = list(targets)
        doc["deploy_to_all_nodes"] = deploy_to_all

    return change


def _deployed(state: str, loaded: int, now: int) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        doc["model_state"] = state
        doc["current_worker_node_count"] = loaded
        if loaded:
            doc["last_deployed_time"] = now
            doc.setdefault("auto_redeploy_retry_times", 0)

    return change


def _undeployed(now: int) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        doc["model_state"] = mdomain.UNDEPLOYED
        doc["last_undeployed_time"] = now
        doc["planning_worker_nodes"] = []
        doc["planning_worker_node_count"] = 0
        doc["current_worker_node_count"] = 0

    return change


def _add_worker(node_id: str) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        nodes = [n for n in doc.get("planning_worker_nodes") or () if n != node_id] + [node_id]
        doc["planning_worker_nodes"] = nodes
        doc["planning_worker_node_count"] = len(nodes)
        doc["current_worker_node_count"] = min(len(nodes), int(doc.get("current_worker_node_count", 0)) + 1)

    return change


def _remove_worker(node_id: str) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        nodes = [n for n in doc.get("planning_worker_nodes") or () if n != node_id]
        doc["planning_worker_nodes"] = nodes
        doc["planning_worker_node_count"] = len(nodes)
        doc["current_worker_node_count"] = max(0, int(doc.get("current_worker_node_count", 0)) - 1)
        if not nodes and doc.get("model_state") in SERVING_STATES:
            doc["model_state"] = mdomain.DEPLOY_FAILED

    return change
