"""This node's predictors: loading, joining a deploy-to-all model, following model and connector changes."""

from __future__ import annotations

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
    """Installs, replaces and drops this node's predictors in the :class:`ModelRuntime`."""

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

    async def load(self, model_id: str, model: Model) -> DeployedModel:
        """Build the predictor and install it, replacing any older one."""
        deployed = await self._builder.model(model_id, model)
        self._runtime.put(deployed)
        return deployed

    def may_serve(self, model: Model) -> bool:
        """Whether this node should serve a deployed model (it is one of its targets, or may join)."""
        me = self._env.node_id
        if me in model.workers:
            return True
        eligible = {n.node_id for n in self._nodes.eligible(self._settings)}
        return bool(model.deploy_to_all_nodes) and me in eligible

    async def join(self, model_id: str, model: Model) -> DeployedModel:
        """Load a model on this node, adding this node to its plan when it is not there yet."""
        deployed = await self.load(model_id, model)
        me = self._env.node_id
        if me not in model.workers:
            await self._writes.change(model_id, lambda m: m.with_worker(me))
            await self._hub.publish(ModelChanged(model_id), local=False)
        return deployed

    async def unload(self, model_id: str) -> None:
        """Drop this node's predictor and its connection pool."""
        if self._runtime.drop(model_id):
            await self._pool.drop(f"model:{model_id}")

    async def undeployed(self, model_id: str) -> None:
        """The model was undeployed: predicts read it again, and this node drops it."""
        self._writes.forget(model_id)
        await self.unload(model_id)

    async def model_changed(self, model_id: str) -> None:
        """A model document changed: rebuild this node's predictor from it, or drop it."""
        self._writes.forget(model_id)
        stored = await self._store.load(INDEX, model_id)
        model = Model.from_doc(stored.source) if stored is not None else None
        if model is None or model.model_state in UNLOADED_STATES:
            await self.unload(model_id)
            return
        if self._runtime.get(model_id) is not None and model.is_serving:
            await self.load(model_id, model)

    async def connector_changed(self, connector_id: str) -> None:
        """A connector changed (credential rotation): rebuild the models that use it, in place."""
        for model_id in self._runtime.using_connector(connector_id):
            deployed = self._runtime.get(model_id)
            if deployed is not None:
                await self.load(model_id, deployed.model)
        await self._pool.drop(f"connector:{connector_id}")
