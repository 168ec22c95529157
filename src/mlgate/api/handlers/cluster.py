"""Cluster-level routes: info, health, settings."""

from __future__ import annotations

from mlgate import __version__
from mlgate.api.http import Request, Response, json_response
from mlgate.services.container import Services


async def root(req: Request, s: Services) -> Response:
    """``GET /`` — OpenSearch-style cluster info."""
    return json_response(
        {
            "name": s.env.node_name,
            "cluster_name": s.env.cluster_name,
            "cluster_uuid": s.env.node_id,
            "version": {
                "distribution": "mlgate",
                "number": "3.9.0",
                "mlgate_version": __version__,
                "minimum_wire_compatibility_version": "2.19.0",
                "minimum_index_compatibility_version": "2.0.0",
            },
            "tagline": "The OpenSearch Project: https://opensearch.org/",
        }
    )


async def health(req: Request, s: Services) -> Response:
    """``GET /_cluster/health``."""
    return json_response(
        {
            "cluster_name": s.env.cluster_name,
            "status": "green",
            "timed_out": False,
            "number_of_nodes": 1,
            "number_of_data_nodes": 1,
            "discovered_master": True,
            "discovered_cluster_manager": True,
            "active_primary_shards": 0,
            "active_shards": 0,
            "relocating_shards": 0,
            "initializing_shards": 0,
            "unassigned_shards": 0,
            "delayed_unassigned_shards": 0,
            "number_of_pending_tasks": 0,
            "number_of_in_flight_fetch": 0,
            "task_max_waiting_in_queue_millis": 0,
            "active_shards_percent_as_number": 100.0,
        }
    )


async def get_settings(req: Request, s: Services) -> Response:
    """``GET /_cluster/settings``."""
    return json_response(
        s.settings.render(flat=req.flag("flat_settings"), include_defaults=req.flag("include_defaults"))
    )


async def put_settings(req: Request, s: Services) -> Response:
    """``PUT /_cluster/settings``."""
    return json_response(await s.settings.update(req.json_object()))
