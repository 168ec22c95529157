"""Remote model use cases: register, get, search, update, delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlgate.domain import connector as cdomain
from mlgate.domain import controller as controller_domain
from mlgate.domain import model as mdomain
from mlgate.domain import model_group as group_domain
from mlgate.domain import task as tdomain
from mlgate.domain.errors import ConflictError, ForbiddenError, InvalidRequestError, NotFoundError
from mlgate.domain.interface_presets import preset_interface
from mlgate.domain.model import Model
from mlgate.domain.model_group import ModelGroupInput
from mlgate.domain.principal import Principal
from mlgate.remote.secrets import CredentialCipher
from mlgate.services.access import AccessPolicy, ModelAccess
from mlgate.services.changes import ChangeHub
from mlgate.services.connectors import INDEX as CONNECTOR_INDEX
from mlgate.services.connectors import ConnectorService
from mlgate.services.deployment import DeploymentService
from mlgate.services.documents import search_collection, write_response
from mlgate.services.environment import Environment
from mlgate.services.events import ModelChanged
from mlgate.services.model_groups import ModelGroupService
from mlgate.services.tasks import TaskService
from mlgate.storage.store import Store, VersionConflict

INDEX = mdomain.INDEX
GROUP_INDEX = group_domain.INDEX
MODEL_EXCLUDES = ("connector.credential", "model_content", "content", "ui_metadata")


def public_view(source: Mapping[str, Any]) -> dict[str, Any]:
    """A model as returned to callers: the inline connector's credential removed."""
    out = dict(source)
    connector = out.get("connector")
    if isinstance(connector, dict) and "credential" in connector:
        out["connector"] = {k: v for k, v in connector.items() if k != "credential"}
    return out


class ModelService:
    """Remote models: documents, groups and connectors."""

    def __init__(
        self,
        store: Store,
        env: Environment,
        access: AccessPolicy,
        groups: ModelGroupService,
        connectors: ConnectorService,
        tasks: TaskService,
        deployment: DeploymentService,
        model_access: ModelAccess,
        cipher: CredentialCipher,
        hub: ChangeHub,
    ) -> None:
        self._hub = hub
        self._store = store
        self._env = env
        self._access = access
        self._groups = groups
        self._connectors = connectors
        self._tasks = tasks
        self._deployment = deployment
        self._model_access = model_access
        self._cipher = cipher

    async def register(
        self, principal: Principal | None, body: Mapping[str, Any] | None, *, deploy: bool
    ) -> dict[str, Any]:
        """``POST /models/_register[?deploy=true]``.

        ml-commons: plugin/.../action/register/TransportRegisterModelAction.java.
        """
        if not body:
            raise InvalidRequestError("Model register request has empty body", error_type="parse_exception")
        inp = mdomain.parse_register_input(body)
        self._connectors.require_remote_inference()
        mdomain.validate_remote_model_config(inp.extras.get("model_config"))
        group_id = await self._resolve_group(principal, inp)
        connector_field = await self._connector_field(principal, inp)
        task_id, task = await self._tasks.create(tdomain.REGISTER_MODEL, is_async=False)
        version = await self._groups.next_version(group_id)
        model_id = str(body["model_id"]) if body.get("model_id") else self._env.new_id()
        doc = mdomain.new_document(
            inp,
            model_group_id=group_id,
            version=version,
            now=self._env.now_ms(),
            connector_field=connector_field,
        )
        if "interface" not in doc:
            # ML Commons fills a preset interface for known AWS connectors at register
            # (ml-commons: common/.../utils/ModelInterfaceUtils.java).
            preset = preset_interface(await self._connector_source(connector_field))
            if preset is not None:
                doc["interface"] = preset
        try:
            await self._store.save(INDEX, model_id, doc, create_only=True)
        except VersionConflict as exc:
            await self._tasks.finish(
                task_id, task, tdomain.FAILED, error=f"model id '{model_id}' already exists"
            )
            raise ConflictError(f"model id '{model_id}' already exists") from exc
        await self._tasks.finish(task_id, task, tdomain.COMPLETED, model_id=model_id)
        if deploy:
            await self._deployment.deploy(principal, model_id, None)
        return {"task_id": task_id, "status": tdomain.CREATED, "model_id": model_id}

    async def _resolve_group(self, principal: Principal | None, inp: mdomain.RegisterInput) -> str:
        if inp.model_group_id:
            group = await self._store.load(GROUP_INDEX, inp.model_group_id)
            if group is None:
                # ML Commons answers 500 m_l_resource_not_found_exception; the id is the caller's error.
                # Its access check runs first and, for a non-admin under model access control, words it
                # "Fail to find model group" (ml-commons: plugin/.../helper/ModelAccessControlHelper.java).
                checked = principal is not None and not principal.is_admin
                checked = checked and self._access.model_control_on(principal)
                raise NotFoundError(
                    "Fail to find model group"
                    if checked
                    else f"Model Group Response is empty for {inp.model_group_id}",
                    error_type="m_l_resource_not_found_exception",
                )
            if not self._access.can_access_model_group(principal, group.source):
                raise InvalidRequestError(
                    "You don't have permissions to perform this operation on this model."
                )
            return inp.model_group_id
        existing = await self._store.load_where(GROUP_INDEX, "name", inp.name)
        if existing:
            group = existing[0]
            if not self._access.can_access_model_group(principal, group.source):
                raise InvalidRequestError(
                    f"The name {{{inp.name}}} you provided is unavailable because it is used by another model "
                    f"group with id {{{group.id}}} to which you do not have access. Please provide a different name."
                )
            return group.id
        return await self._groups.create(
            principal,
            ModelGroupInput(
                name=inp.name,
                description=inp.description,
                access_mode=inp.access_mode,
                backend_roles=inp.backend_roles,
                add_all_backend_roles=inp.add_all_backend_roles,
            ),
        )

    async def _connector_source(self, connector_field: tuple[str, Any]) -> Mapping[str, Any]:
        kind, value = connector_field
        if kind == "connector":
            return dict(value)
        stored = await self._store.load(CONNECTOR_INDEX, value)
        return stored.source if stored is not None else {}

    async def _connector_field(
        self, principal: Principal | None, inp: mdomain.RegisterInput
    ) -> tuple[str, Any]:
        if inp.connector_id:
            stored = await self._store.load(CONNECTOR_INDEX, inp.connector_id)
            if stored is not None and not self._access.can_access_connector(principal, stored.source):
                raise InvalidRequestError(
                    f"You don't have permission to use the connector provided, connector id: {inp.connector_id}"
                )
            if stored is None and "interface" not in inp.extras:
                raise NotFoundError(f"Failed to find connector:{inp.connector_id}")
            if stored is not None and stored.source.get("protocol") in cdomain.MCP_PROTOCOLS:
                raise InvalidRequestError(f"Cannot Create a Model from MCP Connector: {inp.connector_id}")
            return "connector_id", inp.connector_id
        if inp.connector is None:
            raise InvalidRequestError(
                "You must provide connector content when creating a remote model without connector id!"
            )
        return "connector", await self.inline_connector(inp.connector)

    async def inline_connector(
        self, raw: Mapping[str, Any], stored: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Validate an inline connector (new, or merged into a stored one) and encrypt its credential."""
        cin = cdomain.parse_connector_input(raw)
        if stored is None:
            if cdomain.find_action(cin.actions, "PREDICT") is None:
                raise InvalidRequestError(
                    "Connector endpoint is required when creating a remote model without connector id!"
                )
            doc = cdomain.document_fields(cin)
            credential = cin.credential or {}
        else:
            doc = cdomain.merge_update(stored, cin)
            credential = cin.credential or self._cipher.decrypt(stored.get("credential") or {})
        cdomain.validate_protocol(doc.get("protocol"))
        await self._connectors.check_connector(
            doc.get("protocol"), doc.get("parameters"), credential, cdomain.actions_of(doc)
        )
        if cin.client_config is not None:
            doc["client_config"] = self._connectors.client_config_json(cin.client_config)
        doc["credential"] = self._cipher.encrypt(credential)
        return doc

    async def _load(self, principal: Principal | None, model_id: str) -> dict[str, Any]:
        stored = await self._store.load(INDEX, model_id)
        if stored is None:
            raise NotFoundError(f"Failed to find model with the provided model id: {model_id}")
        await self._model_access.check(principal, Model.from_doc(stored.source))
        return dict(stored.source)

    async def get(self, principal: Principal | None, model_id: str) -> dict[str, Any]:
        """``GET /models/{id}``."""
        return public_view(await self._load(principal, model_id))

    async def search(
        self, principal: Principal | None, body: Mapping[str, Any] | None, url_params: Mapping[str, str]
    ) -> dict[str, Any]:
        """``GET|POST /models/_search`` — hidden models and credentials never show."""
        visible_groups: set[str] | None = None
        if self._access.model_control_on(principal):
            visible_groups = {
                g.id
                for g in await self._store.load_all(GROUP_INDEX)
                if self._access.can_access_model_group(principal, g.source)
            }

        def visible(doc: Any) -> bool:
            if doc.source.get("is_hidden") is True:
                return False
            group = doc.source.get("model_group_id")
            return visible_groups is None or not group or group in visible_groups

        return await search_collection(
            self._store,
            self._env.cpu,
            INDEX,
            body,
            url_params=url_params,
            source_excludes=MODEL_EXCLUDES,
            visible=visible,
        )

    async def update(
        self, principal: Principal | None, model_id: str, body: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """``PUT /models/{id}``.

        ml-commons: plugin/.../action/models/UpdateModelTransportAction.java.
        """
        if not body:
            raise InvalidRequestError("Update model request has empty body", error_type="parse_exception")
        stored = await self._store.load(INDEX, model_id)
        if stored is None:
            raise NotFoundError(f"Failed to find model to update with the provided model id: {model_id}")
        model = Model.from_doc(stored.source)
        await self._model_access.check(
            principal,
            model,
            f"User doesn't have privilege to perform this operation on this model, model ID {model_id}",
        )
        if model.model_state == mdomain.DEPLOYING:
            raise ConflictError(
                f"Model is deploying. Please wait for the model to complete deployment. model ID {model_id}"
            )
        if body.get("connector") is not None and body.get("connector_id") is not None:
            raise InvalidRequestError(
                "Model cannot have both stand-alone connector and internal connector. Please check your update input body."
            )
        doc = dict(stored.source)
        await self._apply_update(principal, model_id, doc, body)
        doc["last_updated_time"] = self._env.now_ms()
        doc["model_id"] = model_id
        try:
            saved = await self._store.save(INDEX, model_id, doc, if_version=stored.version)
        except VersionConflict as exc:
            raise ConflictError(f"Model {model_id} was changed concurrently, retry") from exc
        await self._hub.publish(ModelChanged(model_id))
        return write_response(INDEX, model_id, "updated", saved)

    async def _apply_update(
        self, principal: Principal | None, model_id: str, doc: dict[str, Any], body: Mapping[str, Any]
    ) -> None:
        for key in ("name", "description"):
            if isinstance(body.get(key), str) and body[key].strip():
                doc[key] = body[key]
        extras = mdomain.parse_extras(body)
        if "rate_limiter" in extras:
            extras["rate_limiter"] = {**(doc.get("rate_limiter") or {}), **extras["rate_limiter"]}
        mdomain.validate_remote_model_config(extras.get("model_config"))
        doc.update(extras)
        if body.get("connector") is not None:
            if "connector" not in doc:
                raise InvalidRequestError(
                    "Cannot update connector settings for this model. The model was created with a connector_id "
                    "and does not have an inline connector."
                )
            doc["connector"] = await self.inline_connector(body["connector"], doc["connector"])
        if body.get("connector_id") is not None:
            if "connector" in doc:
                raise InvalidRequestError(
                    "This remote does not have a connector_id field, maybe it uses an internal connector."
                )
            connector_id = str(body["connector_id"])
            target = await self._store.load(CONNECTOR_INDEX, connector_id)
            if target is None:
                raise NotFoundError(
                    f"Failed to find connector with the provided connector id: {connector_id}"
                )
            if not self._access.can_access_connector(principal, target.source):
                raise ForbiddenError(
                    f"You don't have permission to update the connector, connector id: {connector_id}"
                )
            doc["connector_id"] = connector_id
        group_id = body.get("model_group_id")
        if group_id is not None and group_id != doc.get("model_group_id"):
            group = await self._store.load(GROUP_INDEX, str(group_id))
            if group is None:
                raise NotFoundError(
                    "Failed to find the model group with the provided model group id in the update model input, "
                    f"MODEL_GROUP_ID: {group_id}"
                )
            if not self._access.can_access_model_group(principal, group.source):
                raise ForbiddenError(
                    "User Doesn't have privilege to re-link this model to the target model group due to no access "
                    f"to the target model group with model group ID {group_id}"
                )
            doc["model_group_id"] = str(group_id)
            doc["model_version"] = await self._groups.next_version(str(group_id))

    async def delete(self, principal: Principal | None, model_id: str) -> dict[str, Any]:
        """``DELETE /models/{id}``.

        ml-commons: plugin/.../action/models/DeleteModelTransportAction.java.
        """
        stored = await self._store.load(INDEX, model_id)
        if stored is None:
            raise NotFoundError("Failed to find model")
        model = Model.from_doc(stored.source)
        await self._model_access.check(principal, model)
        if model.model_state in mdomain.ACTIVE_STATES:
            raise InvalidRequestError(
                "Model cannot be deleted in deploying or deployed state. Try undeploy model first then delete",
                error_type="status_exception",
            )
        deleted = await self._store.delete(INDEX, model_id)
        # The model's controller goes with it, as in ML Commons.
        await self._store.delete(controller_domain.INDEX, model_id)
        await self._hub.publish(ModelChanged(model_id))
        return write_response(INDEX, model_id, "deleted", deleted)
