"""The ceiling: a minimal aiohttp forwarder doing only the essential work of a predict.

Look up the model in a dict, render the connector's ``request_body`` with ``str.replace``, POST it over
one pooled keep-alive ``aiohttp.ClientSession``, parse the reply with orjson and wrap it as ML Commons'
``inference_results``. No storage, no auth, no checks: what Python + aiohttp can do at best.

    python bench/forwarder.py --port 9400 --models models.json

``models.json``: ``{"<model id>": {"url": ..., "headers": {...}, "request_body": "...${parameters.x}...",
"parameters": {...}}}``.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web

SESSION = web.AppKey("session", aiohttp.ClientSession)
MODELS = web.AppKey("models", dict)


def render(template: str, parameters: dict[str, Any]) -> str:
    """``${parameters.name}`` → the value (strings as they are, anything else as JSON)."""
    for name, value in parameters.items():
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        template = template.replace("${parameters." + name + "}", text)
    return template


async def predict(request: web.Request) -> web.Response:
    """``POST /_plugins/_ml/models/{model_id}/_predict``."""
    model = request.app[MODELS].get(request.match_info["model_id"])
    if model is None:
        return web.json_response({"error": "Failed to find model", "status": 404}, status=404)
    body = orjson.loads(await request.read())
    parameters = {**model["parameters"], **body.get("parameters", {})}
    payload = render(model["request_body"], parameters).encode()
    session = request.app[SESSION]
    async with session.post(model["url"], data=payload, headers=model["headers"]) as reply:
        raw = await reply.read()
        status = reply.status
    data = orjson.loads(raw)
    result = {
        "inference_results": [{"output": [{"name": "response", "dataAsMap": data}], "status_code": status}]
    }
    return web.Response(body=orjson.dumps(result), content_type="application/json")


async def health(request: web.Request) -> web.Response:
    """``GET /``: readiness."""
    return web.Response(text="ok")


def create_app(models: dict[str, Any]) -> web.Application:
    """The forwarder application with one pooled keep-alive client session."""
    app = web.Application()
    app[MODELS] = models

    async def client_session(app: web.Application) -> Any:
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=300)
        async with aiohttp.ClientSession(connector=connector) as session:
            app[SESSION] = session
            yield

    app.cleanup_ctx.append(client_session)
    app.router.add_get("/", health)
    app.router.add_post("/_plugins/_ml/models/{model_id}/_predict", predict)
    return app


def main() -> None:
    """Serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(description="minimal predict forwarder (benchmark ceiling)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--models", required=True, help="JSON file: model id → url, headers, request_body")
    args = parser.parse_args()
    models = orjson.loads(Path(args.models).read_bytes())
    try:
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    web.run_app(create_app(models), host=args.host, port=args.port, access_log=None, print=None, loop=loop)


if __name__ == "__main__":
    main()
