"""Validation of access-control fields on create and update, when access control is on.

ml-commons: plugin/.../action/connector/TransportCreateConnectorAction.java,
plugin/.../model/MLModelGroupManager.java (validateRequestForAccessControl),
plugin/.../action/model_group/TransportUpdateModelGroupAction.java.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.model_group import ModelGroupInput
from mlgate.domain.principal import Principal


def connector_create_access(
    principal: Principal, access_mode: str | None, backend_roles: list[str] | None, add_all: bool | None
) -> tuple[str, list[str] | None]:
    """(access, backend_roles) of a new connector, or the ML Commons refusal."""
    roles = backend_roles or []
    if add_all and principal.is_admin:
        raise InvalidRequestError("Admin can't add all backend roles")
    if access_mode is None:
        if roles or add_all:
            access_mode = "restricted"
        else:
            return "private", None
    if access_mode in ("public", "private"):
        if roles or add_all:
            raise InvalidRequestError(
                "You can specify backend roles only for a connector with the restricted access mode."
            )
        return access_mode, None
    if add_all and roles:
        raise InvalidRequestError(
            "You can't specify backend roles and add all backend roles to true at same time."
        )
    if add_all:
        if not principal.backend_roles:
            raise InvalidRequestError("You must have at least one backend role to create a connector.")
        return "restricted", list(principal.backend_roles)
    if not roles:
        raise InvalidRequestError(
            "You must specify at least one backend role or make the connector public/private for registering it."
        )
    if not principal.is_admin and not set(roles) <= set(principal.backend_roles):
        raise InvalidRequestError("You don't have the backend roles specified.")
    return "restricted", roles


def model_group_create_access(principal: Principal, inp: ModelGroupInput) -> tuple[str, list[str] | None]:
    """(access, backend_roles) of a new model group, or the ML Commons refusal."""
    roles = inp.backend_roles or []
    add_all = bool(inp.add_all_backend_roles)
    mode = inp.access_mode
    if mode is None:
        if not roles and not add_all:
            return "private", None
        mode = "restricted"
    if mode in ("public", "private"):
        if roles or add_all:
            raise InvalidRequestError(
                "You can specify backend roles only for a model group with the restricted access mode."
            )
        return mode, None
    if add_all and principal.is_admin:
        raise InvalidRequestError("Admin users cannot add all backend roles to a model group.")
    if roles and add_all:
        raise InvalidRequestError(
            "You cannot specify backend roles and add all backend roles at the same time."
        )
    if not principal.is_admin and not principal.backend_roles:
        raise InvalidRequestError(
            "You must have at least one backend role to register a restricted model group."
        )
    if not roles and not add_all:
        raise InvalidRequestError(
            "You must specify one or more backend roles or add all backend roles to register a restricted model group."
        )
    if add_all:
        return "restricted", list(principal.backend_roles)
    if not principal.is_admin and not set(roles) <= set(principal.backend_roles):
        raise InvalidRequestError("You don't have the backend roles specified.")
    return "restricted", roles


def model_group_update_access(principal: Principal, doc: Mapping[str, Any], inp: ModelGroupInput) -> None:
    """Refuse an update the caller may not make, check for check as ml-commons:
    plugin/src/main/java/org/opensearch/ml/action/model_group/TransportUpdateModelGroupAction.java
    (``validateRequestForAccessControl``). The mode checks look at the ``access_mode`` given, not at the
    group's: with none given they still apply, except the one that needs ``restricted``."""
    owner = doc.get("owner")
    is_owner = isinstance(owner, dict) and owner.get("name") == principal.name
    if inp.changes_access and not (is_owner or principal.is_admin):
        raise InvalidRequestError("Only owner or admin can update access control data.")
    if not principal.is_admin and not is_owner and not _shares_group(principal, doc):
        raise InvalidRequestError("You don't have permission to update this model group.")
    if (
        is_owner
        and not principal.is_admin
        and doc.get("access") == "restricted"
        and not set(principal.backend_roles) & set(doc.get("backend_roles") or ())
    ):
        raise InvalidRequestError(
            "You don't have the specified backend role to update this model group. "
            "For more information, contact your administrator."
        )
    roles = inp.backend_roles or []
    add_all = inp.add_all_backend_roles
    mode = inp.access_mode
    if mode in ("public", "private"):
        if roles or add_all is True:
            raise InvalidRequestError(
                "You can specify backend roles only for a model group with the restricted access mode."
            )
        return
    if add_all is True and principal.is_admin:
        raise InvalidRequestError("Admin users cannot add all backend roles to a model group.")
    if add_all is True and not principal.backend_roles:
        raise InvalidRequestError("You don't have any backend roles.")
    if not roles and add_all is False:
        raise InvalidRequestError(
            "You have to specify backend roles when add all backend roles is set to false."
        )
    if roles and add_all is True:
        raise InvalidRequestError(
            "You cannot specify backend roles and add all backend roles at the same time."
        )
    if mode == "restricted" and not roles and add_all is not True:
        raise InvalidRequestError(
            "You must specify one or more backend roles or add all backend roles to register a restricted model group."
        )
    if roles and not principal.is_admin and not set(roles) <= set(principal.backend_roles):
        raise InvalidRequestError("You don't have the backend roles specified.")


def _shares_group(principal: Principal, doc: Mapping[str, Any]) -> bool:
    # ModelAccessControlHelper.isUserHasBackendRole: public yes, private no, otherwise a shared role.
    access = doc.get("access")
    if access in ("public", "private"):
        return bool(access == "public")
    return bool(set(principal.backend_roles) & set(doc.get("backend_roles") or ()))
