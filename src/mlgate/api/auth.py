"""Request → principal: read HTTP Basic credentials and hand them to the security service.

This module only decodes the header; every decision (who the user is, whether they may log in, what
they may do) is the security service's.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

from mlgate.domain.errors import UnauthorizedError
from mlgate.domain.principal import Principal
from mlgate.domain.security import BasicCredentials
from mlgate.services.security import UNAUTHORIZED, SecurityService

# The longest name (256 characters of up to 4 UTF-8 bytes), a colon and the longest password (72 bytes),
# in base64, fit well below this; anything longer cannot be a valid login.
MAX_BASIC_TOKEN = 2048


def basic_credentials(headers: Mapping[str, str]) -> BasicCredentials | None:
    """The Basic credentials of a request, None when it carries none; a malformed header is a 401."""
    value = headers.get("authorization", "").strip()
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "basic":
        return None
    token = token.strip()
    if len(token) > MAX_BASIC_TOKEN:
        raise UnauthorizedError(UNAUTHORIZED)
    try:
        # Header values arrive as latin-1 text: non-ASCII bytes are not base64 and fail the decode.
        decoded = base64.b64decode(token.encode("latin-1"), validate=True).decode("utf-8")
    except ValueError:  # bad base64, not UTF-8, or not latin-1 text: binascii.Error and UnicodeError
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
