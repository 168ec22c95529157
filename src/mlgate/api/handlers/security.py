"""``/_plugins/_security`` routes in the Security plugin's REST shapes.

The Security REST API does not answer with the OpenSearch error envelope: its validator says
``{"status": "error", "reason": …}`` and its other refusals ``{"status": "NOT_FOUND", "message": …}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from mlgate.api.errors import status_of
from mlgate.api.http import Request, Response, json_response
from mlgate.domain.errors import ForbiddenError, InvalidRequestError, NotFoundError
from mlgate.domain.security import RESERVED_USERS, SecurityConfigError
from mlgate.services.container import Services

Handler = Callable[[Request, Services], Awaitable[Response]]
_STATUS_NAMES = (
    (NotFoundError, "NOT_FOUND"),
    (ForbiddenError, "FORBIDDEN"),
    (InvalidRequestError, "BAD_REQUEST"),
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
        except (NotFoundError, ForbiddenError, InvalidRequestError) as exc:
            name = next(n for cls, n in _STATUS_NAMES if isinstance(exc, cls))
            return json_response({"status": name, "message": exc.message}, status_of(exc))

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
