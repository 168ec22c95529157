"""What the live node with the lowest id does periodically, so survivors do not all write at once:
drop nodes whose heartbeat expired, and undeploy models left idle past their time to live."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from mlgate.domain import model as mdomain
from mlgate.domain.model import Model
from mlgate.services.changes import ChangeHub
from mlgate.services.cluster import NodeRegistry
from mlgate.services.deployment import DeploymentService
from mlgate.services.environment import Environment
from mlgate.services.events import ModelChanged
from mlgate.services.model_writes import ModelWrites
from mlgate.services.settings import SettingsService
from mlgate.services.tasks import TaskService
from mlgate.storage.store import Store

log = logging.getLogger("mlgate.housekeeping")


class Housekeeping:
    """Run by every node after each heartbeat; only the lowest live node id acts."""

    def __init__(
        self,
        store: Store,
        env: Environment,
        settings: SettingsService,
        nodes: NodeRegistry,
        tasks: TaskService,
        writes: ModelWrites,
        deployment: DeploymentService,
        hub: ChangeHub,
    ) -> None:
        self._store = store
        self._env = env
        self._settings = settings
        self._nodes = nodes
        self._tasks = tasks
        self._writes = writes
        self._deployment = deployment
        self._hub = hub
        self._last_sweep_ms: int | None = None
        # One sweep at a time: a caller that finds one running waits for it rather than skip it.
        self._sweeping = asyncio.Lock()

    def _is_leader(self) -> bool:
        live = self._nodes.live()
        return bool(live) and live[0].node_id == self._env.node_id

    async def run(self) -> None:
        """One round after a heartbeat."""
        await self.reap()
        await self.expire_idle_models()

    async def reap(self) -> None:
        """Drop nodes whose heartbeat expired: fail their tasks, take them out of model plans."""
        expired = self._nodes.expired()
        if not expired or not self._is_leader():
            return
        for node in expired:
            log.warning("node %s (%s) left the cluster: its heartbeat expired", node.node_id, node.name)
            await self._tasks.fail_unfinished(f"node {node.node_id} left the cluster", node.node_id.__eq__)
            gone = node.node_id
            for doc in await self._store.load_all(mdomain.INDEX):
                if gone in Model.from_doc(doc.source).workers:
                    await self._writes.change(doc.id, partial(Model.without_worker, node_id=gone))
                    await self._hub.publish(ModelChanged(doc.id), local=False)
            await self._store.remove_node(node.node_id)
        await self._nodes.refresh()

    async def expire_idle_models(self) -> list[str]:
        """Undeploy every serving model that went unused on all its nodes for its TTL; the ids undeployed.

        As ML Commons' ``MLSyncUpCron``: the check runs every
        ``plugins.ml_commons.sync_up_job_interval_in_seconds`` (0 turns it off), a node's last use of a
        model is its deploy or latest predict there (heartbeats carry it), and a model is undeployed
        only when it has expired on every node serving it.
        """
        async with self._sweeping:
            interval_ms = int(self._settings.current.number("sync_up_job_interval_in_seconds") * 1000)
            now = self._env.now_ms()
            due = self._last_sweep_ms is None or now - self._last_sweep_ms >= interval_ms
            if interval_ms <= 0 or not due or not self._is_leader():
                return []
            self._last_sweep_ms = now
            expired = []
            for doc in await self._store.load_all(mdomain.INDEX):
                model = Model.from_doc(doc.source)
                if model.ttl_ms is None or not model.is_serving:
                    continue
                workers = self._nodes.workers_of(doc.id)
                uses = [self._nodes.last_access(node.node_id, doc.id) for node in workers]
                if not workers or None in uses:
                    continue
                if all(model.has_expired(used, now) for used in uses if used is not None):
                    log.info("model %s was idle for longer than its TTL: undeploying it", doc.id)
                    await self._deployment.undeploy_everywhere(doc.id)
                    expired.append(doc.id)
            return expired
