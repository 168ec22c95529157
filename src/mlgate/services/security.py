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
from collections.abc import Callable
from typing import Any

import bcrypt
import zxcvbn

from mlgate.domain import security as sec
from mlgate.domain.errors import ForbiddenError, NotFoundError, RateLimitedError, UnauthorizedError
from mlgate.domain.principal import Principal
from mlgate.domain.security_body import (
    parse_account_body,
    parse_mapping_body,
    parse_role_body,
    parse_user_body,
)
from mlgate.services.changes import SECURITY, ChangeHub
from mlgate.storage.store import Store

log = logging.getLogger("mlgate.security")

USERS = ".opendistro_security_users"
ROLES = ".opendistro_security_roles"
MAPPINGS = ".opendistro_security_rolesmapping"
_BOOTSTRAPPED = "security.bootstrapped"
UNAUTHORIZED = "Unauthorized"
THROTTLED = "Too many failed login attempts; try again later"
# Bound on each per-request cache (distinct logins, distinct role sets × actions).
_MAX_CACHED = 10_000


def check_password(username: str, password: str) -> None:
    """Refuse a password that breaks OpenSearch's default rule (min length + strong zxcvbn score)."""
    if len(password) < sec.MIN_PASSWORD_LENGTH:  # weak whatever its score; and zxcvbn fails on ""
        problem = sec.password_problem(password, 0, similar_to_name=False)
    else:
        result = zxcvbn.zxcvbn(password[: sec.MAX_PASSWORD_BYTES], user_inputs=[username])
        similar = any(m.get("dictionary_name") == "user_inputs" for m in result["sequence"])
        problem = sec.password_problem(password, int(result["score"]), similar_to_name=similar)
    if problem is not None:
        raise sec.SecurityConfigError(problem)


def generate_password() -> str:
    """A random password that passes the rule (~144 bits)."""
    return secrets.token_urlsafe(24)


class PasswordHasher:
    """Salted bcrypt hashes, computed off the event loop (each one takes ~0.25 s at cost 12)."""

    def __init__(self, rounds: int = 12) -> None:
        self._rounds = rounds

    async def hash(self, password: str) -> str:
        """A new salted hash of ``password``."""
        salt = bcrypt.gensalt(self._rounds)
        hashed = await asyncio.to_thread(bcrypt.hashpw, password.encode(), salt)
        return hashed.decode()

    async def verify(self, password: str, hashed: str) -> bool:
        """Constant-time check of ``password`` against a stored hash."""
        raw = password.encode()
        if len(raw) > sec.MAX_PASSWORD_BYTES or not hashed:
            return False
        return await asyncio.to_thread(bcrypt.checkpw, raw, hashed.encode())


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
        throttle: sec.LoginThrottle | None = None,
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
        self._throttle = throttle or sec.LoginThrottle()
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
        """Load the configuration; on the very first start create ``admin``.

        Returns the generated admin password when one was generated now (the caller shows it once),
        None otherwise. A weak ``initial_admin_password`` is refused with the rule stated.
        """
        if not self.enabled:
            return None
        store = self._require_store()
        self._dummy_hash = await self._hasher.hash(generate_password())
        generated: str | None = None
        if await store.load_meta(_BOOTSTRAPPED) is None:
            password = self._initial_password
            if password is None:
                password = generated = generate_password()
            try:
                check_password(sec.ADMIN_USER, password)
            except sec.SecurityConfigError as exc:
                raise sec.SecurityConfigError(
                    f"MLGATE_INITIAL_ADMIN_PASSWORD refused: {exc.message}. The rule: {sec.PASSWORD_RULE}"
                ) from None
            admin = sec.User(
                sec.ADMIN_USER,
                await self._hasher.hash(password),
                backend_roles=(sec.ADMIN_BACKEND_ROLE,),
                description="Created at first start",
            )
            await store.save(USERS, admin.name, admin.to_document())
            for mapping in sec.DEFAULT_MAPPINGS:
                await store.save(MAPPINGS, mapping.role, mapping.to_document())
            await store.save_meta(_BOOTSTRAPPED, "true")
            log.info("security: created user 'admin' (first start)")
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
        roles = {d.id: parse_role_body(d.id, d.source) for d in await store.load_all(ROLES)}
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
            await self._hub.publish(SECURITY, "", local=False)

    async def apply_change(self, kind: str, key: str) -> None:
        """Change-feed applier: another process changed users, roles or mappings."""
        if kind == SECURITY and self.enabled:
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
        the user or the client address is throttled.
        """
        if not self.enabled:
            return None
        if credentials is None:
            raise UnauthorizedError(UNAUTHORIZED)
        name = credentials.username
        now = self._clock()
        wait = self._throttle.retry_after(name, client, now)
        if wait is not None:
            raise RateLimitedError(THROTTLED, retry_after=wait, error_type="security_exception")
        config = await self._fresh_config()
        digest = hmac.digest(self._cache_key, credentials.password.encode(), "sha256")
        known = self._principals.get((name, digest))
        if known is not None and now < known[1]:
            self._throttle.record_success(name, client)
            return known[0]
        user = config.users.get(name)
        if user is None:
            # Spend the same bcrypt time as for a real user, so timing does not reveal which names exist.
            await self._hasher.verify(credentials.password, self._dummy_hash)
        if user is None or not await self._verify(user, credentials.password, digest, now):
            self._throttle.record_failure(name, client, self._clock())
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

    async def _verify(self, user: sec.User, password: str, digest: bytes, now: float) -> bool:
        key = (user.name, digest)
        cached = self._verified.get(key)
        if cached is not None and cached[0] == user.password_hash and now < cached[1]:
            return True
        # One bcrypt check per credential at a time: when a cached login expires under load, the
        # requests that arrive meanwhile wait for that check instead of each burning ~0.3 s of CPU.
        flight = (user.name, digest, user.password_hash)
        pending = self._checking.get(flight)
        if pending is None:
            pending = asyncio.ensure_future(self._check(key, user.password_hash, password, now))
            self._checking[flight] = pending
            pending.add_done_callback(lambda _: self._checking.pop(flight, None))
        return await asyncio.shield(pending)

    async def _check(self, key: tuple[str, bytes], password_hash: str, password: str, now: float) -> bool:
        # The verdict is cached before the flight ends, so no request can fall between the two.
        if not await self._hasher.verify(password, password_hash):
            return False
        if len(self._verified) >= _MAX_CACHED:
            self._verified.clear()
        self._verified[key] = (password_hash, now + self._cache_seconds)
        return True

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
        if await self._require_store().delete(USERS, name) is None:
            raise NotFoundError(f"Resource '{name}' not found.")
        await self._changed()

    async def change_own_password(self, principal: Principal | None, body: Any) -> None:
        """``PUT /_plugins/_security/api/account``: any user may change their own password."""
        current, new = parse_account_body(body)
        await self._reload()
        user = self._config.users.get(principal.name) if principal is not None else None
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
        if await self._require_store().delete(ROLES, name) is None:
            raise NotFoundError(f"Resource '{name}' not found.")
        await self._changed()

    @staticmethod
    def _refuse_builtin(name: str) -> None:
        if name in sec.BUILTIN_ROLES:
            raise ForbiddenError(f"Resource '{name}' is reserved.")

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
        mapping = parse_mapping_body(role, body)
        await self._reload()
        if self._config.role(role) is None:
            raise NotFoundError(f"Role '{role}' is not available for role-mapping.")
        created = role not in self._config.mappings
        await self._require_store().save(MAPPINGS, role, mapping.to_document())
        await self._changed()
        return created

    async def delete_mapping(self, role: str) -> None:
        """``DELETE /_plugins/_security/api/rolesmapping/{role}``."""
        if await self._require_store().delete(MAPPINGS, role) is None:
            raise NotFoundError(f"Resource '{role}' not found.")
        await self._changed()
