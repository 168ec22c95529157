"""mlgate's own routes under ``/_plugins/_mlgate``: see what a connector will send, explain egress."""

from __future__ import annotations

from mlgate import __version__
from mlgate.api.http import Request, Response, json_response
from mlgate.services.container import Services


async def render_inline_connector(req: Request, s: Services) -> Response:
    """``POST /_plugins/_mlgate/connectors/_render``."""
    return json_response(await s.dryrun.render_inline(req.json_object()))


async def render_connector(req: Request, s: Services) -> Response:
    """``POST /_plugins/_mlgate/connectors/{connector_id}/_render``."""
    result = await s.dryrun.render_connector(
        req.principal, req.path_params["connector_id"], req.json_object()
    )
    return json_response(result)


async def render_model(req: Request, s: Services) -> Response:
    """``POST /_plugins/_mlgate/models/{model_id}/_render`` (``?algorithm=`` selects the input shape)."""
    result = await s.dryrun.render_model(
        req.principal, req.path_params["model_id"], req.query.get("algorithm"), req.json_object()
    )
    return json_response(result)


async def explain_egress(req: Request, s: Services) -> Response:
    """``POST /_plugins/_mlgate/egress/_explain``."""
    return json_response(await s.dryrun.explain_egress(req.json_object()))


async def openapi(req: Request, s: Services) -> Response:
    """``GET /_plugins/_mlgate/openapi.json``: the OpenAPI document of every route."""
    # Imported here: the route table (and the body schemas, keyed by handler) import this module.
    from mlgate.api.openapi import openapi_document
    from mlgate.api.routes import ROUTES

    return json_response(openapi_document(ROUTES, __version__))
