"""Model controllers (ML Commons 2.12+): per-user rate limits of one model.

ml-commons: common/.../controller/MLController.java, the transport actions of plugin/.../action/controller/.

A controller document (id = the model id) maps user names to ``{"limit", "unit"}`` limiters, parsed like
the model's own ``rate_limiter``. Create replaces a controller; update merges per user and per field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.fields import token_name
from mlgate.domain.model import parse_rate_limiter

INDEX = ".plugins-ml-controller"

CONTROLLER_DISABLED = (
    'Controller is currently disabled. To enable it, update the setting "plugins.ml_commons.controller_enabled" '
    "to true."
)

Limiters = dict[str, dict[str, str]]


def parse_user_rate_limiter(body: Mapping[str, Any] | None, *, operation: str) -> Limiters:
    """The ``user_rate_limiter`` of a create (``operation="Create"``) or update request body.

    Users whose limiter has neither ``limit`` nor ``unit`` are dropped; a limiter with one of the two is
    kept (it limits nobody until it has both, as in ML Commons). Unknown fields are ignored.
    """
    if body is None:
        raise InvalidRequestError(
            f"{operation} model controller request has empty body", error_type="parse_exception"
        )
    raw = body.get("user_rate_limiter")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidRequestError(
            f"expecting token of type [START_OBJECT] but found [{token_name(raw)}]",
            error_type="parsing_exception",
        )
    out: Limiters = {}
    for user, limiter in raw.items():
        if not isinstance(limiter, Mapping):
            raise InvalidRequestError(
                f"expecting token of type [START_OBJECT] but found [{token_name(limiter)}]",
                error_type="parsing_exception",
            )
        for name in ("limit", "unit"):
            if name in limiter and limiter[name] is None:
                raise InvalidRequestError(
                    f"{name} of user {user} must not be null", error_type="parse_exception"
                )
        parsed = parse_rate_limiter(limiter)
        if parsed:
            out[str(user)] = parsed
    return out


def merge_user_rate_limiter(stored: Mapping[str, Mapping[str, str]], update: Limiters) -> Limiters:
    """Update semantics: new users are added, existing users get the fields the update gives."""
    merged: Limiters = {user: dict(limiter) for user, limiter in stored.items()}
    for user, limiter in update.items():
        merged[user] = {**merged.get(user, {}), **limiter}
    return merged


def controller_document(model_id: str, limiters: Limiters) -> dict[str, Any]:
    """The stored controller, also the body of GET."""
    return {"model_id": model_id, "user_rate_limiter": limiters}
