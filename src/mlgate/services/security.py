"""Authentication and authorization: the one point every request passes, and the internal-user store.

With security off every request runs as ``None`` — the "no security user" of ML Commons — and every
action is allowed. With security on, every request must carry HTTP Basic credentials of an internal
user; passwords are kept as bcrypt hashes, failed logins are throttled, and each route's action is
checked against the caller's roles before the handler runs.

Per request the service does no bcrypt and no role resolution once a login has been seen: the resolved
principal is cached per (user, keyed password digest) and the authorization answers per (roles, action),
both dropped whenever the security configuration changes — here at once, in every other process and
node through the change feed (kind ``security``), and by the periodic re-read as a fallback.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from mlgate.domain import security as sec
from mlgate.domain.errors import ForbiddenError, NotFoundError, RateLimitedError, UnauthorizedError
from mlgate.domain.principal import Principal
from mlgate.domain.security_body import (
    parse_account_body,
    parse_mapping_body,
    parse_role_body,
    parse_user_body,
)
from mlgate.domain.security_names import ROLE, ROLESMAPPING, is_storable_name, validate_entity_name
from mlgate.domain.security_throttle import LoginThrottle
from mlgate.services.changes import ChangeHub
from mlgate.services.events import SecurityChanged
from mlgate.services.security_setup import (
    MAPPINGS,
    ROLES,
    USERS,
    PasswordHasher,
    check_password,
    generate_password,
    restore_reserved,
)
from mlgate.storage.store import Store

log = logging.getLogger("mlgate.security")

UNAUTHORIZED = "Unauthorized"
THROTTLED = "Too many failed login attempts; try again later"
# Bound on each per-request cache (distinct logins, distinct role sets × actions).
_MAX_CACHED = 10_000


class SecurityService:
    """Resolves the caller of a request and decides whether it may perform a route's action."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        enabled: bool = False,
        clock: Callable[[], float] = time.monotonic,
        hasher: PasswordHasher | None = None,
        initial_admin_password: str | None = None,
        throttle: LoginThrottle | None = None,
        cache_seconds: float = 600.0,
        reload_seconds: float = 5.0,
        hub: ChangeHub | None = None,
    ) -> None:
        if enabled and store is None:
            raise ValueError("security needs a store")
        self.enabled = enabled
        self._store = store
        self._clock = clock
        self._hasher = hasher or PasswordHasher()
        self._initial_password = initial_admin_password
        self._throttle = throttle or LoginThrottle()
        self._cache_seconds = cache_seconds
        self._reload_seconds = reload_seconds
        self._config = sec.SecurityConfig()
        self._loaded_at = float("-inf")
        # Verified logins: (user, keyed digest of the password) → (stored hash, expiry). The digest key
        # lives only in memory, so the cache holds nothing that could be reversed into a password.
        self._cache_key = secrets.token_bytes(32)
        self._verified: dict[tuple[str, bytes], tuple[str, float]] = {}
        self._checking: dict[tuple[str, bytes, str], asyncio.Future[bool]] = {}
        # Resolved logins: (user, keyed digest) → (principal, expiry); and (roles, action) → allowed.
        # Both describe the current configuration only: cleared whenever it changes.
        self._principals: dict[tuple[str, bytes], tuple[Principal, float]] = {}
        self._allowed: dict[tuple[tuple[str, ...], str], bool] = {}
        self._dummy_hash = ""
        self._hub = hub

    # -- start-up ---------------------------------------------------------------------------------

    async def start(self) -> str | None:
        """Load the configuration, creating ``admin`` and the built-in mappings when they are missing.

        Returns the generated admin password when one was generated now (the caller shows it once),
        None otherwise. A weak ``initial_admin_password`` is refused with the rule stated.
        """
        if not self.enabled:
            return None
        self._dummy_hash = await self._hasher.hash(generate_password())
        generated = await restore_reserved(self._require_store(), self._hasher, self._initial_password)
        self._initial_password = None
        await self._reload()
        return generated

    def _require_store(self) -> Store:
        if self._store is None:
            raise RuntimeError("security is off")
        return self._store

    async def _reload(self) -> None:
        store = self._require_store()
        users = {d.id: sec.User.from_document(d.id, d.source) for d in await store.load_all(USERS)}
        roles = {d.id: parse_role_body(d.id, d.source, stored=True) for d in await store.load_all(ROLES)}
        mappings = {
            d.id: sec.RoleMapping.from_document(d.id, d.source) for d in await store.load_all(MAPPINGS)
        }
        config = sec.SecurityConfig(users=users, roles=roles, mappings=mappings)
        if config != self._config:
            self._config = config
            self._principals.clear()
            self._allowed.clear()
        self._loaded_at = self._clock()

    async def _changed(self) -> None:
        """After a write: re-read here, and tell every other process and node to re-read."""
        await self._reload()
        if self._hub is not None:
            await self._hub.publish(SecurityChanged(), local=False)

    async def security_changed(self, _: SecurityChanged) -> None:
        """Another process changed users, roles or mappings."""
        if self.enabled:
            await self._reload()

    async def _fresh_config(self) -> sec.SecurityConfig:
        # Other nodes sharing the store may change users; re-read now and then.
        if self._clock() - self._loaded_at >= self._reload_seconds:
            await self._reload()
        return self._config

    # -- per request --------------------------------------------------------------------------------

    async def authenticate(self, credentials: sec.BasicCredentials | None, client: str) -> Principal | None:
        """The principal behind a request's credentials (None when security is off).

        Raises UnauthorizedError (401) for missing or wrong credentials and RateLimitedError (429) while
        the user at this client address, or the address, is throttled.
        """
        if not self.enabled:
            return None
        if credentials is None or len(credentials.username) > sec.MAX_NAME_LENGTH:
            # No user can have a longer name; such a name never reaches the throttle's memory either.
            raise UnauthorizedError(UNAUTHORIZED)
        name = credentials.username
        config = await self._fresh_config()
        # Nothing awaits from the budget check until the password check has taken its slot: however
        # many attempts arrive at once, no more than the budget get past this point.
        now = self._clock()
        wait = self._throttle.retry_after(name, client, now)
        if wait is not None:
            raise RateLimitedError(THROTTLED, retry_after=wait, error_type="security_exception")
        digest = hmac.digest(self._cache_key, credentials.password.encode(), "sha256")
        known = self._principals.get((name, digest))
        if known is not None and now < known[1]:
            self._throttle.record_success(name, client)
            return known[0]
        user = config.users.get(name)
        if user is None:
            await self._check_unknown(name, credentials.password, client, now)
        if user is None or not await self._verify(user, credentials.password, digest, client, now):
            # Neither password nor user name: people type passwords into the name field.
            log.info("security: failed login from %s", client or "unknown address")
            raise UnauthorizedError(UNAUTHORIZED)
        self._throttle.record_success(name, client)
        principal = config.principal(user)
        if config is self._config:  # not replaced while bcrypt ran
            if len(self._principals) >= _MAX_CACHED:
                self._principals.clear()
            self._principals[(name, digest)] = (principal, now + self._cache_seconds)
        return principal

    async def _check_unknown(self, name: str, password: str, client: str, now: float) -> None:
        # Spend the same bcrypt time as for a real user, so timing does not reveal which names exist;
        # and the same throttle slot, so guessing names costs the same budget.
        self._throttle.begin(name, client, now)
        try:
            await self._hasher.verify(password, self._dummy_hash)
        finally:
            self._throttle.end(name, client, self._clock(), success=False)

    async def _verify(self, user: sec.User, password: str, digest: bytes, client: str, now: float) -> bool:
        name = user.name
        key = (name, digest)
        cached = self._verified.get(key)
        if cached is not None and cached[0] == user.password_hash and now < cached[1]:
            return True
        # One bcrypt check per credential at a time: when a cached login expires under load, the
        # requests that arrive meanwhile wait for that check instead of each burning ~0.3 s of CPU.
        # Only the check takes a throttle slot (the joiners add no guess of their own).
        flight = (name, digest, user.password_hash)
        pending = self._checking.get(flight)
        if pending is None:
            self._throttle.begin(name, client, now)
            pending = asyncio.ensure_future(self._check(key, user.password_hash, password, client, now))
            self._checking[flight] = pending
            pending.add_done_callback(lambda _: self._checking.pop(flight, None))
        return await asyncio.shield(pending)

    async def _check(
        self, key: tuple[str, bytes], password_hash: str, password: str, client: str, now: float
    ) -> bool:
        # The throttle slot is given back and the verdict cached before the flight ends, so no request
        # can fall between them.
        ok = False
        try:
            ok = await self._hasher.verify(password, password_hash)
        finally:
            self._throttle.end(key[0], client, self._clock(), success=ok)
        if ok:
            if len(self._verified) >= _MAX_CACHED:
                self._verified.clear()
            self._verified[key] = (password_hash, now + self._cache_seconds)
        return ok

    def authorize(self, principal: Principal | None, action: str) -> None:
        """Raise ForbiddenError when ``principal`` lacks the permission for ``action``."""
        if not self.enabled or principal is None:
            return
        key = (principal.roles, action)
        allowed = self._allowed.get(key)
        if allowed is None:
            allowed = self._config.is_allowed(principal, action)
            if len(self._allowed) >= _MAX_CACHED:
                self._allowed.clear()
            self._allowed[key] = allowed
        if not allowed:
            raise ForbiddenError(sec.denial_message(action, principal), error_type="security_exception")

    # -- /_plugins/_security ------------------------------------------------------------------------

    def authinfo(self, principal: Principal | None, client: str) -> dict[str, Any]:
        """``GET /_plugins/_security/authinfo``."""
        if principal is None:
            principal = Principal(name="", roles=())
        return {
            "user": sec.user_string(principal),
            "user_name": principal.name,
            "user_requested_tenant": None,
            "remote_address": client or None,
            "backend_roles": list(principal.backend_roles),
            "custom_attribute_names": [k for k, _ in principal.attributes],
            "roles": list(principal.roles),
            "tenants": {principal.name: True} if principal.name else {},
            "principal": None,
            "peer_certificates": "0",
            "sso_logout_url": None,
        }

    async def users(self) -> dict[str, Any]:
        """``GET /_plugins/_security/api/internalusers``."""
        config = await self._fresh_config()
        return {name: user.to_json() for name, user in sorted(config.users.items())}

    async def user(self, name: str) -> dict[str, Any]:
        """``GET /_plugins/_security/api/internalusers/{name}``."""
        found = (await self._fresh_config()).users.get(name)
        if found is None:
            raise NotFoundError(f"Resource '{name}' not found.")
        return {name: found.to_json()}

    async def put_user(self, name: str, body: Any) -> bool:
        """Create or replace a user; True when created. A new password must pass the rule."""
        sec.validate_user_name(name)
        parsed = parse_user_body(body)
        await self._reload()
        _refuse_reserved(name, sec.RESERVED_USERS, self._config.users)
        # As the Security plugin: a role whose mapping is reserved is not handed out user by user either.
        for role in parsed.security_roles:
            _refuse_reserved(role, sec.RESERVED_MAPPINGS, self._config.mappings)
        existing = self._config.users.get(name)
        if parsed.password is None:
            if existing is None:
                raise sec.SecurityConfigError(
                    "Please specify either 'hash' or 'password' when creating a new internal user."
                )
            password_hash = existing.password_hash
        else:
            check_password(name, parsed.password)
            password_hash = await self._hasher.hash(parsed.password)
        user = sec.User(
            name,
            password_hash,
            backend_roles=parsed.backend_roles,
            attributes=parsed.attributes,
            security_roles=parsed.security_roles,
            description=parsed.description,
        )
        await self._require_store().save(USERS, name, user.to_document())
        await self._changed()
        return existing is None

    async def delete_user(self, name: str) -> None:
        """``DELETE /_plugins/_security/api/internalusers/{name}``."""
        if not is_storable_name(name):
            raise NotFoundError(f"Resource '{name}' not found.")
        await self._reload()
        _refuse_reserved(name, sec.RESERVED_USERS, self._config.users)
        if await self._require_store().delete(USERS, name) is None:
            raise NotFoundError(f"Resource '{name}' not found.")
        await self._changed()

    async def change_own_password(self, principal: Principal | None, body: Any) -> None:
        """``PUT /_plugins/_security/api/account``: a user changes their own password; like the Security
        plugin's AccountApiAction, not a reserved user's (``admin`` resets it offline)."""
        current, new = parse_account_body(body)
        await self._reload()
        user = self._config.users.get(principal.name) if principal is not None else None
        if user is not None:
            _refuse_reserved(user.name, sec.RESERVED_USERS, self._config.users)
        if user is None or not await self._hasher.verify(current, user.password_hash):
            raise sec.SecurityConfigError("Could not validate your current password.")
        check_password(user.name, new)
        updated = sec.User(
            user.name,
            await self._hasher.hash(new),
            backend_roles=user.backend_roles,
            attributes=user.attributes,
            security_roles=user.security_roles,
            description=user.description,
        )
        await self._require_store().save(USERS, user.name, updated.to_document())
        await self._changed()

    async def roles(self) -> dict[str, Any]:
        """``GET /_plugins/_security/api/roles``."""
        config = await self._fresh_config()
        return {name: role.to_json() for name, role in config.all_roles().items()}

    async def role(self, name: str) -> dict[str, Any]:
        """``GET /_plugins/_security/api/roles/{name}``."""
        found = (await self._fresh_config()).role(name)
        if found is None:
            raise NotFoundError(f"Resource '{name}' not found.")
        return {name: found.to_json()}

    async def put_role(self, name: str, body: Any) -> bool:
        """Create or replace a custom role; built-in roles are read-only. True when created."""
        self._refuse_builtin(name)
        validate_entity_name(ROLE, name)
        role = parse_role_body(name, body)
        await self._reload()
        created = name not in self._config.roles
        doc = {k: v for k, v in role.to_json().items() if k not in ("reserved", "hidden", "static")}
        await self._require_store().save(ROLES, name, doc)
        await self._changed()
        return created

    async def delete_role(self, name: str) -> None:
        """``DELETE /_plugins/_security/api/roles/{name}``."""
        self._refuse_builtin(name)
        if not is_storable_name(name) or await self._require_store().delete(ROLES, name) is None:
            raise NotFoundError(f"Resource '{name}' not found.")
        await self._changed()

    @staticmethod
    def _refuse_builtin(name: str) -> None:
        if name in sec.BUILTIN_ROLES:
            raise ForbiddenError(sec.reserved_message(name))

    async def mappings(self) -> dict[str, Any]:
        """``GET /_plugins/_security/api/rolesmapping``."""
        config = await self._fresh_config()
        return {role: m.to_json() for role, m in sorted(config.mappings.items())}

    async def mapping(self, role: str) -> dict[str, Any]:
        """``GET /_plugins/_security/api/rolesmapping/{role}``."""
        found = (await self._fresh_config()).mappings.get(role)
        if found is None:
            raise NotFoundError(f"Resource '{role}' not found.")
        return {role: found.to_json()}

    async def put_mapping(self, role: str, body: Any) -> bool:
        """Replace the mapping of an existing role; True when created."""
        validate_entity_name(ROLESMAPPING, role)
        mapping = parse_mapping_body(role, body)
        await self._reload()
        _refuse_reserved(role, sec.RESERVED_MAPPINGS, self._config.mappings)
        if self._config.role(role) is None:
            raise NotFoundError(f"Role '{role}' is not available for role-mapping.")
        created = role not in self._config.mappings
        await self._require_store().save(MAPPINGS, role, mapping.to_document())
        await self._changed()
        return created

    async def delete_mapping(self, role: str) -> None:
        """``DELETE /_plugins/_security/api/rolesmapping/{role}``."""
        if not is_storable_name(role):
            raise NotFoundError(f"Resource '{role}' not found.")
        await self._reload()
        _refuse_reserved(role, sec.RESERVED_MAPPINGS, self._config.mappings)
        if await self._require_store().delete(MAPPINGS, role) is None:
            raise NotFoundError(f"Resource '{role}' not found.")
        await self._changed()


def _refuse_reserved(name: str, reserved: frozenset[str], existing: Mapping[str, Any]) -> None:
    # As in OpenSearch, an entry is reserved while it exists: a missing one may be created again.
    if name in reserved and name in existing:
        raise ForbiddenError(sec.reserved_message(name))
