"""The OpenAPI 3.1 document of every route, generated from the route table so it cannot drift.

Served at ``GET /_plugins/_mlgate/openapi.json`` (docs/api.md); the fuzz layer (tests/fuzz/) drives the
server from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mlgate.api.request_schemas import STRING, Schema, body_schema

# OpenSearch's error envelope; routing errors (400 no handler, 405, 406) carry a bare string `error`,
# as OpenSearch's RestController answers them.
ERROR: Schema = {
    "type": "object",
    "required": ["error", "status"],
    "properties": {
        "status": {"type": "integer"},
        "error": {
            "oneOf": [
                STRING,
                {
                    "type": "object",
                    "required": ["type", "reason"],
                    "properties": {
                        "root_cause": {"type": "array", "items": {"type": "object"}},
                        "type": STRING,
                        "reason": STRING,
                    },
                },
            ]
        },
    },
}


def operation_id(method: str, path: str) -> str:
    """A stable, unique name: the method and the path's segments, e.g. ``get__plugins__ml_models_model_id``."""
    segments = [s.strip("{}") for s in path.strip("/").split("/") if s]
    return "_".join([method.lower(), *segments]) if segments else f"{method.lower()}_root"


def openapi_document(routes: Iterable[Any], version: str) -> dict[str, Any]:
    """One path item per route path, one operation per method; ``routes`` are api.routes.Route."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        parameters = [
            {"name": seg[1:-1], "in": "path", "required": True, "schema": STRING}
            for seg in route.path.split("/")
            if seg.startswith("{")
        ]
        operation: dict[str, Any] = {
            "operationId": operation_id(route.method, route.path),
            "x-opensearch-action": route.action,
            "responses": {
                "200": {"description": "OpenSearch's JSON answer", "content": _json({"type": "object"})},
                "default": {
                    "description": "an OpenSearch error",
                    "content": _json({"$ref": "#/components/schemas/Error"}),
                },
            },
        }
        if parameters:
            operation["parameters"] = parameters
        body = body_schema(route.handler)
        if body is not None:
            operation["requestBody"] = {"required": False, "content": _json(body)}
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mlgate: the OpenSearch ML Commons remote-model REST API",
            "version": version,
            "description": "Generated from mlgate's route table. Every error is OpenSearch's error envelope.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {"basic": {"type": "http", "scheme": "basic"}},
        },
        "security": [{"basic": []}],
    }


def _json(schema: Schema) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}
