"""This node's predictors: loading, joining a deploy-to-all model, following model and connector changes."""

from __future__ import annotations

import asyncio

from mlgate.domain.errors import InvalidRequestError, NotFoundError
from mlgate.domain.model import INDEX, UNLOADED_STATES, Model
from mlgate.remote.client import ClientPool
from mlgate.services.changes import ChangeHub
from mlgate.services.cluster import NodeRegistry
from mlgate.services.environment import Environment
from mlgate.services.events import ModelChanged
from mlgate.services.model_writes import ModelWrites
from mlgate.services.runtime import DeployedModel, ModelRuntime
from mlgate.services.runtime_builder import RuntimeBuilder
from mlgate.services.settings import SettingsService
from mlgate.storage.store import Store


class ModelLoader:
    """Installs, replaces and drops this node's predictors in the :class:`ModelRuntime`.

    Reading a model and (re)installing or dropping its predictor happen under one lock: a rebuild that
    read the document before a later change must not finish after the later one and win.
    """

    def __init__(
        self,
        store: Store,
        env: Environment,
        settings: SettingsService,
        nodes: NodeRegistry,
        runtime: ModelRuntime,
        pool: ClientPool,
        builder: RuntimeBuilder,
        writes: ModelWrites,
        hub: ChangeHub,
    ) -> None:
        self._store = store
        self._env = env
        self._settings = settings
        self._nodes = nodes
        self._runtime = runtime
        self._pool = pool
        self._builder = builder
        self._writes = writes
        self._hub = hub
        self._lock = asyncio.Lock()

    async def _load(self, model_id: str, model: Model) -> DeployedModel:
        # Build the predictor and install it, replacing any older one (callers hold the lock).
        deployed = await self._builder.model(model_id, model)
        self._runtime.put(deployed)
        return deployed

    async def load(self, model_id: str) -> DeployedModel:
        """A deploy order: load the model as stored now, replacing any older predictor."""
        async with self._lock:
            stored = await self._store.load(INDEX, model_id)
            if stored is None:
                raise NotFoundError("Failed to find model")
            return await self._load(model_id, Model.from_doc(stored.source))

    def may_serve(self, model: Model) -> bool:
        """Whether this node should serve a deployed model (it is one of its targets, or may join)."""
        me = self._env.node_id
        if me in model.workers:
            return True
        eligible = {n.node_id for n in self._nodes.eligible(self._settings)}
        return bool(model.deploy_to_all_nodes) and me in eligible

    async def join(self, model_id: str) -> DeployedModel:
        """Load a deployed model on this node, adding this node to its plan when it is not there yet.

        The document is read again under the lock: the caller's copy may predate a change whose
        rebuild found nothing to rebuild here yet.
        """
        async with self._lock:
            stored = await self._store.load(INDEX, model_id)
            if stored is None:
                raise NotFoundError("Failed to find model")
            model = Model.from_doc(stored.source)
            if not model.is_serving:
                raise InvalidRequestError("Model not ready yet. Please deploy the model first.")
            deployed = await self._load(model_id, model)
        me = self._env.node_id
        if me not in model.workers:
            await self._writes.change(model_id, lambda m: m.with_worker(me))
            await self._hub.publish(ModelChanged(model_id), local=False)
        return deployed

    async def _unload(self, model_id: str) -> None:
        # Drop the predictor and the connection pool nothing deployed here uses any more (callers hold
        # the lock).
        deployed = self._runtime.get(model_id)
        if deployed is not None and self._runtime.drop(model_id):
            await self.release_pool(deployed.connector.key)

    async def release_pool(self, key: str) -> None:
        """Close the connection pool of ``key`` unless a deployed model sends through it (a later send
        opens a new one: closing is never wrong, keeping one for nothing is a leak)."""
        if not self._runtime.uses_pool(key):
            await self._pool.drop(key)

    async def undeployed(self, model_id: str) -> None:
        """The model was undeployed: predicts read it again, and this node drops it."""
        self._writes.forget(model_id)
        async with self._lock:
            await self._unload(model_id)

    async def model_changed(self, model_id: str) -> None:
        """A model document changed: rebuild this node's predictor from it, or drop it."""
        self._writes.forget(model_id)
        async with self._lock:
            stored = await self._store.load(INDEX, model_id)
            model = Model.from_doc(stored.source) if stored is not None else None
            if model is None or model.model_state in UNLOADED_STATES:
                await self._unload(model_id)
            elif self._runtime.get(model_id) is not None and model.is_serving:
                await self._load(model_id, model)

    async def connector_changed(self, connector_id: str) -> None:
        """A connector changed (credential rotation) or was deleted: rebuild the models that use it, in
        place, and close its pool (the rebuilt models open a new one on their next call)."""
        async with self._lock:
            for model_id in self._runtime.using_connector(connector_id):
                deployed = self._runtime.get(model_id)
                if deployed is not None:
                    await self._load(model_id, deployed.model)
            await self._pool.drop(f"connector:{connector_id}")
