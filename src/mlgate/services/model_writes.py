"""Model-document writes: read, apply a change to the record, write back unless another node wrote first."""

from __future__ import annotations

from collections.abc import Callable

from mlgate.domain.model import INDEX, Model
from mlgate.services.doc_cache import DocumentCache
from mlgate.services.environment import Environment
from mlgate.storage.store import Store, VersionConflict


class ModelWrites:
    """The one writer of model state changes (deploy plans, workers, controller flag)."""

    def __init__(self, store: Store, env: Environment, models: DocumentCache) -> None:
        """``models`` holds the documents predicts read: dropped on every write and announced change."""
        self._store = store
        self._env = env
        self._models = models

    async def change(self, model_id: str, change: Callable[[Model], Model]) -> Model | None:
        """Apply ``change`` and save, retrying on a concurrent write; None when the model is gone."""
        while True:
            stored = await self._store.load(INDEX, model_id)
            if stored is None:
                return None
            model = change(Model.from_doc(stored.source)).touched(self._env.now_ms())
            try:
                await self._store.save(INDEX, model_id, model.to_doc(), if_version=stored.version)
            except VersionConflict:
                continue
            self._models.forget(model_id)
            return model

    def forget(self, model_id: str) -> None:
        """The model changed elsewhere: predicts read it again."""
        self._models.forget(model_id)
