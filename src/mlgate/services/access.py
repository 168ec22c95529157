"""The one authorization point every service call goes through."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlgate.domain import access
from mlgate.domain.errors import ForbiddenError
from mlgate.domain.model import Model
from mlgate.domain.principal import Principal
from mlgate.services.doc_cache import DocumentCache
from mlgate.services.settings import SettingsService

NO_MODEL_PRIVILEGE = "User doesn't have privilege to perform this operation on this model"


class AccessPolicy:
    """Answers access questions with the current settings; decisions live in ``domain.access``."""

    def __init__(self, settings: SettingsService) -> None:
        self._settings = settings

    def connector_control_on(self, principal: Principal | None) -> bool:
        """Connector access control applies to this caller."""
        return principal is not None and self._settings.current.flag("connector_access_control_enabled")

    def model_control_on(self, principal: Principal | None) -> bool:
        """Model access control applies to this caller."""
        return principal is not None and self._settings.current.flag("model_access_control_enabled")

    def can_access_connector(self, principal: Principal | None, doc: Mapping[str, Any]) -> bool:
        """May this caller read/use/change the connector."""
        return access.can_access_connector(principal, self.connector_control_on(principal), doc)

    def can_access_model_group(self, principal: Principal | None, doc: Mapping[str, Any]) -> bool:
        """May this caller use the model group (and its models)."""
        return access.can_access_model_group(principal, self.model_control_on(principal), doc)

    def connector_filter(self, principal: Principal | None) -> dict[str, Any] | None:
        """Search filter for connectors."""
        return access.visibility_filter(principal, self.connector_control_on(principal))

    def model_group_filter(self, principal: Principal | None) -> dict[str, Any] | None:
        """Search filter for model groups."""
        return access.visibility_filter(principal, self.model_control_on(principal))


class ModelAccess:
    """The model access check: the model's group decides; models without a group are open.

    ml-commons: plugin/.../helper/ModelAccessControlHelper.java (validateModelGroupAccess).
    """

    def __init__(self, policy: AccessPolicy, groups: DocumentCache) -> None:
        """``groups`` holds the group documents in memory (predicts read no storage)."""
        self._policy = policy
        self._groups = groups

    def control_on(self, principal: Principal | None) -> bool:
        """Model access control applies to this caller."""
        return self._policy.model_control_on(principal)

    async def check(
        self, principal: Principal | None, model: Model, message: str = NO_MODEL_PRIVILEGE
    ) -> None:
        """Raise ForbiddenError(``message``) unless the caller may use the model."""
        if principal is None or not self._policy.model_control_on(principal):
            return
        group_id = model.model_group_id
        if not group_id:
            return
        group = await self._groups.get(group_id)
        if group is not None and not self._policy.can_access_model_group(principal, group):
            raise ForbiddenError(message)

    async def group_changed(self, group_id: str) -> None:
        """A model group changed: read it again on the next check."""
        self._groups.forget(group_id)
