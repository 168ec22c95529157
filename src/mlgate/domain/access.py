"""Who may see, use, change and delete connectors and model groups — ML Commons' rules.

ml-commons: plugin/.../helper/{Connector,Model}AccessControlHelper.java.

``principal is None`` means security is off: every check passes. Decisions are pure functions of the
principal, the document and whether the relevant access-control setting is on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlgate.domain.errors import ExecutionError
from mlgate.domain.principal import Principal


def _shares_role(principal: Principal, doc: Mapping[str, Any]) -> bool:
    return bool(set(principal.backend_roles) & set(doc.get("backend_roles") or ()))


def _owner_name(doc: Mapping[str, Any]) -> str | None:
    owner = doc.get("owner")
    return owner.get("name") if isinstance(owner, dict) else None


def _permits(principal: Principal | None, enabled: bool, doc: Mapping[str, Any]) -> bool:
    """The rule connectors and model groups share: off, admin, owner-less and public pass; private wants
    the owner; restricted a shared backend role."""
    if principal is None or not enabled or principal.is_admin or doc.get("owner") is None:
        return True
    access = doc.get("access")
    if access == "public":
        return True
    if access == "private":
        return _owner_name(doc) == principal.name
    if access == "restricted":
        return _shares_role(principal, doc)
    return False


def can_access_connector(principal: Principal | None, enabled: bool, doc: Mapping[str, Any]) -> bool:
    """ML Commons' ``hasPermission`` for connectors."""
    return _permits(principal, enabled, doc)


def can_access_model_group(principal: Principal | None, enabled: bool, doc: Mapping[str, Any]) -> bool:
    """ML Commons' ``checkModelGroupPermission`` (a restricted group must have backend roles)."""
    if (
        principal is not None
        and enabled
        and not principal.is_admin
        and doc.get("owner") is not None
        and doc.get("access") == "restricted"
        and not doc.get("backend_roles")
    ):
        raise ExecutionError("Backend roles shouldn't be null", error_type="illegal_state_exception")
    return _permits(principal, enabled, doc)


def visibility_filter(principal: Principal | None, enabled: bool) -> dict[str, Any] | None:
    """The query AND-ed to searches for non-admin users, or None when unrestricted.

    ml-commons: ``addUserBackendRolesFilter`` of plugin/.../helper/{Connector,Model}AccessControlHelper.java.
    """
    if principal is None or not enabled or principal.is_admin:
        return None
    should: list[dict[str, Any]] = [{"term": {"access": "public"}}]
    if principal.backend_roles:
        should.append({"terms": {"backend_roles.keyword": list(principal.backend_roles)}})
    should.append(
        {
            "bool": {
                "must": [
                    {"term": {"owner.name.keyword": principal.name}},
                    {"term": {"access": "private"}},
                ]
            }
        }
    )
    return {"bool": {"should": should, "minimum_should_match": 1}}
