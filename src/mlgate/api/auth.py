"""Request → principal: read HTTP Basic credentials and hand them to the security service.

This module only decodes the header; every decision (who the user is, whether they may log in, what
they may do) is the security service's.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from mlgate.domain.errors import UnauthorizedError
from mlgate.domain.principal import Principal
from mlgate.domain.security import BasicCredentials
from mlgate.services.security import UNAUTHORIZED, SecurityService


def basic_credentials(headers: Mapping[str, str]) -> BasicCredentials | None:
    """The Basic credentials of a request, None when it carries none; a malformed header is a 401."""
    value = headers.get("authorization", "").strip()
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise UnauthorizedError(UNAUTHORIZED) from None
    username, colon, password = decoded.partition(":")
    if not colon or not username:
        raise UnauthorizedError(UNAUTHORIZED)
    return BasicCredentials(username, password)


async def authenticate(
    headers: Mapping[str, str], client: str, security: SecurityService
) -> Principal | None:
    """The caller of a request (None when security is off)."""
    if not security.enabled:
        return None
    return await security.authenticate(basic_credentials(headers), client)
