"""``GET /_prometheus/metrics``: Prometheus text exposition (docs/observability.md)."""

from __future__ import annotations

from mlgate.api.http import Request, Response
from mlgate.services.container import Services


async def prometheus(req: Request, s: Services) -> Response:
    """Every metric of this node (all its workers), in Prometheus text format."""
    return Response(200, await s.metrics.exposition(), s.metrics.content_type)
