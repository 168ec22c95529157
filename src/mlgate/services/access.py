"""The one authorization point every service call goes through."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlgate.domain import access
from mlgate.domain.principal import Principal
from mlgate.services.settings import SettingsService


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
