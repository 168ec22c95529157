"""Who is calling: the security user as ML Commons sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Principal:
    """An authenticated user. ``None`` in its place means security is off (every check passes)."""

    name: str
    backend_roles: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    attributes: tuple[tuple[str, str], ...] = field(default=())

    @property
    def is_admin(self) -> bool:
        """ML Commons treats the ``all_access`` role as admin."""
        return "all_access" in self.roles

    def owner_json(self) -> dict[str, Any]:
        """The owner object ML Commons writes into documents."""
        return {
            "name": self.name,
            "backend_roles": list(self.backend_roles),
            "roles": list(self.roles),
            "custom_attribute_names": [k for k, _ in self.attributes],
            "user_requested_tenant": None,
        }
