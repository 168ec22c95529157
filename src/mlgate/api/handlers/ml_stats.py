"""Profile and stats routes (§6.3, §6.4): decode → service call → encode."""

from __future__ import annotations

from mlgate.api.http import Request, Response, json_response
from mlgate.services.container import Services


async def profile(req: Request, s: Services) -> Response:
    """``GET /_plugins/_ml/profile`` and ``/profile/models`` (every deployed model)."""
    return json_response(s.stats.profile(models=True, view=req.query.get("view"), body=req.json_object()))


async def profile_models(req: Request, s: Services) -> Response:
    """``GET /_plugins/_ml/profile/models/{model_id}`` (comma-separated ids allowed)."""
    result = s.stats.profile(
        models=True,
        model_ids=req.path_params["model_id"],
        view=req.query.get("view"),
        body=req.json_object(),
    )
    return json_response(result)


async def profile_tasks(req: Request, s: Services) -> Response:
    """``GET /_plugins/_ml/profile/tasks[/{task_id}]``."""
    return json_response(s.stats.profile(models=False, view=req.query.get("view"), body=req.json_object()))


async def stats(req: Request, s: Services) -> Response:
    """``GET /_plugins/_ml[/{node_id}]/stats[/{stat}]``."""
    return json_response(await s.stats.stats(req.path_params.get("node_id"), req.path_params.get("stat")))
