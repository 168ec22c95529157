"""``/_plugins/_security`` routes in the Security plugin's REST shapes.

The Security REST API does not answer with the OpenSearch error envelope: its validator says
``{"status": "error", "reason": …}`` and its other refusals ``{"status": "NOT_FOUND", "message": …}``.
Every route is also served under the legacy prefix ``/_opendistro/_security`` (see :func:`deprecated`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from mlgate.api.errors import status_of
from mlgate.api.http import Request, Response, json_response
from mlgate.domain.errors import ConflictError, ForbiddenError, InvalidRequestError, NotFoundError
from mlgate.domain.security import RESERVED_USERS, SecurityConfigError
from mlgate.domain.security_names import ROLE, ROLESMAPPING, USER
from mlgate.services.container import Services

Handler = Callable[[Request, Services], Awaitable[Response]]
_STATUS_NAMES = (
    (NotFoundError, "NOT_FOUND"),
    (ForbiddenError, "FORBIDDEN"),
    (ConflictError, "CONFLICT"),
    (InvalidRequestError, "BAD_REQUEST"),
)
# What OpenSearch's deprecation logger adds to every answer on a legacy route (the build is unknown).
_LEGACY_WARNING = (
    b'299 OpenSearch-3.9.0-unknown "[_opendistro/_security] is a deprecated endpoint path. '
    b'Please use _plugins/_security instead."'
)


def _security_api(handler: Handler) -> Handler:
    @wraps(handler)
    async def wrapped(req: Request, s: Services) -> Response:
        if not s.security.enabled:
            # Without security OpenSearch has no such routes; answer as its router does.
            message = f"no handler found for uri [{req.path}] and method [{req.method}]"
            return json_response({"error": message, "status": 400}, 400)
        try:
            return await handler(req, s)
        except SecurityConfigError as exc:
            return json_response({"status": "error", "reason": exc.message, **exc.details}, 400)
        except (NotFoundError, ForbiddenError, ConflictError, InvalidRequestError) as exc:
            name = next(n for cls, n in _STATUS_NAMES if isinstance(exc, cls))
            return json_response({"status": name, "message": exc.message}, status_of(exc))

    return wrapped


def deprecated(handler: Handler) -> Handler:
    """The same handler on its ``/_opendistro/_security`` path, with OpenSearch's deprecation warning."""

    @wraps(handler)
    async def wrapped(req: Request, s: Services) -> Response:
        response = await handler(req, s)
        if s.security.enabled:  # without security the route does not exist: no warning either
            response.headers.append((b"warning", _LEGACY_WARNING))
        return response

    return wrapped


def _saved(name: str, created: bool) -> Response:
    if created:
        return json_response({"status": "CREATED", "message": f"'{name}' created."}, 201)
    return json_response({"status": "OK", "message": f"'{name}' updated."})


def _deleted(name: str) -> Response:
    return json_response({"status": "OK", "message": f"'{name}' deleted."})


@_security_api
async def authinfo(req: Request, s: Services) -> Response:
    """``GET /_plugins/_security/authinfo``."""
    return json_response(s.security.authinfo(req.principal, req.client))


@_security_api
async def get_account(req: Request, s: Services) -> Response:
    """``GET /_plugins/_security/api/account``."""
    info = s.security.authinfo(req.principal, req.client)
    return json_response(
        {
            "user_name": info["user_name"],
            "is_reserved": info["user_name"] in RESERVED_USERS,
            "is_hidden": False,
            "is_internal_user": True,
            "user_requested_tenant": None,
            "backend_roles": info["backend_roles"],
            "custom_attribute_names": info["custom_attribute_names"],
            "tenants": info["tenants"],
            "roles": info["roles"],
        }
    )


@_security_api
async def put_account(req: Request, s: Services) -> Response:
    """``PUT /_plugins/_security/api/account`` — change one's own password."""
    await s.security.change_own_password(req.principal, req.json())
    name = req.principal.name if req.principal is not None else ""
    return _saved(name, created=False)


@_security_api
async def list_users(req: Request, s: Services) -> Response:
    """``GET /_plugins/_security/api/internalusers``."""
    return json_response(await s.security.users())


@_security_api
async def get_user(req: Request, s: Services) -> Response:
    """``GET /_plugins/_security/api/internalusers/{name}``."""
    return json_response(await s.security.user(req.path_params["name"]))


@_security_api
async def put_user(req: Request, s: Services) -> Response:
    """``PUT /_plugins/_security/api/internalusers/{name}``."""
    name = req.path_params["name"]
    return _saved(name, await s.security.put_user(name, req.json()))


@_security_api
async def delete_user(req: Request, s: Services) -> Response:
    """``DELETE /_plugins/_security/api/internalusers/{name}``."""
    name = req.path_params["name"]
    await s.security.delete_user(name)
    return _deleted(name)


@_security_api
async def list_roles(req: Request, s: Services) -> Response:
    """``GET /_plugins/_security/api/roles``."""
    return json_response(await s.security.roles())


@_security_api
async def get_role(req: Request, s: Services) -> Response:
    """``GET /_plugins/_security/api/roles/{name}``."""
    return json_response(await s.security.role(req.path_params["name"]))


@_security_api
async def put_role(req: Request, s: Services) -> Response:
    """``PUT /_plugins/_security/api/roles/{name}``."""
    name = req.path_params["name"]
    return _saved(name, await s.security.put_role(name, req.json()))


@_security_api
async def delete_role(req: Request, s: Services) -> Response:
    """``DELETE /_plugins/_security/api/roles/{name}``."""
    name = req.path_params["name"]
    await s.security.delete_role(name)
    return _deleted(name)


@_security_api
async def list_mappings(req: Request, s: Services) -> Response:
    """``GET /_plugins/_security/api/rolesmapping``."""
    return json_response(await s.security.mappings())


@_security_api
async def get_mapping(req: Request, s: Services) -> Response:
    """``GET /_plugins/_security/api/rolesmapping/{role}``."""
    return json_response(await s.security.mapping(req.path_params["role"]))


@_security_api
async def put_mapping(req: Request, s: Services) -> Response:
    """``PUT /_plugins/_security/api/rolesmapping/{role}`` — replaces the mapping."""
    role = req.path_params["role"]
    return _saved(role, await s.security.put_mapping(role, req.json()))


@_security_api
async def delete_mapping(req: Request, s: Services) -> Response:
    """``DELETE /_plugins/_security/api/rolesmapping/{role}``."""
    role = req.path_params["role"]
    await s.security.delete_mapping(role)
    return _deleted(role)


def _patch(kind: str, param: str | None) -> Handler:
    """``PATCH`` of a whole collection (``param`` None) or of the entry named by path parameter ``param``."""

    @_security_api
    async def handler(req: Request, s: Services) -> Response:
        name = req.path_params[param] if param is not None else None
        if not await s.security_patch.patch(kind, name, req.body):
            return json_response({"status": "OK", "message": "No updates required"})
        return json_response(
            {"status": "OK", "message": "Resource updated." if name is None else f"'{name}' updated."}
        )

    handler.__doc__ = f"``PATCH`` on {kind} entries (RFC 6902)."
    return handler


patch_users = _patch(USER, None)
patch_user = _patch(USER, "name")
patch_roles = _patch(ROLE, None)
patch_role = _patch(ROLE, "name")
patch_mappings = _patch(ROLESMAPPING, None)
patch_mapping = _patch(ROLESMAPPING, "role")
