"""Connector use cases: create, get, search, update, delete."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mlgate.domain import connector as cdomain
from mlgate.domain import model as model_domain
from mlgate.domain.access_rules import connector_create_access
from mlgate.domain.egress import check_trusted_endpoint
from mlgate.domain.errors import ConflictError, ForbiddenError, InvalidRequestError, NotFoundError
from mlgate.domain.principal import Principal
from mlgate.domain.template import substitute, validate_header_templates
from mlgate.remote.client_config import ClientConfig
from mlgate.remote.scripting import ScriptRunner
from mlgate.remote.secrets import CredentialCipher
from mlgate.services.access import AccessPolicy
from mlgate.services.changes import ChangeHub
from mlgate.services.documents import search_collection, write_response
from mlgate.services.environment import Environment
from mlgate.services.events import ConnectorChanged
from mlgate.services.settings import SettingsService
from mlgate.storage.store import Store, VersionConflict

INDEX = cdomain.INDEX
CREDENTIAL_EXCLUDES = ("credential",)
_ACCESS_OFF = (
    "You cannot specify connector access control parameters because the Security plugin or connector "
    "access control is disabled on your cluster."
)
REMOTE_INFERENCE_DISABLED = (
    "Remote Inference is currently disabled. To enable it, update the setting "
    '"plugins.ml_commons.remote_inference_enabled" to true.'
)


def public_view(source: Mapping[str, Any]) -> dict[str, Any]:
    """A connector as returned to callers: never the credential."""
    return {k: v for k, v in source.items() if k != "credential"}


class ConnectorService:
    """Standalone connectors; inline connectors reuse :meth:`check_connector`."""

    def __init__(
        self,
        store: Store,
        env: Environment,
        settings: SettingsService,
        access: AccessPolicy,
        cipher: CredentialCipher,
        scripts: ScriptRunner,
        deployed_model_ids: Callable[[], frozenset[str]],
        hub: ChangeHub,
    ) -> None:
        self._store = store
        self._env = env
        self._settings = settings
        self._access = access
        self._cipher = cipher
        self._scripts = scripts
        self._deployed = deployed_model_ids
        self._hub = hub

    def require_remote_inference(self) -> None:
        """The remote-inference kill switch.

        ml-commons: common/.../settings/MLFeatureEnabledSetting.java (isRemoteInferenceEnabled).
        """
        if not self._settings.current.flag("remote_inference.enabled"):
            raise InvalidRequestError(REMOTE_INFERENCE_DISABLED, error_type="status_exception")

    async def check_connector(
        self,
        protocol: str | None,
        parameters: Mapping[str, str] | None,
        credential: Mapping[str, str] | None,
        actions: list[cdomain.ConnectorAction] | None,
    ) -> None:
        """The checks shared by standalone and inline connectors: AWS keys, headers, URLs, scripts."""
        cdomain.validate_aws_credential(protocol, credential, parameters)
        for action in actions or ():
            validate_header_templates(action.headers or {}, protocol or "http")
        self.check_trusted_urls(actions, parameters)
        for action in actions or ():
            for script in (action.pre_process_function, action.post_process_function):
                if script:
                    await self._scripts.check(script)

    def check_trusted_urls(
        self, actions: list[cdomain.ConnectorAction] | None, parameters: Mapping[str, str] | None
    ) -> None:
        """Every action URL, resolved with the connector's own parameters, must be trusted.

        ml-commons: common/.../connector/Connector.java (validateConnectorURL).
        """
        if not actions:
            raise InvalidRequestError("No actions configured for this connector")
        patterns = self._settings.current.strings("trusted_connector_endpoints_regex")
        for action in actions:
            url = substitute(action.url, dict(parameters or {}))
            check_trusted_endpoint(url, patterns)

    async def create(self, principal: Principal | None, body: Mapping[str, Any] | None) -> dict[str, Any]:
        """``POST /connectors/_create``.

        ml-commons: plugin/.../action/connector/TransportCreateConnectorAction.java.
        """
        if not body:
            # ML Commons answers 500 here; an empty body is the caller's error.
            raise InvalidRequestError("Create Connector request has empty body", error_type="i_o_exception")
        self.require_remote_inference()
        inp = cdomain.parse_connector_input(body)
        cdomain.validate_create(inp)
        if inp.dry_run:
            return {"connector_id": "dryRunConnector"}
        if inp.protocol not in cdomain.MCP_PROTOCOLS:
            await self.check_connector(inp.protocol, inp.parameters, inp.credential, inp.actions)
        doc = cdomain.document_fields(inp)
        if inp.client_config is not None:
            doc["client_config"] = self.client_config_json(inp.client_config)
        doc["credential"] = self._cipher.encrypt(inp.credential or {})
        if self._access.connector_control_on(principal):
            assert principal is not None
            access, roles = connector_create_access(
                principal, inp.access_mode, inp.backend_roles, inp.add_all_backend_roles
            )
            if roles:
                doc["backend_roles"] = roles
            doc["owner"] = principal.owner_json()
            doc["access"] = access
        elif inp.has_access_params:
            raise InvalidRequestError(_ACCESS_OFF)
        now = self._env.now_ms()
        doc["created_time"] = now
        doc["last_updated_time"] = now
        connector_id = str(body["connector_id"]) if body.get("connector_id") else self._env.new_id()
        try:
            await self._store.save(INDEX, connector_id, doc, create_only=True)
        except VersionConflict as exc:
            raise ConflictError(f"connector id '{connector_id}' already exists") from exc
        return {"connector_id": connector_id}

    @staticmethod
    def client_config_json(raw: Mapping[str, Any]) -> dict[str, Any]:
        return ClientConfig.from_json(dict(raw)).to_json()

    async def load_source(self, principal: Principal | None, connector_id: str) -> dict[str, Any]:
        """The stored connector (credential still encrypted), access-checked."""
        stored = await self._store.load(INDEX, connector_id)
        if stored is None:
            raise NotFoundError(f"Failed to find connector with the provided connector id: {connector_id}")
        if not self._access.can_access_connector(principal, stored.source):
            raise ForbiddenError("You don't have permission to access this connector")
        return dict(stored.source)

    async def get(self, principal: Principal | None, connector_id: str) -> dict[str, Any]:
        """``GET /connectors/{id}``."""
        return public_view(await self.load_source(principal, connector_id))

    async def search(
        self, principal: Principal | None, body: Mapping[str, Any] | None, url_params: Mapping[str, str]
    ) -> dict[str, Any]:
        """``GET|POST /connectors/_search``; the credential is never returned nor matchable."""
        extra = self._access.connector_filter(principal)
        return await search_collection(
            self._store,
            self._env.cpu,
            INDEX,
            body,
            url_params=url_params,
            extra_filter=extra,
            source_excludes=CREDENTIAL_EXCLUDES,
        )

    async def update(
        self, principal: Principal | None, connector_id: str, body: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """``PUT /connectors/{id}``, plus credential rotation on deployed models (docs/api.md).

        ml-commons: plugin/.../action/connector/UpdateConnectorTransportAction.java.
        """
        if not body:
            raise InvalidRequestError(
                "Failed to update connector: Request body is empty", error_type="parse_exception"
            )
        self.require_remote_inference()
        inp = cdomain.parse_connector_input(body)
        stored = await self._store.load(INDEX, connector_id)
        if stored is None:
            raise NotFoundError(f"Failed to find connector with the provided connector id: {connector_id}")
        if not self._access.can_access_connector(principal, stored.source):
            raise InvalidRequestError(
                f"You don't have permission to update the connector, connector id: {connector_id}"
            )
        cdomain.validate_safe_update(inp)
        if inp.has_access_params and not self._access.connector_control_on(principal):
            raise InvalidRequestError(_ACCESS_OFF)
        users = [d.id for d in await self._store.load_where(model_domain.INDEX, "connector_id", connector_id)]
        deployed = sorted(set(users) & self._deployed())
        # Rotating only the credential is safe while deployed: models pick up the new secret in place.
        rotation_only = inp.present <= {"credential"}
        if deployed and not rotation_only:
            raise InvalidRequestError(
                f"{len(deployed)} models are still using this connector, please undeploy the models first: "
                f"[{', '.join(deployed)}]",
                error_type="status_exception",
            )
        doc = cdomain.merge_update(stored.source, inp)
        if inp.client_config is not None:
            doc["client_config"] = self.client_config_json(inp.client_config)
        if inp.credential:
            doc["credential"] = self._cipher.encrypt(inp.credential)
        if doc.get("protocol") not in cdomain.MCP_PROTOCOLS:
            credential = self._cipher.decrypt(doc.get("credential") or {})
            await self.check_connector(
                doc.get("protocol"), doc.get("parameters"), credential, cdomain.actions_of(doc)
            )
        doc["last_updated_time"] = self._env.now_ms()
        try:
            saved = await self._store.save(INDEX, connector_id, doc, if_version=stored.version)
        except VersionConflict as exc:
            raise ConflictError(f"Connector {connector_id} was changed concurrently, retry") from exc
        await self._hub.publish(ConnectorChanged(connector_id))
        return write_response(INDEX, connector_id, "updated", saved)

    async def delete(self, principal: Principal | None, connector_id: str) -> dict[str, Any]:
        """``DELETE /connectors/{id}``.

        ml-commons: plugin/.../action/connector/DeleteConnectorTransportAction.java.
        """
        stored = await self._store.load(INDEX, connector_id)
        if stored is not None and not self._access.can_access_connector(principal, stored.source):
            raise ForbiddenError(
                "You are not allowed to delete this connector", error_type="m_l_validation_exception"
            )
        users = [d.id for d in await self._store.load_where(model_domain.INDEX, "connector_id", connector_id)]
        if users:
            raise ConflictError(
                f"{len(users)} models are still using this connector, please delete or update the models first: "
                f"[{', '.join(users)}]"
            )
        deleted = await self._store.delete(INDEX, connector_id)
        return write_response(INDEX, connector_id, "deleted" if deleted else "not_found", deleted)
