"""Node routes: ``_cat/nodes``, ``_nodes`` and the node-to-node predict."""

from __future__ import annotations

from mlgate import __version__
from mlgate.api.handlers.resources import predict_response
from mlgate.api.http import Request, Response, json_response
from mlgate.domain.errors import InvalidRequestError
from mlgate.services.container import Services

_ROLE_LETTERS = {"data": "d", "ml": "l"}


async def cat_nodes(req: Request, s: Services) -> Response:
    """``GET /_cat/nodes`` — text by default, JSON with ``?format=json``."""
    leader = s.nodes.live()[0].node_id if s.nodes.live() else ""
    rows = [
        {
            "ip": node.url.split("//")[-1].split(":")[0],
            "node.role": "".join(_ROLE_LETTERS[r] for r in node.roles if r in _ROLE_LETTERS),
            "cluster_manager": "*" if node.node_id == leader else "-",
            "name": node.name,
            "id": node.node_id,
        }
        for node in s.nodes.live()
    ]
    if req.query.get("format") == "json":
        return json_response(rows)
    columns = ["ip", "node.role", "cluster_manager", "name"]
    lines = []
    if req.flag("v"):
        lines.append(" ".join(columns))
    lines += [" ".join(str(row[c]) for c in columns) for row in rows]
    return Response(200, ("\n".join(lines) + "\n").encode(), b"text/plain; charset=UTF-8")


async def nodes_info(req: Request, s: Services) -> Response:
    """``GET /_nodes`` — a minimal nodes-info answer."""
    live = s.nodes.live()
    return json_response(
        {
            "_nodes": {"total": len(live), "successful": len(live), "failed": 0},
            "cluster_name": s.env.cluster_name,
            "nodes": {
                node.node_id: {
                    "name": node.name,
                    "host": node.url.split("//")[-1].split(":")[0],
                    "ip": node.url.split("//")[-1].split(":")[0],
                    "version": "3.9.0",
                    "mlgate_version": __version__,
                    "roles": list(node.roles),
                    "http": {"publish_address": node.url},
                    "attributes": {},
                }
                for node in live
            },
        }
    )


async def internal_predict(req: Request, s: Services) -> Response:
    """A predict forwarded by another node (authenticated by the node token in the app)."""
    body = req.json_object() or {}
    inner = body.get("body")
    if inner is not None and not isinstance(inner, dict):
        raise InvalidRequestError("forwarded body must be an object")
    algorithm, user = body.get("algorithm"), body.get("user")
    result = await s.predict.predict(
        None,
        req.path_params["model_id"],
        algorithm if isinstance(algorithm, str) else None,
        inner,
        forwarded=True,
        splice=True,
        user=user if isinstance(user, str) else None,
        lease=req.lease,
    )
    return predict_response(result)
