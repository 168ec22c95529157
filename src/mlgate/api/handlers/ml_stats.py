"""Profile and stats routes, and the node-to-node routes that give one node's part.

ml-commons: plugin/.../rest/RestMLProfileAction.java, plugin/.../rest/RestMLStatsAction.java.
"""

from __future__ import annotations

from mlgate.api.http import Request, Response, json_response
from mlgate.services.container import Services


async def profile(req: Request, s: Services) -> Response:
    """``GET /_plugins/_ml/profile`` and ``/profile/models`` (every deployed model)."""
    result = await s.stats.profile(models=True, view=req.query.get("view"), body=req.json_object())
    return json_response(result)


async def profile_models(req: Request, s: Services) -> Response:
    """``GET /_plugins/_ml/profile/models/{model_id}`` (comma-separated ids allowed)."""
    result = await s.stats.profile(
        models=True,
        model_ids=req.path_params["model_id"],
        view=req.query.get("view"),
        body=req.json_object(),
    )
    return json_response(result)


async def profile_tasks(req: Request, s: Services) -> Response:
    """``GET /_plugins/_ml/profile/tasks[/{task_id}]``."""
    result = await s.stats.profile(models=False, view=req.query.get("view"), body=req.json_object())
    return json_response(result)


async def stats(req: Request, s: Services) -> Response:
    """``GET /_plugins/_ml[/{node_id}]/stats[/{stat}]``."""
    return json_response(await s.stats.stats(req.path_params.get("node_id"), req.path_params.get("stat")))


async def internal_profile(req: Request, s: Services) -> Response:
    """This node's model profiles for the node that gathers the cluster's profile (node token checked
    in the app); ``?models=false`` for the task paths, ``?model_ids=a,b`` narrows."""
    raw = req.query.get("model_ids")
    wanted = None if raw is None else {part for part in raw.split(",") if part}
    profiles = s.stats.local_profile(models=req.query.get("models") != "false", wanted=wanted)
    return json_response({"models": profiles})


async def internal_stats(req: Request, s: Services) -> Response:
    """This node's counters for the node that gathers the cluster's stats; ``?stat=a,b`` narrows."""
    raw = req.query.get("stat")
    wanted = None if raw is None else {part for part in raw.split(",") if part}
    return json_response(s.stats.local_stats(wanted))
