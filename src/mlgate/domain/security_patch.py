"""JSON Patch (RFC 6902) on security entries, the way the Security plugin's ``PATCH`` applies it.

security: src/main/java/org/opensearch/security/dlic/rest/api/AbstractApiAction.java
(``withPatchRequestContent``, ``patchEntity``, ``patchEntities``). The plugin accepts only ``add``,
``replace`` and ``remove``; it patches each entry in its stored form, where fields holding their
default (empty lists and maps, ``false`` flags, no description) are left out, so ``add`` to a list the
entry does not have fails with ``Missing field``. Removing a member that is not there changes nothing,
as with the plugin's patch library.

The operations are applied by the ``jsonpatch`` library. Each one is checked first here so that a
refusal carries the plugin's message and never the library's, which may quote the document — and a
user's document holds its password hash.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonpatch
import jsonpointer
import orjson

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.security import Role, RoleMapping, User

SUPPORTED_OPERATIONS = ("add", "replace", "remove")
_WRONG_BODY = "Wrong request body"
_APPEND = -1  # the "-" array index: past the last element


@dataclass(frozen=True)
class Operation:
    """One checked patch operation: ``op``, the pointer's tokens and its raw operation object."""

    op: str
    tokens: tuple[str, ...]
    raw: Mapping[str, Any]

    @property
    def entity(self) -> str | None:
        """The entry a bulk patch touches (first token), None for the root."""
        return self.tokens[0] if self.tokens else None


def parse_patch(body: bytes) -> list[Operation]:
    """Decode and check a PATCH body: a JSON array of ``add``/``replace``/``remove`` operations."""
    try:
        document = orjson.loads(body) if body.strip() else None
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError(f"Error in JSON patch: {exc}") from None
    if not isinstance(document, list):
        raise InvalidRequestError(_WRONG_BODY)
    named = [_text(item["op"]) for item in document if isinstance(item, dict) and "op" in item]
    if not named:
        raise InvalidRequestError(_WRONG_BODY)
    for op in dict.fromkeys(named):
        if op not in SUPPORTED_OPERATIONS:
            raise InvalidRequestError(
                f"Unsupported patch operation: {op}. Supported are: {','.join(SUPPORTED_OPERATIONS)}"
            )
    return [_operation(item) for item in document]


def _text(value: Any) -> str:
    # Jackson's asText(): strings as they are, other scalars as JSON, containers as "".
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return ""
    return orjson.dumps(value).decode()


def _operation(item: Any) -> Operation:
    if not isinstance(item, dict):
        raise InvalidRequestError("Invalid JSON Patch payload (not an object)")
    for member in ("op", "path"):
        if member not in item:
            raise InvalidRequestError(f"Invalid JSON Patch payload (missing '{member}' field)")
        if not isinstance(item[member], str):
            raise InvalidRequestError(f"Invalid JSON Patch payload (non-text '{member}' field)")
    if item["op"] != "remove" and "value" not in item:
        raise InvalidRequestError("Invalid JSON Patch payload (missing 'value' field)")
    return Operation(item["op"], _tokens(item["path"]), item)


def _tokens(path: str) -> tuple[str, ...]:
    """RFC 6901 pointer → reference tokens, with the plugin's messages for a malformed one."""
    if path == "":
        return ()
    if not path.startswith("/"):
        raise InvalidRequestError("Missing leading slash")
    tokens: list[str] = []
    for raw in path[1:].split("/"):
        token, i = [], 0
        while i < len(raw):
            if raw[i] != "~":
                token.append(raw[i])
            elif i + 1 == len(raw):
                raise InvalidRequestError("Incomplete escape sequence '~' at end of path")
            elif raw[i + 1] in "01":
                token.append("~" if raw[i + 1] == "0" else "/")
                i += 1
            else:
                raise InvalidRequestError(f"Invalid escape sequence ~{raw[i + 1]} at index {i}")
            i += 1
        tokens.append("".join(token))
    return tuple(tokens)


def apply_patch(document: Any, operations: list[Operation]) -> Any:
    """A patched copy of ``document`` (the original is left as it was)."""
    target = copy.deepcopy(document)
    for operation in operations:
        if _refuse(target, operation):
            continue  # removing a member that is not there: nothing to do
        try:
            target = jsonpatch.JsonPatch([dict(operation.raw)]).apply(target, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException):
            # Checked above; should the library still disagree, say so without its (document-quoting) text.
            raise InvalidRequestError(f"Cannot apply '{operation.op}' at {operation.raw['path']}") from None
    return target


def _refuse(document: Any, operation: Operation) -> bool:
    """Raise the plugin's message when ``operation`` cannot apply; True when it is a no-op remove."""
    op, tokens = operation.op, operation.tokens
    if not tokens:
        raise InvalidRequestError(
            "Cannot remove document root" if op == "remove" else "Cannot replace root document"
        )
    parent = _evaluate(document, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        if op == "replace" and last not in parent:
            raise InvalidRequestError(f'Missing field "{last}"')
        return op == "remove" and last not in parent
    if isinstance(parent, list):
        index = _index(last)
        if index is None:
            raise InvalidRequestError(f'Can\'t reference field "{last}" on array')
        if op == "add" and (index == _APPEND or index <= len(parent)):
            return False
        if index == _APPEND or index >= len(parent):
            raise InvalidRequestError(f"Array index {last} out of bounds")
        return False
    raise InvalidRequestError("Cannot reference past scalar value")


def _evaluate(document: Any, tokens: tuple[str, ...]) -> Any:
    current = document
    for token in tokens:
        if isinstance(current, list):
            index = _index(token)
            if index is None:
                raise InvalidRequestError(f'Can\'t reference field "{token}" on array')
            if index == _APPEND or index >= len(current):
                raise InvalidRequestError(f"Array index {token} is out of bounds")
            current = current[index]
        elif isinstance(current, dict):
            if token not in current:
                raise InvalidRequestError(f'Missing field "{token}"')
            current = current[token]
        else:
            raise InvalidRequestError("Can't reference past scalar value")
    return current


def _index(token: str) -> int | None:
    if token == "-":
        return _APPEND
    if token.isdigit() and token.isascii() and (token == "0" or not token.startswith("0")):
        return int(token)
    return None


def touched_entities(operations: list[Operation]) -> list[str]:
    """The entries a bulk patch names, in order of first mention."""
    return list(dict.fromkeys(op.entity for op in operations if op.entity is not None))


# -- entries in their stored form (defaults left out), as the plugin patches them -----------------------


def user_entity(user: User) -> dict[str, Any]:
    """A user as a patch sees it: with its hash (which a patch may not change: see the service)."""
    return _without_defaults(
        {
            "hash": user.password_hash,
            "backend_roles": list(user.backend_roles),
            "attributes": dict(user.attributes),
            "description": user.description,
            "opendistro_security_roles": list(user.security_roles),
        },
        user.to_json(),
    )


def role_entity(role: Role) -> dict[str, Any]:
    """A role as a patch sees it."""
    shown = role.to_json()
    return _without_defaults(
        {k: v for k, v in shown.items() if k not in ("reserved", "hidden", "static")}, shown
    )


def mapping_entity(mapping: RoleMapping) -> dict[str, Any]:
    """A role mapping as a patch sees it."""
    shown = mapping.to_json()
    return _without_defaults({k: v for k, v in shown.items() if k not in ("reserved", "hidden")}, shown)


def _without_defaults(fields: Mapping[str, Any], shown: Mapping[str, Any]) -> dict[str, Any]:
    entity = {key: value for key, value in fields.items() if value not in ("", [], {}, None)}
    # The flags appear only when set, and then the entry is immutable anyway.
    entity.update({flag: True for flag in ("reserved", "hidden", "static") if shown.get(flag)})
    return entity
