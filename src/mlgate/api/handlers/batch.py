"""Batch predict routes: decode → service call → encode."""

from __future__ import annotations

from mlgate.api.http import Request, Response, json_response
from mlgate.services.container import Services


async def batch_predict(req: Request, s: Services) -> Response:
    """``POST /_plugins/_ml/models/{id}/_batch_predict``."""
    return json_response(
        await s.batch.batch_predict(req.principal, req.path_params["model_id"], req.json_object())
    )


async def cancel_task(req: Request, s: Services) -> Response:
    """``POST /_plugins/_ml/tasks/{id}/_cancel``."""
    return json_response(await s.batch.cancel(req.principal, req.path_params["task_id"]))
