"""``PATCH`` (RFC 6902 JSON Patch) on internal users, roles and role mappings, as the Security plugin
answers it: bulk on the collection (``/alice/backend_roles``) or on one entry (``/backend_roles``).

security: src/main/java/org/opensearch/security/dlic/rest/api/AbstractApiAction.java
(``processPatchRequest``) and the validators of InternalUsersApiAction, RolesApiAction and
RolesMappingApiAction. Every entry a patch creates or changes passes the validation of a PUT of it — a
new password is checked for strength and stored as a bcrypt hash, a user's hash itself cannot be set —
and hidden, static or reserved entries are refused. Nothing is written unless every entry passed; then
each entry is written whole (an entry changed meanwhile by another request makes the answer 409).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlgate.domain import security as sec
from mlgate.domain.errors import ConflictError
from mlgate.domain.security_body import parse_mapping_body, parse_role_body, parse_user_body
from mlgate.domain.security_names import (
    ROLE,
    ROLESMAPPING,
    USER,
    not_found,
    refuse_immutable,
    validate_entity_name,
)
from mlgate.domain.security_patch import (
    apply_patch,
    mapping_entity,
    parse_patch,
    role_entity,
    touched_entities,
    user_entity,
)
from mlgate.services.changes import ChangeHub
from mlgate.services.events import SecurityChanged
from mlgate.services.security_setup import MAPPINGS, ROLES, USERS, PasswordHasher, check_password
from mlgate.storage.store import Store, VersionConflict

_COLLECTIONS = {USER: USERS, ROLE: ROLES, ROLESMAPPING: MAPPINGS}


@dataclass(frozen=True)
class _Entry:
    """An existing entry: its stored form as a patch sees it, its GET shape, its store version."""

    entity: dict[str, Any]
    shown: dict[str, Any]
    version: int | None  # None: built in, never stored


@dataclass
class _Write:
    """One entry to write (``doc`` None: delete it); ``password`` is hashed into ``doc`` at the end."""

    name: str
    doc: dict[str, Any] | None
    version: int | None = None
    password: str | None = None


class SecurityPatchService:
    """Applies a JSON Patch to one kind of security entry (``user``, ``role`` or ``rolesmapping``)."""

    def __init__(self, store: Store, hasher: PasswordHasher, hub: ChangeHub) -> None:
        self._store = store
        self._hasher = hasher
        self._hub = hub

    async def patch(self, kind: str, name: str | None, body: bytes) -> bool:
        """Patch the entry ``name`` (or, with None, the whole collection); False: nothing changed."""
        operations = parse_patch(body)
        entries = await self._load(kind)
        if name is not None:
            current = entries.get(name)
            if current is None:
                raise not_found(kind, name)
            refuse_immutable(name, current.shown)
            changes = {name: apply_patch(current.entity, operations)}
        else:
            before = {entry_name: entry.entity for entry_name, entry in entries.items()}
            after = apply_patch(before, operations)
            changes = {entry_name: after.get(entry_name) for entry_name in touched_entities(operations)}
        writes: list[_Write] = []
        for entry_name, patched in changes.items():
            current = entries.get(entry_name)
            if current is not None and current.entity == patched:
                continue
            if current is not None:
                refuse_immutable(entry_name, current.shown)
            if patched is None:
                if current is not None:
                    writes.append(_Write(entry_name, None))
                continue
            writes.append(await self._validated(kind, entry_name, patched, current))
        if not writes:
            return False
        await self._write(_COLLECTIONS[kind], writes)
        return True

    async def _load(self, kind: str) -> dict[str, _Entry]:
        docs = await self._store.load_all(_COLLECTIONS[kind])
        if kind == USER:
            users = [(sec.User.from_document(d.id, d.source), d.version) for d in docs]
            return {u.name: _Entry(user_entity(u), u.to_json(), v) for u, v in users}
        if kind == ROLE:
            roles = {
                d.id: _Entry(*_role(parse_role_body(d.id, d.source, stored=True)), d.version) for d in docs
            }
            # Built-in roles shadow stored ones of the same name, as everywhere else.
            return roles | {n: _Entry(*_role(r), None) for n, r in sec.BUILTIN_ROLES.items()}
        mappings = [(sec.RoleMapping.from_document(d.id, d.source), d.version) for d in docs]
        return {m.role: _Entry(mapping_entity(m), m.to_json(), v) for m, v in mappings}

    async def _validated(self, kind: str, name: str, patched: Any, current: _Entry | None) -> _Write:
        """The write a PUT of ``patched`` would make, or the refusal a PUT of it would get."""
        version = current.version if current is not None else None
        if kind == USER:
            return await self._validated_user(name, patched, current)
        validate_entity_name(kind, name)
        if kind == ROLE:
            role = parse_role_body(name, patched)
            doc = {k: v for k, v in role.to_json().items() if k not in ("reserved", "hidden", "static")}
            return _Write(name, doc, version)
        mapping = parse_mapping_body(name, patched)
        if name not in await self._load(ROLE):
            raise not_found(ROLE, name)
        return _Write(name, mapping.to_document(), version)

    async def _validated_user(self, name: str, patched: Any, current: _Entry | None) -> _Write:
        sec.validate_user_name(name)
        body = dict(patched) if isinstance(patched, Mapping) else patched
        stored_hash = current.entity["hash"] if current is not None else None
        # The stored hash rides along untouched; a changed or new one is refused like any unknown key.
        if isinstance(body, dict) and stored_hash is not None and body.get("hash") == stored_hash:
            del body["hash"]
        parsed = parse_user_body(body, allow_empty=current is not None)
        password_hash = stored_hash
        if parsed.password is not None:
            # zxcvbn takes milliseconds per password: off the event loop, as a bulk patch may carry many.
            await asyncio.to_thread(check_password, name, parsed.password)
        elif password_hash is None:
            raise sec.SecurityConfigError(
                "Please specify either 'hash' or 'password' when creating a new internal user."
            )
        user = sec.User(
            name,
            password_hash or "",
            backend_roles=parsed.backend_roles,
            attributes=parsed.attributes,
            security_roles=parsed.security_roles,
            description=parsed.description,
        )
        return _Write(name, user.to_document(), current.version if current else None, parsed.password)

    async def _write(self, collection: str, writes: list[_Write]) -> None:
        for write in writes:  # hashing last: nothing costly before every entry passed
            if write.password is not None and write.doc is not None:
                write.doc["hash"] = await self._hasher.hash(write.password)
        try:
            for write in writes:
                if write.doc is None:
                    await self._store.delete(collection, write.name)
                    continue
                try:
                    await self._store.save(
                        collection,
                        write.name,
                        write.doc,
                        if_version=write.version,
                        create_only=write.version is None,
                    )
                except VersionConflict:
                    raise ConflictError(
                        f"[{write.name}]: version conflict, the entry was changed by another request"
                    ) from None
        finally:
            await self._hub.publish(SecurityChanged())


def _role(role: sec.Role) -> tuple[dict[str, Any], dict[str, Any]]:
    return role_entity(role), role.to_json()
