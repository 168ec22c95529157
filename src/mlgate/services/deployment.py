"""Deploy and undeploy through tasks; restoring this node's models at start; reaping dead nodes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

import orjson

from mlgate.domain import model as mdomain
from mlgate.domain import task as tdomain
from mlgate.domain.errors import ForbiddenError, InvalidRequestError, MlgateError, NotFoundError
from mlgate.domain.model import Model
from mlgate.domain.principal import Principal
from mlgate.services.access import ModelAccess
from mlgate.services.changes import ChangeHub
from mlgate.services.cluster import NodeRegistry
from mlgate.services.connectors import ConnectorService
from mlgate.services.environment import Environment
from mlgate.services.events import DeployOrdered, DeployReported, ModelChanged, Undeployed
from mlgate.services.model_loader import ModelLoader
from mlgate.services.model_writes import ModelWrites
from mlgate.services.settings import SettingsService
from mlgate.services.tasks import TaskService
from mlgate.storage.store import Store

log = logging.getLogger("mlgate.deployment")

INDEX = mdomain.INDEX


class DeploymentService:
    """Deploy and undeploy through tasks, and the cluster's start-up restore and dead-node reaping."""

    def __init__(
        self,
        store: Store,
        env: Environment,
        settings: SettingsService,
        model_access: ModelAccess,
        connectors: ConnectorService,
        tasks: TaskService,
        loader: ModelLoader,
        writes: ModelWrites,
        hub: ChangeHub,
        nodes: NodeRegistry,
        *,
        report_timeout_s: float = 30.0,
    ) -> None:
        """``report_timeout_s`` bounds how long a deploy waits for the target nodes to report."""
        self._store = store
        self._env = env
        self._settings = settings
        self._model_access = model_access
        self._connectors = connectors
        self._tasks = tasks
        self._loader = loader
        self._writes = writes
        self._hub = hub
        self._nodes = nodes
        self._report_timeout_s = report_timeout_s
        self._waiting: dict[str, _Reports] = {}

    async def deploy(
        self, principal: Principal | None, model_id: str, body: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """``POST /models/{id}/_deploy`` — every target node loads the model and reports.

        ml-commons: plugin/.../action/deploy/TransportDeployModelAction.java.
        """
        stored = await self._store.load(INDEX, model_id)
        if stored is None:
            raise NotFoundError("Failed to find model")
        model = Model.from_doc(stored.source)
        await self._model_access.check(principal, model)
        self._connectors.require_remote_inference()
        targets, custom = self._plan(body, model)
        task_id, task = await self._tasks.create(
            tdomain.DEPLOY_MODEL, is_async=True, model_id=model_id, worker_nodes=targets
        )
        await self._writes.change(model_id, lambda m: m.deploying(targets, deploy_to_all=not custom))
        task = tdomain.finish(task, tdomain.RUNNING, now=self._env.now_ms())
        reports = self._expect(task_id, targets)
        await self._hub.publish(DeployOrdered(model_id, task_id, tuple(targets)))
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
        now = self._env.now_ms()
        await self._writes.change(model_id, lambda m: m.deployed(state, len(loaded), now))
        await self._tasks.finish(
            task_id, task, task_state, error=orjson.dumps(errors).decode() if errors else None
        )
        await self._hub.publish(ModelChanged(model_id), local=False)
        return {"task_id": task_id, "task_type": tdomain.DEPLOY_MODEL, "status": tdomain.COMPLETED}

    def _plan(self, body: Mapping[str, Any] | None, model: Model) -> tuple[list[str], bool]:
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
            serving = model.workers if model.is_serving else ()
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

    async def deploy_ordered(self, order: DeployOrdered) -> None:
        """A deploy order (from any process): a target node loads the model and reports."""
        self._writes.forget(order.model_id)
        if self._env.node_id not in order.nodes:
            return
        error: str | None = None
        stored = await self._store.load(INDEX, order.model_id)
        try:
            if stored is None:
                raise NotFoundError("Failed to find model")
            await self._loader.load(order.model_id, Model.from_doc(stored.source))
        except MlgateError as exc:
            error = exc.message
        await self._hub.publish(DeployReported(order.task_id, self._env.node_id, error))

    async def deploy_reported(self, report: DeployReported) -> None:
        """A node's deploy report: counted when this process waits for its task."""
        waiting = self._waiting.get(report.task_id)
        if waiting is not None:
            waiting.add(report.node_id, report.error)

    async def undeploy(self, principal: Principal | None, model_ids: list[str]) -> dict[str, Any]:
        """``POST /models/{id}/_undeploy`` and ``/models/_undeploy`` — node-keyed stats."""
        if not model_ids:
            raise InvalidRequestError("Must set specific model ids to undeploy")
        if len(model_ids) > 1 and self._model_access.control_on(principal):
            raise InvalidRequestError("only support undeploy one model")
        stats: dict[str, dict[str, str]] = {}
        for model_id in model_ids:
            stored = await self._store.load(INDEX, model_id)
            if stored is None:
                continue
            if len(model_ids) == 1:
                try:
                    await self._model_access.check(principal, Model.from_doc(stored.source))
                except ForbiddenError as exc:
                    raise InvalidRequestError(f"No permission to undeploy model {model_id}") from exc
            serving = {n.node_id for n in self._nodes.workers_of(model_id)}
            for node in serving | {self._env.node_id}:
                stats.setdefault(node, {})[model_id] = "undeployed" if node in serving else "not_found"
            await self._hub.publish(Undeployed(model_id))
            now = self._env.now_ms()
            await self._writes.change(model_id, partial(Model.undeployed, now=now))
            # Other processes may have read the document between the two: tell them it changed again.
            await self._hub.publish(ModelChanged(model_id), local=False)
        return {node: {"stats": models} for node, models in stats.items()}

    async def restore(self) -> None:
        """At start-up: fail this node's interrupted tasks, then serve again what it served."""
        me = self._env.node_id
        others = {n.node_id for n in self._nodes.live()} - {me}
        await self._tasks.fail_unfinished(
            "mlgate restarted before the task finished", lambda node: node == me or node not in others
        )
        redeploy = self._settings.current.flag("model_auto_redeploy.enable")
        now = self._env.now_ms()
        for doc in await self._store.load_all(INDEX):
            model = Model.from_doc(doc.source)
            if model.model_state == mdomain.DEPLOYING and not (set(model.workers) & others):
                await self._writes.change(
                    doc.id, partial(Model.deployed, state=mdomain.DEPLOY_FAILED, loaded=0, now=now)
                )
            elif model.is_serving and self._loader.may_serve(model):
                if not redeploy:
                    await self._writes.change(doc.id, partial(Model.without_worker, node_id=me))
                    continue
                try:
                    await self._loader.join(doc.id, model)
                except MlgateError:
                    log.exception("redeploying model %s failed", doc.id)
                    await self._writes.change(doc.id, partial(Model.without_worker, node_id=me))

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
            gone = node.node_id
            for doc in await self._store.load_all(INDEX):
                if gone in Model.from_doc(doc.source).workers:
                    await self._writes.change(doc.id, partial(Model.without_worker, node_id=gone))
                    await self._hub.publish(ModelChanged(doc.id), local=False)
            await self._store.remove_node(node.node_id)
        await self._nodes.refresh()


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
