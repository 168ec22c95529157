"""Authentication and authorization: the one point every request passes.

With security off (the default until the security issue lands) every request runs as ``None`` — the
"no security user" of ML Commons — and every action is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping

from mlgate.domain.principal import Principal


class SecurityService:
    """Resolves the caller of a request and decides whether it may perform a route's action."""

    enabled = False

    async def authenticate(self, headers: Mapping[str, str], client: str) -> Principal | None:
        """The principal behind a request's credentials (None when security is off)."""
        return None

    def authorize(self, principal: Principal | None, action: str) -> None:
        """Raise ForbiddenError when ``principal`` lacks the permission for ``action``."""
        return None
