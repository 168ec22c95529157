"""Request bodies of the Security REST API (internal users, roles, role mappings), validated the way
the Security plugin's request validator does: unknown keys and wrong types are refused by name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlgate.domain.security import Role, RoleMapping, SecurityConfigError, check_patterns

_LIST = "Array expected"
_STRING = "String expected"
_OBJECT = "Object expected"
MAPPING_PRINCIPALS = ("and_backend_roles", "backend_roles", "hosts", "users")


@dataclass(frozen=True)
class UserBody:
    """A PUT internalusers body; ``password`` is None when the stored hash is to be kept."""

    password: str | None
    backend_roles: tuple[str, ...]
    attributes: tuple[tuple[str, str], ...]
    security_roles: tuple[str, ...]
    description: str


def _check(
    body: Any, types: Mapping[str, str], *, one_of: tuple[str, ...] = (), allow_empty: bool = False
) -> Mapping[str, Any]:
    if not isinstance(body, dict) or not (body or allow_empty):
        raise SecurityConfigError("Request body required for this action.")
    unknown = sorted(k for k in body if k not in types)
    problems: dict[str, Any] = {}
    if unknown:
        problems["invalid_keys"] = {"keys": ",".join(unknown)}
    if one_of and not any(k in body for k in one_of):
        problems["specify_one_of"] = {"keys": ",".join(one_of)}
    if problems:
        raise SecurityConfigError("Invalid configuration", problems)
    wrong: dict[str, str] = {}
    for key, expected in types.items():
        value = body.get(key)
        if value is None:
            continue
        if (
            (expected == _LIST and not (isinstance(value, list) and all(isinstance(v, str) for v in value)))
            or (expected == _STRING and not isinstance(value, str))
            or (expected == _OBJECT and not isinstance(value, dict))
        ):
            wrong[key] = expected
    if wrong:
        raise SecurityConfigError("Wrong datatype", {"wrong_datatypes": wrong})
    return body


def parse_user_body(body: Any, *, allow_empty: bool = False) -> UserBody:
    """Validate ``PUT /_plugins/_security/api/internalusers/{name}`` (``allow_empty``: a patched user
    whose only field was its hash)."""
    fields = _check(
        body,
        {
            "password": _STRING,
            "backend_roles": _LIST,
            "attributes": _OBJECT,
            "opendistro_security_roles": _LIST,
            "description": _STRING,
        },
        allow_empty=allow_empty,
    )
    if fields.get("password") == "":
        raise SecurityConfigError("Password is too short")
    attributes = fields.get("attributes") or {}
    return UserBody(
        password=fields.get("password"),
        backend_roles=tuple(fields.get("backend_roles") or ()),
        attributes=tuple(sorted((str(k), str(v)) for k, v in attributes.items())),
        security_roles=tuple(fields.get("opendistro_security_roles") or ()),
        description=fields.get("description") or "",
    )


def parse_role_body(name: str, body: Any, *, stored: bool = False) -> Role:
    """Validate ``PUT /_plugins/_security/api/roles/{name}``; ``stored``: a document read back, whose
    permission patterns were checked when written (one that no longer compiles matches nothing)."""
    fields = _check(
        body,
        {
            "cluster_permissions": _LIST,
            "index_permissions": "list",
            "tenant_permissions": "list",
            "description": _STRING,
        },
    )
    for key in ("index_permissions", "tenant_permissions"):
        if fields.get(key) is not None and not isinstance(fields[key], list):
            raise SecurityConfigError("Wrong datatype", {"wrong_datatypes": {key: _LIST}})
    if not stored:
        check_patterns(fields.get("cluster_permissions") or ())
    return Role(
        name=name,
        cluster_permissions=tuple(fields.get("cluster_permissions") or ()),
        index_permissions=tuple(fields.get("index_permissions") or ()),
        tenant_permissions=tuple(fields.get("tenant_permissions") or ()),
        description=fields.get("description") or "",
    )


def parse_mapping_body(role: str, body: Any) -> RoleMapping:
    """Validate ``PUT /_plugins/_security/api/rolesmapping/{role}`` (the mapping is replaced whole).

    As the plugin's RolesMappingApiAction: one of the four principal lists must be given; ``reserved``
    and ``hidden`` are refused (only a super-admin certificate may set them, and mlgate has none).
    """
    fields = _check(
        body,
        {
            "users": _LIST,
            "backend_roles": _LIST,
            "and_backend_roles": _LIST,
            "hosts": _LIST,
            "description": _STRING,
        },
        one_of=MAPPING_PRINCIPALS,
    )
    for key in ("users", "backend_roles", "and_backend_roles"):
        check_patterns(fields.get(key) or ())
    return RoleMapping(
        role=role,
        users=tuple(fields.get("users") or ()),
        backend_roles=tuple(fields.get("backend_roles") or ()),
        and_backend_roles=tuple(fields.get("and_backend_roles") or ()),
        hosts=tuple(fields.get("hosts") or ()),
        description=fields.get("description") or "",
    )


def parse_account_body(body: Any) -> tuple[str, str]:
    """Validate ``PUT /_plugins/_security/api/account``: (current password, new password)."""
    fields = _check(body, {"current_password": _STRING, "password": _STRING})
    current, new = fields.get("current_password"), fields.get("password")
    if not current or not new:
        raise SecurityConfigError("Both current_password and password are required.")
    return current, new
