"""Creating and restoring the reserved security entries: the user ``admin`` and the built-in role mappings.

The REST API may not change or delete them (they are ``reserved``, as in OpenSearch), so they change only
here: at start (created at the very first start, re-created when missing) and through the offline
commands ``mlgate security reset-admin-password`` / ``reset-role-mappings`` (docs/api.md#security), which
write through the store and announce the change on the feed, so running nodes pick it up.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

import bcrypt
import zxcvbn

from mlgate.domain import security as sec
from mlgate.services.changes import ChangeHub
from mlgate.services.events import SecurityChanged
from mlgate.storage.store import Store

log = logging.getLogger("mlgate.security")

USERS = ".opendistro_security_users"
ROLES = ".opendistro_security_roles"
MAPPINGS = ".opendistro_security_rolesmapping"
_BOOTSTRAPPED = "security.bootstrapped"


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


async def _save_admin(store: Store, hasher: PasswordHasher, password: str) -> bool:
    """Give ``admin`` this password and its ``admin`` backend role; True when it had to be created."""
    found = await store.load(USERS, sec.ADMIN_USER)
    old = sec.User.from_document(sec.ADMIN_USER, found.source) if found is not None else None
    backend_roles = old.backend_roles if old is not None else ()
    if sec.ADMIN_BACKEND_ROLE not in backend_roles:
        backend_roles = (sec.ADMIN_BACKEND_ROLE, *backend_roles)
    admin = sec.User(
        sec.ADMIN_USER,
        await hasher.hash(password),
        backend_roles=backend_roles,
        attributes=old.attributes if old is not None else (),
        security_roles=old.security_roles if old is not None else (),
        description=old.description if old is not None else "Created at first start",
    )
    await store.save(USERS, admin.name, admin.to_document())
    return old is None


async def restore_reserved(store: Store, hasher: PasswordHasher, initial_password: str | None) -> str | None:
    """At start: make sure ``admin`` and the built-in role mappings exist.

    At the very first start they are created; later a missing one (the store was edited by hand, or by a
    version that let the REST API delete them) is created again and the log says so. ``admin`` gets
    ``initial_password`` (MLGATE_INITIAL_ADMIN_PASSWORD; refused with the rule when weak) or a generated
    password, which is returned so the caller can show it once. An ``initial_password`` that is not the
    password of an existing ``admin`` changes nothing; the log says how to reset it.
    """
    first = await store.load_meta(_BOOTSTRAPPED) is None
    generated: str | None = None
    existing = await store.load(USERS, sec.ADMIN_USER)
    if existing is None:
        password = initial_password
        if password is None:
            password = generated = generate_password()
        try:
            check_password(sec.ADMIN_USER, password)
        except sec.SecurityConfigError as exc:
            raise sec.SecurityConfigError(
                f"MLGATE_INITIAL_ADMIN_PASSWORD refused: {exc.message}. The rule: {sec.PASSWORD_RULE}"
            ) from None
        await _save_admin(store, hasher, password)
        if first:
            log.info("security: created user 'admin' (first start)")
        else:
            source = "a generated password" if generated else "the password in MLGATE_INITIAL_ADMIN_PASSWORD"
            log.warning("security: user 'admin' was missing; created it again with %s", source)
    elif initial_password is not None and not await hasher.verify(
        initial_password, str(existing.source.get("hash", ""))
    ):
        log.warning(
            "security: MLGATE_INITIAL_ADMIN_PASSWORD is not the password of 'admin' and was ignored "
            "(it only applies when 'admin' does not exist); to reset it, run "
            "'mlgate security reset-admin-password'"
        )
    for mapping in sec.DEFAULT_MAPPINGS:
        if await store.load(MAPPINGS, mapping.role) is None:
            await store.save(MAPPINGS, mapping.role, mapping.to_document())
            if not first:
                log.warning("security: role mapping '%s' was missing; restored the default", mapping.role)
    if first:
        await store.save_meta(_BOOTSTRAPPED, "true")
    return generated


async def reset_admin_password(store: Store, hasher: PasswordHasher, hub: ChangeHub, password: str) -> bool:
    """``mlgate security reset-admin-password``: set (or create) ``admin`` with this password and its
    ``admin`` backend role; True when ``admin`` had to be created. A weak password is refused."""
    check_password(sec.ADMIN_USER, password)
    created = await _save_admin(store, hasher, password)
    await restore_reserved(store, hasher, None)  # a never-started store gets its mappings too
    await hub.publish(SecurityChanged(), local=False)
    return created


async def reset_role_mappings(store: Store, hub: ChangeHub) -> tuple[str, ...]:
    """``mlgate security reset-role-mappings``: the built-in mappings back to their defaults (custom
    mappings are left alone); returns the roles reset."""
    for mapping in sec.DEFAULT_MAPPINGS:
        await store.save(MAPPINGS, mapping.role, mapping.to_document())
    await hub.publish(SecurityChanged(), local=False)
    return tuple(m.role for m in sec.DEFAULT_MAPPINGS)
