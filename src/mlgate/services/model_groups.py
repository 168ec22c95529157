"""Model group use cases: register, get, search, update, delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlgate.domain import model as model_domain
from mlgate.domain import model_group as group_domain
from mlgate.domain.access_rules import model_group_create_access, model_group_update_access
from mlgate.domain.errors import (
    ConflictError,
    ExecutionError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
)
from mlgate.domain.principal import Principal
from mlgate.services.access import AccessPolicy
from mlgate.services.changes import ChangeHub
from mlgate.services.documents import search_collection, write_response
from mlgate.services.environment import Environment
from mlgate.services.events import ModelGroupChanged
from mlgate.storage.store import Store, VersionConflict

INDEX = group_domain.INDEX
_ACCESS_OFF = (
    "You cannot specify model access control parameters because the Security plugin or model access "
    "control is disabled on your cluster."
)


class ModelGroupService:
    """Model groups are the unit of access control for models."""

    def __init__(self, store: Store, env: Environment, access: AccessPolicy, hub: ChangeHub) -> None:
        self._hub = hub
        self._store = store
        self._env = env
        self._access = access

    async def register(self, principal: Principal | None, body: Mapping[str, Any] | None) -> dict[str, Any]:
        """``POST /model_groups/_register``."""
        if not body:
            raise InvalidRequestError("Model group request has empty body", error_type="parse_exception")
        inp = group_domain.parse_model_group_input(body, for_update=False)
        group_id = await self.create(principal, inp)
        return {"model_group_id": group_id, "status": "CREATED"}

    async def create(self, principal: Principal | None, inp: group_domain.ModelGroupInput) -> str:
        """Create a group (also used when registering a model without a group)."""
        assert inp.name is not None
        existing = await self._store.load_where(INDEX, "name", inp.name)
        if existing:
            raise InvalidRequestError(
                f"The name you provided is already being used by a model group with ID: {existing[0].id}."
            )
        access, roles, owner = self._access_fields(principal, inp)
        group_id = inp.model_group_id or self._env.new_id()
        doc = group_domain.new_document(
            inp, now=self._env.now_ms(), access=access, backend_roles=roles, owner=owner
        )
        try:
            await self._store.save(INDEX, group_id, doc, create_only=True)
        except VersionConflict as exc:
            raise ConflictError(f"model group id '{group_id}' already exists") from exc
        await self._hub.publish(ModelGroupChanged(group_id))
        return group_id

    def _access_fields(
        self, principal: Principal | None, inp: group_domain.ModelGroupInput
    ) -> tuple[str, list[str] | None, dict[str, Any] | None]:
        if not self._access.model_control_on(principal):
            if inp.has_access_params:
                raise InvalidRequestError(_ACCESS_OFF)
            return "public", None, None
        assert principal is not None
        access, roles = model_group_create_access(principal, inp)
        return access, roles, principal.owner_json()

    async def load(self, principal: Principal | None, group_id: str) -> dict[str, Any]:
        """The group document, checked for access.

        ml-commons: plugin/.../action/model_group/GetModelGroupTransportAction.java.
        """
        doc = await self._store.load(INDEX, group_id)
        if doc is None:
            raise NotFoundError(f"Failed to find model group with the provided model group id: {group_id}")
        if not self._access.can_access_model_group(principal, doc.source):
            raise ForbiddenError("User doesn't have privilege to perform this operation on this model group")
        return dict(doc.source)

    async def search(
        self, principal: Principal | None, body: Mapping[str, Any] | None, url_params: Mapping[str, str]
    ) -> dict[str, Any]:
        """``GET|POST /model_groups/_search``."""
        return await search_collection(
            self._store,
            self._env.cpu,
            INDEX,
            body,
            url_params=url_params,
            extra_filter=self._access.model_group_filter(principal),
        )

    async def update(
        self, principal: Principal | None, group_id: str, body: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """``PUT /model_groups/{id}``.

        ml-commons: plugin/.../action/model_group/TransportUpdateModelGroupAction.java.
        """
        if body is None:
            # ML Commons throws an IOException here (500 i_o_exception); mlgate answers 400.
            raise InvalidRequestError("Model group request has empty body", error_type="i_o_exception")
        inp = group_domain.parse_model_group_input(body, for_update=True)
        stored = await self._store.load(INDEX, group_id)
        if stored is None:
            raise NotFoundError(f"Failed to find model group with the provided model group id: {group_id}")
        doc = dict(stored.source)
        if self._access.model_control_on(principal):
            assert principal is not None
            model_group_update_access(principal, doc, inp)
        elif inp.has_access_params:
            raise InvalidRequestError(_ACCESS_OFF)
        if inp.name and inp.name.strip() and inp.name != doc.get("name"):
            clash = [d for d in await self._store.load_where(INDEX, "name", inp.name) if d.id != group_id]
            if clash:
                raise InvalidRequestError(
                    f"The name you provided is already being used by another model with ID: {clash[0].id}. "
                    "Please provide a different name"
                )
            doc["name"] = inp.name
        if inp.description and inp.description.strip():
            doc["description"] = inp.description
        if inp.access_mode is not None:
            doc["access"] = inp.access_mode
            if inp.access_mode != "restricted":
                doc.pop("backend_roles", None)
        if inp.add_all_backend_roles and principal is not None:
            doc["backend_roles"] = list(principal.backend_roles)
            doc["access"] = "restricted"
        elif inp.backend_roles:
            doc["backend_roles"] = inp.backend_roles
            if inp.access_mode is None:
                doc["access"] = "restricted"
        doc["last_updated_time"] = self._env.now_ms()
        try:
            await self._store.save(INDEX, group_id, doc, if_version=stored.version)
        except VersionConflict as exc:
            raise ExecutionError(
                "Failed to update Model Group", error_type="m_l_validation_exception"
            ) from exc
        await self._hub.publish(ModelGroupChanged(group_id))
        return {"status": "Updated"}

    async def delete(self, principal: Principal | None, group_id: str) -> dict[str, Any]:
        """``DELETE /model_groups/{id}``.

        ml-commons: plugin/.../action/model_group/DeleteModelGroupTransportAction.java.
        """
        stored = await self._store.load(INDEX, group_id)
        if stored is not None and not self._access.can_access_model_group(principal, stored.source):
            raise ForbiddenError(
                "User doesn't have privilege to delete this model group",
                error_type="m_l_validation_exception",
            )
        if await self._store.load_where(model_domain.INDEX, "model_group_id", group_id):
            raise ConflictError("Cannot delete the model group when it has associated model versions")
        deleted = await self._store.delete(INDEX, group_id)
        if deleted:  # nothing changed otherwise (and an id no store keeps cannot be published)
            await self._hub.publish(ModelGroupChanged(group_id))
        return write_response(INDEX, group_id, "deleted" if deleted else "not_found", deleted)

    async def next_version(self, group_id: str) -> str:
        """Bump ``latest_version`` with optimistic concurrency; the model's version is the new value."""
        while True:
            stored = await self._store.load(INDEX, group_id)
            if stored is None:
                raise NotFoundError("Failed to find model group")
            doc = dict(stored.source)
            doc["latest_version"] = int(doc.get("latest_version", 0)) + 1
            doc["last_updated_time"] = self._env.now_ms()
            try:
                await self._store.save(INDEX, group_id, doc, if_version=stored.version)
            except VersionConflict:
                continue
            return str(doc["latest_version"])
