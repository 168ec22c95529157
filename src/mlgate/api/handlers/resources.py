"""Model group, connector, model and task routes: decode → service call → encode."""

from __future__ import annotations

from typing import Any

from mlgate.api.http import Request, Response, json_response
from mlgate.services.container import Services
from mlgate.services.predict import Forwarded

# ``?trace=true`` shows the rendered request: it needs the right to dry-run (the render routes' action).
TRACE_ACTION = "cluster:admin/mlgate/render"


async def register_model_group(req: Request, s: Services) -> Response:
    """``POST /_plugins/_ml/model_groups/_register``."""
    return json_response(await s.model_groups.register(req.principal, req.json_object()))


async def get_model_group(req: Request, s: Services) -> Response:
    """``GET /_plugins/_ml/model_groups/{id}``."""
    return json_response(await s.model_groups.load(req.principal, req.path_params["model_group_id"]))


async def search_model_groups(req: Request, s: Services) -> Response:
    """``GET|POST /_plugins/_ml/model_groups/_search``."""
    return json_response(await s.model_groups.search(req.principal, req.json_object(), req.query))


async def update_model_group(req: Request, s: Services) -> Response:
    """``PUT /_plugins/_ml/model_groups/{id}``."""
    return json_response(
        await s.model_groups.update(req.principal, req.path_params["model_group_id"], req.json_object())
    )


async def delete_model_group(req: Request, s: Services) -> Response:
    """``DELETE /_plugins/_ml/model_groups/{id}``."""
    return json_response(await s.model_groups.delete(req.principal, req.path_params["model_group_id"]))


async def create_connector(req: Request, s: Services) -> Response:
    """``POST /_plugins/_ml/connectors/_create``."""
    return json_response(await s.connectors.create(req.principal, req.json_object()))


async def get_connector(req: Request, s: Services) -> Response:
    """``GET /_plugins/_ml/connectors/{id}``."""
    return json_response(await s.connectors.get(req.principal, req.path_params["connector_id"]))


async def search_connectors(req: Request, s: Services) -> Response:
    """``GET|POST /_plugins/_ml/connectors/_search``."""
    return json_response(await s.connectors.search(req.principal, req.json_object(), req.query))


async def update_connector(req: Request, s: Services) -> Response:
    """``PUT /_plugins/_ml/connectors/{id}``."""
    return json_response(
        await s.connectors.update(req.principal, req.path_params["connector_id"], req.json_object())
    )


async def delete_connector(req: Request, s: Services) -> Response:
    """``DELETE /_plugins/_ml/connectors/{id}``."""
    return json_response(await s.connectors.delete(req.principal, req.path_params["connector_id"]))


async def register_model(req: Request, s: Services) -> Response:
    """``POST /_plugins/_ml/models/_register[?deploy=true]``."""
    return json_response(await s.models.register(req.principal, req.json_object(), deploy=req.flag("deploy")))


async def get_model(req: Request, s: Services) -> Response:
    """``GET /_plugins/_ml/models/{id}``."""
    return json_response(await s.models.get(req.principal, req.path_params["model_id"]))


async def search_models(req: Request, s: Services) -> Response:
    """``GET|POST /_plugins/_ml/models/_search``."""
    return json_response(await s.models.search(req.principal, req.json_object(), req.query))


async def update_model(req: Request, s: Services) -> Response:
    """``PUT /_plugins/_ml/models/{id}``."""
    return json_response(await s.models.update(req.principal, req.path_params["model_id"], req.json_object()))


async def delete_model(req: Request, s: Services) -> Response:
    """``DELETE /_plugins/_ml/models/{id}``."""
    return json_response(await s.models.delete(req.principal, req.path_params["model_id"]))


async def deploy_model(req: Request, s: Services) -> Response:
    """``POST /_plugins/_ml/models/{id}/_deploy``."""
    return json_response(
        await s.deployment.deploy(req.principal, req.path_params["model_id"], req.json_object())
    )


async def undeploy_model(req: Request, s: Services) -> Response:
    """``POST /_plugins/_ml/models/{id}/_undeploy``."""
    return json_response(await s.deployment.undeploy(req.principal, [req.path_params["model_id"]]))


async def undeploy_models(req: Request, s: Services) -> Response:
    """``POST /_plugins/_ml/models/_undeploy`` with ``{"model_ids": [...]}``."""
    body = req.json_object() or {}
    ids = body.get("model_ids") or []
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        ids = []
    return json_response(await s.deployment.undeploy(req.principal, ids))


async def predict(req: Request, s: Services) -> Response:
    """``POST /_plugins/_ml/models/{id}/_predict`` (``?algorithm=`` selects the input shape)."""
    return await _predict(req, s, req.query.get("algorithm"), req.json_object())


async def predict_algorithm(req: Request, s: Services) -> Response:
    """``POST /_plugins/_ml/_predict/{algorithm}/{id}``."""
    return await _predict(req, s, req.path_params["algorithm"], req.json_object())


async def _predict(req: Request, s: Services, algorithm: str | None, body: dict[str, Any] | None) -> Response:
    if req.query and req.flag("trace"):
        s.security.authorize(req.principal, TRACE_ACTION)
        req.trace.capture = True
    if req.trace.traceparent is None:  # not tracing: the caller's trace context goes on as it came
        req.trace.traceparent = req.headers.get("traceparent")
    result = await s.predict.predict(
        req.principal,
        req.path_params["model_id"],
        algorithm,
        body,
        splice=True,
        lease=req.lease,
        trace=req.trace,
    )
    return predict_response(result)


def predict_response(result: dict[str, Any] | Forwarded) -> Response:
    """A local result, or the serving node's answer passed through byte for byte."""
    if isinstance(result, Forwarded):
        return Response(result.status, result.body)
    return json_response(result)


async def get_task(req: Request, s: Services) -> Response:
    """``GET /_plugins/_ml/tasks/{id}``."""
    return json_response(await s.tasks.get(req.principal, req.path_params["task_id"]))


async def search_tasks(req: Request, s: Services) -> Response:
    """``GET|POST /_plugins/_ml/tasks/_search``."""
    return json_response(await s.tasks.search(req.principal, req.json_object(), req.query))


async def delete_task(req: Request, s: Services) -> Response:
    """``DELETE /_plugins/_ml/tasks/{id}``."""
    return json_response(await s.tasks.delete(req.principal, req.path_params["task_id"]))
