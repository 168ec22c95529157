"""Users, roles, role mappings and permissions the way the OpenSearch Security plugin defines them.

Pure rules: which roles a user holds, whether a role grants an action (with OpenSearch's wildcards and
action groups), which entries are reserved, and the password rule (the login throttle is in
``security_throttle``). Storage, hashing and the strength estimator live in ``services.security`` and
``services.security_setup``; this module only decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.linear_regex import LinearRegex, RegexError, compile_regex
from mlgate.domain.principal import Principal

ADMIN_USER = "admin"
ADMIN_BACKEND_ROLE = "admin"
ALL_ACCESS = "all_access"
ML_FULL_ACCESS = "ml_full_access"
ML_READ_ACCESS = "ml_read_access"

AUTHINFO_ACTION = "security:authinfo"
ACCOUNT_ACTION = "security:account"
USERS_ACTION = "restapi:admin/internalusers"
ROLES_ACTION = "restapi:admin/roles"
ROLESMAPPING_ACTION = "restapi:admin/rolesmapping"

# Every authenticated user may ask who they are, change their own password and see the banner.
AUTHENTICATED_ACTIONS = frozenset(
    {AUTHINFO_ACTION, ACCOUNT_ACTION, "cluster:monitor/main", "cluster:monitor/health"}
)
# Cluster settings and the security API belong to admins, whatever a custom role grants.
ADMIN_ONLY_ACTIONS = frozenset(
    {
        "cluster:monitor/settings",
        "cluster:admin/settings/update",
        USERS_ACTION,
        ROLES_ACTION,
        ROLESMAPPING_ACTION,
    }
)

# OpenSearch's static action groups that the built-in roles use.
ACTION_GROUPS: Mapping[str, tuple[str, ...]] = {
    "cluster_all": ("cluster:*",),
    "cluster_monitor": ("cluster:monitor/*",),
    "cluster_composite_ops_ro": ("indices:data/read/mget", "indices:data/read/msearch"),
}

MIN_PASSWORD_LENGTH = 8
MIN_PASSWORD_SCORE = 3  # zxcvbn's "strong", OpenSearch's default score-based rule
MAX_PASSWORD_BYTES = 72  # bcrypt ignores everything after 72 bytes; refuse rather than truncate
PASSWORD_RULE = (
    f"at least {MIN_PASSWORD_LENGTH} characters and a strong zxcvbn score "
    f"(>= {MIN_PASSWORD_SCORE} of 4; e.g. four or more random words), not based on the user name, "
    f"at most {MAX_PASSWORD_BYTES} bytes"
)

MAX_NAME_LENGTH = 256  # the Security plugin's RequestContentValidator.MAX_STRING_LENGTH


class SecurityConfigError(InvalidRequestError):
    """A security API body the Security plugin's validator refuses (``{"status": "error", "reason"}``).

    ``details`` are the validator's extra keys, e.g. ``{"invalid_keys": {"keys": "foo"}}``.
    """

    default_type = "security_config_exception"

    def __init__(self, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = dict(details or {})


@dataclass(frozen=True)
class BasicCredentials:
    """User name and password from an ``Authorization: Basic`` header; the password never prints."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Role:
    """A security role; only cluster permissions are enforced (mlgate has no indices)."""

    name: str
    cluster_permissions: tuple[str, ...] = ()
    index_permissions: tuple[Any, ...] = ()
    tenant_permissions: tuple[Any, ...] = ()
    description: str = ""
    reserved: bool = False
    static: bool = False

    def to_json(self) -> dict[str, Any]:
        """The Security REST API shape."""
        return {
            "reserved": self.reserved,
            "hidden": False,
            "description": self.description,
            "cluster_permissions": list(self.cluster_permissions),
            "index_permissions": list(self.index_permissions),
            "tenant_permissions": list(self.tenant_permissions),
            "static": self.static,
        }


BUILTIN_ROLES: Mapping[str, Role] = {
    ALL_ACCESS: Role(
        ALL_ACCESS,
        cluster_permissions=("*",),
        description="Allow full access to all indices and all cluster APIs",
        reserved=True,
        static=True,
    ),
    ML_FULL_ACCESS: Role(
        ML_FULL_ACCESS,
        cluster_permissions=("cluster_monitor", "cluster:admin/opensearch/ml/*"),
        description="Allows users to use all ML functionality",
        reserved=True,
        static=True,
    ),
    ML_READ_ACCESS: Role(
        ML_READ_ACCESS,
        cluster_permissions=(
            "cluster:admin/opensearch/ml/config/get",
            "cluster:admin/opensearch/ml/connectors/get",
            "cluster:admin/opensearch/ml/connectors/search",
            "cluster:admin/opensearch/ml/model_groups/get",
            "cluster:admin/opensearch/ml/model_groups/search",
            "cluster:admin/opensearch/ml/models/get",
            "cluster:admin/opensearch/ml/models/search",
            "cluster:admin/opensearch/ml/stats/nodes",
            "cluster:admin/opensearch/ml/tasks/get",
            "cluster:admin/opensearch/ml/tasks/search",
        ),
        description="Allow users to read ML stats/models/tasks",
        reserved=True,
        static=True,
    ),
}


@dataclass(frozen=True)
class User:
    """An internal user. ``password_hash`` never leaves the service layer."""

    name: str
    password_hash: str
    backend_roles: tuple[str, ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()
    security_roles: tuple[str, ...] = ()
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        """The Security REST API shape: ``hash`` is always empty."""
        return {
            "hash": "",
            "reserved": self.name in RESERVED_USERS,
            "hidden": False,
            "backend_roles": list(self.backend_roles),
            "attributes": dict(self.attributes),
            "description": self.description,
            "opendistro_security_roles": list(self.security_roles),
            "static": False,
        }

    def to_document(self) -> dict[str, Any]:
        """The stored document (with the hash)."""
        return {
            "hash": self.password_hash,
            "backend_roles": list(self.backend_roles),
            "attributes": dict(self.attributes),
            "opendistro_security_roles": list(self.security_roles),
            "description": self.description,
        }

    @classmethod
    def from_document(cls, name: str, doc: Mapping[str, Any]) -> User:
        """Inverse of :meth:`to_document`."""
        return cls(
            name=name,
            password_hash=str(doc.get("hash", "")),
            backend_roles=tuple(doc.get("backend_roles") or ()),
            attributes=tuple(sorted((str(k), str(v)) for k, v in (doc.get("attributes") or {}).items())),
            security_roles=tuple(doc.get("opendistro_security_roles") or ()),
            description=str(doc.get("description") or ""),
        )


@dataclass(frozen=True)
class RoleMapping:
    """Which users and backend roles hold a role (patterns allowed, as in OpenSearch)."""

    role: str
    users: tuple[str, ...] = ()
    backend_roles: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    description: str = ""
    # Held by a user whose backend roles match every one of these patterns.
    and_backend_roles: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The Security REST API shape."""
        return {
            "hosts": list(self.hosts),
            "users": list(self.users),
            "reserved": self.role in RESERVED_MAPPINGS,
            "hidden": False,
            "backend_roles": list(self.backend_roles),
            "and_backend_roles": list(self.and_backend_roles),
            "description": self.description,
        }

    def to_document(self) -> dict[str, Any]:
        """The stored document."""
        return {
            "users": list(self.users),
            "backend_roles": list(self.backend_roles),
            "hosts": list(self.hosts),
            "description": self.description,
            "and_backend_roles": list(self.and_backend_roles),
        }

    @classmethod
    def from_document(cls, role: str, doc: Mapping[str, Any]) -> RoleMapping:
        """Inverse of :meth:`to_document`."""
        return cls(
            role=role,
            users=tuple(doc.get("users") or ()),
            backend_roles=tuple(doc.get("backend_roles") or ()),
            hosts=tuple(doc.get("hosts") or ()),
            description=str(doc.get("description") or ""),
            and_backend_roles=tuple(doc.get("and_backend_roles") or ()),
        )


# The first start maps the admin backend role to all_access, as OpenSearch's demo configuration does.
DEFAULT_MAPPINGS = (
    RoleMapping(ALL_ACCESS, backend_roles=(ADMIN_BACKEND_ROLE,), description="Maps admin to all_access"),
)
# `reserved: true` as in OpenSearch's internal_users.yml: the REST API refuses to change or delete these,
# so no REST call can remove the last way in (`mlgate security ...` resets them offline).
RESERVED_USERS = frozenset({ADMIN_USER})
RESERVED_MAPPINGS = frozenset(m.role for m in DEFAULT_MAPPINGS)


def reserved_message(name: str) -> str:
    """The refusal to touch a reserved entry (security: .../dlic/rest/validation/EndpointValidator.java)."""
    return f"Resource '{name}' is reserved."


@lru_cache(maxsize=1024)
def _pattern(pattern: str) -> LinearRegex | None:
    # OpenSearch's WildcardMatcher: `*` any run of characters (slashes and newlines included), `?` one
    # character, and `/regex/` for a regular expression, matched in linear time. None: a stored regex
    # that no longer compiles (checked when written since), which then matches nothing.
    try:
        return compile_regex(_regex_text(pattern))
    except RegexError:
        return None


def _regex_text(pattern: str) -> str:
    if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        return pattern[1:-1]
    pieces = (
        ".*" if c == "*" else "." if c == "?" else c if c.isalnum() else f"\\x{{{ord(c):X}}}" for c in pattern
    )
    return "(?s)" + "".join(pieces)


def matches(pattern: str, value: str) -> bool:
    """Does an OpenSearch permission/user pattern match ``value`` (whole string)?"""
    regex = _pattern(pattern)
    return regex is not None and regex.fullmatch(value)


def check_patterns(patterns: Iterable[str]) -> None:
    """Refuse a ``/regex/`` pattern that does not compile or cannot be matched in linear time."""
    for pattern in patterns:
        try:
            compile_regex(_regex_text(pattern))
        except RegexError as exc:
            raise SecurityConfigError(f"Invalid regex pattern: {pattern}; {exc.reason}") from None


def expand(permissions: Iterable[str]) -> tuple[str, ...]:
    """Replace action-group names by the patterns they stand for."""
    out: list[str] = []
    for permission in permissions:
        out.extend(ACTION_GROUPS.get(permission, (permission,)))
    return tuple(out)


def grants(role: Role, action: str) -> bool:
    """Does this role's cluster permissions allow ``action``?"""
    return any(matches(p, action) for p in expand(role.cluster_permissions))


@dataclass(frozen=True)
class SecurityConfig:
    """A snapshot of users, custom roles and mappings (built-in roles are always present)."""

    users: Mapping[str, User] = field(default_factory=dict)
    roles: Mapping[str, Role] = field(default_factory=dict)
    mappings: Mapping[str, RoleMapping] = field(default_factory=dict)

    def role(self, name: str) -> Role | None:
        """A built-in or custom role."""
        return BUILTIN_ROLES.get(name) or self.roles.get(name)

    def all_roles(self) -> dict[str, Role]:
        """Built-in roles first, then custom ones."""
        return {**BUILTIN_ROLES, **self.roles}

    def roles_of(self, user: User) -> tuple[str, ...]:
        """Mapped roles (by user name or backend role) plus the user's own ``opendistro_security_roles``."""
        held = set(user.security_roles)
        for mapping in self.mappings.values():
            by_name = any(matches(p, user.name) for p in mapping.users)
            by_role = any(matches(p, r) for p in mapping.backend_roles for r in user.backend_roles)
            by_all = bool(mapping.and_backend_roles) and all(
                any(matches(p, r) for r in user.backend_roles) for p in mapping.and_backend_roles
            )
            if by_name or by_role or by_all:
                held.add(mapping.role)
        return tuple(sorted(r for r in held if self.role(r) is not None))

    def principal(self, user: User) -> Principal:
        """The security user ML Commons sees."""
        return Principal(
            name=user.name,
            backend_roles=user.backend_roles,
            roles=self.roles_of(user),
            attributes=user.attributes,
        )

    def is_allowed(self, principal: Principal, action: str) -> bool:
        """OpenSearch's privilege evaluation for a cluster action, plus mlgate's admin-only set."""
        if action in AUTHENTICATED_ACTIONS:
            return True
        if action in ADMIN_ONLY_ACTIONS:
            return principal.is_admin
        return any(
            role is not None and grants(role, action) for role in (self.role(r) for r in principal.roles)
        )


def user_string(principal: Principal) -> str:
    """Java's ``User.toString()``, as the Security plugin prints it."""
    roles = ", ".join(principal.backend_roles)
    return f"User [name={principal.name}, backend_roles=[{roles}], requestedTenant=null]"


def denial_message(action: str, principal: Principal) -> str:
    """The Security plugin's reason for a missing permission."""
    return f"no permissions for [{action}] and {user_string(principal)}"


def password_problem(password: str, score: int, *, similar_to_name: bool) -> str | None:
    """Why a password is refused (the Security plugin's reasons), or None when it passes the rule.

    ``score`` is the zxcvbn score (0–4) the caller computed with the user name as a hint.
    """
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        return "Password too long"
    if len(password) < MIN_PASSWORD_LENGTH:
        return "Weak password"
    if score < MIN_PASSWORD_SCORE:
        return "Password is similar to user name" if similar_to_name else "Weak password"
    return None


def validate_user_name(name: str) -> None:
    """Names travel in Basic credentials, so they cannot contain ``:`` or control characters."""
    if not name or not name.strip():
        raise SecurityConfigError("No username is given")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidRequestError(f"user name exceeds maximum length of {MAX_NAME_LENGTH}.")
    if ":" in name or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise SecurityConfigError("Username must not contain ':' or control characters")
