"""Names of security entries (users, roles, role mappings) and the Security plugin's refusals about them.

Messages as in security: src/main/java/org/opensearch/security/dlic/rest/validation/EndpointValidator.java
(``withRequiredEntityName``, ``entityExists``, ``entityHidden`` / ``entityStatic`` / ``entityReserved``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlgate.domain.errors import ForbiddenError, InvalidRequestError, NotFoundError

USER = "user"
ROLE = "role"
ROLESMAPPING = "rolesmapping"
MAX_NAME_LENGTH = 256  # RequestContentValidator.MAX_STRING_LENGTH


def is_storable_name(name: str) -> bool:
    """Can an entry have this name? No control characters: the PostgreSQL store cannot hold a NUL, and
    the others only ever arrive by mistake (or to forge log lines)."""
    return not any(ord(c) < 0x20 or ord(c) == 0x7F for c in name)


def validate_entity_name(resource: str, name: str) -> None:
    """Refuse a name no entry may have (``resource`` is ``user``, ``role`` or ``rolesmapping``)."""
    if not name:
        raise InvalidRequestError(f"No {resource} specified.")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidRequestError(f"{resource} name exceeds maximum length of {MAX_NAME_LENGTH}.")
    if not is_storable_name(name):
        raise InvalidRequestError(f"{resource} name must not contain control characters.")


def not_found(resource: str, name: str) -> NotFoundError:
    """``EndpointValidator.entityExists``: e.g. ``user 'alice' not found.``."""
    return NotFoundError(f"{resource} '{name}' not found.")


def refuse_immutable(name: str, shown: Mapping[str, Any]) -> None:
    """Refuse to change an entry that is hidden, static or reserved (``shown`` is its GET shape)."""
    if shown.get("hidden"):
        raise NotFoundError(f"Resource '{name}' is not available.")
    if shown.get("static"):
        raise ForbiddenError(f"Resource '{name}' is static.")
    if shown.get("reserved"):
        raise ForbiddenError(f"Resource '{name}' is reserved.")
