"""``/_plugins/_ml/controllers/{model_id}``: per-user rate limits of a model."""

from __future__ import annotations

from mlgate.api.http import Request, Response, json_response
from mlgate.services.container import Services


async def create_controller(req: Request, s: Services) -> Response:
    """``POST /_plugins/_ml/controllers/{model_id}``."""
    return json_response(
        await s.controllers.create(req.principal, req.path_params["model_id"], req.json_object())
    )


async def update_controller(req: Request, s: Services) -> Response:
    """``PUT /_plugins/_ml/controllers/{model_id}``."""
    return json_response(
        await s.controllers.update(req.principal, req.path_params["model_id"], req.json_object())
    )


async def get_controller(req: Request, s: Services) -> Response:
    """``GET /_plugins/_ml/controllers/{model_id}``."""
    return json_response(await s.controllers.get(req.principal, req.path_params["model_id"]))


async def delete_controller(req: Request, s: Services) -> Response:
    """``DELETE /_plugins/_ml/controllers/{model_id}``."""
    return json_response(await s.controllers.delete(req.principal, req.path_params["model_id"]))
