"""Model controllers: per-user rate limits of a model, stored beside it and loaded with it.

ml-commons: plugin/.../action/controller/*TransportAction.java, common/.../controller/MLController.java.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from mlgate.domain import controller as cdomain
from mlgate.domain import model as mdomain
from mlgate.domain.errors import ConflictError, InvalidRequestError, NotFoundError
from mlgate.domain.model import Model
from mlgate.domain.principal import Principal
from mlgate.services.access import ModelAccess
from mlgate.services.changes import ChangeHub
from mlgate.services.documents import write_response
from mlgate.services.events import ModelChanged
from mlgate.services.model_writes import ModelWrites
from mlgate.services.settings import SettingsService
from mlgate.storage.store import Store, VersionConflict

INDEX = cdomain.INDEX
NO_PRIVILEGE = "User doesn't have privilege to perform this operation on this model controller."
MODEL_NOT_FOUND = "Failed to find model to {} the corresponding model controller with the provided model ID"
CONTROLLER_NOT_FOUND = "Failed to find model controller"


def _with_id(message: str, model_id: str, model: Model) -> str:
    # ML Commons names the model in these messages unless it is hidden.
    return message if model.is_hidden is True else f"{message} Model ID: {model_id}"


class ControllerService:
    """``/_plugins/_ml/controllers/{model_id}``. Writes announce a ``model`` change, so every process
    serving the model rebuilds it with the new per-user buckets (fresh, as ML Commons redeploys them)."""

    def __init__(
        self,
        store: Store,
        settings: SettingsService,
        model_access: ModelAccess,
        writes: ModelWrites,
        hub: ChangeHub,
    ) -> None:
        self._store = store
        self._settings = settings
        self._model_access = model_access
        self._writes = writes
        self._hub = hub

    def _require_enabled(self) -> None:
        if not self._settings.current.flag("controller_enabled"):
            raise InvalidRequestError(cdomain.CONTROLLER_DISABLED, error_type="illegal_state_exception")

    async def _model(self, principal: Principal | None, model_id: str, verb: str) -> Model:
        """The model for create/update: found and accessible."""
        stored = await self._store.load(mdomain.INDEX, model_id)
        if stored is None:
            raise NotFoundError(MODEL_NOT_FOUND.format(verb))
        # Every model here is REMOTE, a function ML Commons allows controllers for.
        model = Model.from_doc(stored.source)
        await self._authorize(principal, model_id, model)
        return model

    async def _authorize(self, principal: Principal | None, model_id: str, model: Model) -> None:
        await self._model_access.check(principal, model, _with_id(NO_PRIVILEGE, model_id, model))

    async def create(
        self, principal: Principal | None, model_id: str, body: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """``POST /controllers/{model_id}``: replaces any controller of the model."""
        self._require_enabled()
        limiters = cdomain.parse_user_rate_limiter(body, operation="Create")
        model = await self._model(principal, model_id, "create")
        if model.model_state == mdomain.DEPLOYING:
            raise ConflictError(
                _with_id(
                    "Creating a model controller during its corresponding model in DEPLOYING state is not allowed, "
                    "please either create the model controller after it is deployed or before deploying it.",
                    model_id,
                    model,
                )
            )
        existed = await self._store.load(INDEX, model_id) is not None
        await self._store.save(INDEX, model_id, cdomain.controller_document(model_id, limiters))
        # ML Commons sets the flag on a first create only; setting it whenever it is missing also heals a
        # controller whose create was interrupted before the flag was written.
        if not model.is_controller_enabled:
            await self._writes.change(model_id, partial(Model.with_controller, enabled=True))
        await self._hub.publish(ModelChanged(model_id))
        return {"model_id": model_id, "status": "UPDATED" if existed else "CREATED"}

    async def update(
        self, principal: Principal | None, model_id: str, body: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """``PUT /controllers/{model_id}``: merged per user and per field into the stored controller."""
        self._require_enabled()
        update = cdomain.parse_user_rate_limiter(body, operation="Update")
        model = await self._model(principal, model_id, "create")  # ML Commons says "create" here too
        while True:
            stored = await self._store.load(INDEX, model_id)
            if stored is None:
                if not model.is_controller_enabled:
                    raise ConflictError(
                        _with_id(
                            "Model controller haven't been created for the model. "
                            "Consider calling create model controller api instead.",
                            model_id,
                            model,
                        )
                    )
                raise NotFoundError(CONTROLLER_NOT_FOUND)
            current = stored.source.get("user_rate_limiter") or {}
            merged = cdomain.merge_user_rate_limiter(current, update)
            if merged == current:
                return write_response(INDEX, model_id, "noop", stored)
            try:
                saved = await self._store.save(
                    INDEX, model_id, cdomain.controller_document(model_id, merged), if_version=stored.version
                )
                break
            except VersionConflict:
                continue
        await self._hub.publish(ModelChanged(model_id))
        return write_response(INDEX, model_id, "updated", saved)

    async def get(self, principal: Principal | None, model_id: str) -> dict[str, Any]:
        """``GET /controllers/{model_id}``: the stored controller, bare."""
        self._require_enabled()
        stored = await self._store.load(INDEX, model_id)
        if stored is None:
            raise NotFoundError("Failed to find model controller with the provided model ID")
        model = await self._store.load(mdomain.INDEX, model_id)
        if model is None:
            raise NotFoundError(MODEL_NOT_FOUND.format("get"))
        await self._authorize(principal, model_id, Model.from_doc(model.source))
        return cdomain.controller_document(model_id, dict(stored.source.get("user_rate_limiter") or {}))

    async def delete(self, principal: Principal | None, model_id: str) -> dict[str, Any]:
        """``DELETE /controllers/{model_id}``: the users of a serving model are no longer limited."""
        self._require_enabled()
        model = await self._store.load(mdomain.INDEX, model_id)
        if model is not None:
            await self._authorize(principal, model_id, Model.from_doc(model.source))
        deleted = await self._store.delete(INDEX, model_id)
        if deleted is None:
            raise NotFoundError(CONTROLLER_NOT_FOUND)
        if model is not None:
            await self._writes.change(model_id, partial(Model.with_controller, enabled=False))
            await self._hub.publish(ModelChanged(model_id))
        return write_response(INDEX, model_id, "deleted", deleted)
