"""The ASGI application: decode the request, route, authenticate, call the handler, render errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson

from mlgate.api.auth import authenticate
from mlgate.api.conventions import (
    allow_header,
    check_content_type_syntax,
    check_id_lengths,
    is_json_content_type,
)
from mlgate.api.errors import error_headers, internal_error, render_error
from mlgate.api.http import JSON_TYPE, TEXT_TYPE, RawHeaders, Request, Response
from mlgate.api.routes import INTERNAL, ROUTES, Router
from mlgate.domain.client_address import Network, client_address
from mlgate.domain.errors import ForbiddenError, MlgateError, PayloadTooLargeError
from mlgate.domain.memory_budget import DEFAULT_MAX_IN_FLIGHT_BYTES, InFlightBudget, Lease
from mlgate.domain.node import NODE_TOKEN_HEADER
from mlgate.services.container import Services

log = logging.getLogger("mlgate.api")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class MlgateApp:
    """ASGI 3 application serving the ML Commons REST API."""

    def __init__(
        self,
        services: Services,
        *,
        max_body_bytes: int = 100 * 1024 * 1024,
        trusted_proxies: tuple[Network, ...] = (),
        budget: InFlightBudget | None = None,
    ) -> None:
        self.services = services
        self._router = Router(ROUTES)
        self._max_body = max_body_bytes
        self._trusted_proxies = trusted_proxies
        self._budget = budget if budget is not None else InFlightBudget(DEFAULT_MAX_IN_FLIGHT_BYTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        # Other scopes (lifespan) are ignored: bootstrap's Node starts and stops the node, and the CLI
        # runs uvicorn with lifespan off.

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        raw_path = scope["path"]
        # The bytes this request reads (its body, provider replies) count until its answer is sent.
        lease = self._budget.lease()
        try:
            try:
                response = await self._handle(scope, receive, method, raw_path, lease)
            except MlgateError as exc:
                status, body = render_error(exc)
                response = Response(status, orjson.dumps(body), headers=error_headers(exc))
            except Exception:
                log.exception("unhandled error on %s %s", method, raw_path)
                status, body = internal_error()
                response = Response(status, orjson.dumps(body))
            headers = [(b"content-type", response.content_type), *response.headers]
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            await send({"type": "http.response.body", "body": b"" if method == "HEAD" else response.body})
        finally:
            lease.release()

    async def _handle(self, scope: Scope, receive: Receive, method: str, path: str, lease: Lease) -> Response:
        headers = RawHeaders(scope["headers"])
        content_type = headers.get("content-type")
        if content_type is not None:
            check_content_type_syntax(content_type)
        route, params, allowed = self._router.match(method, path)
        if route is None:
            if method == "OPTIONS":  # answered before authentication, as OpenSearch's Security plugin does
                return Response(200, b"", TEXT_TYPE, allow_header(allowed))
            if allowed:
                return _plain_error(
                    405,
                    f"Incorrect HTTP method for uri [{path}] and method [{method}], allowed: [{', '.join(allowed)}]",
                    allow_header(allowed),
                )
            return _plain_error(400, f"no handler found for uri [{path}] and method [{method}]")
        declared = self._declared_length(headers)
        raw_query = scope.get("query_string")
        query = dict(parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True)) if raw_query else {}
        request = Request(
            method=method,
            path=path,
            query=query,
            headers=headers,
            body=b"",
            client=self._client(scope),
            path_params={k: unquote(v) for k, v in params.items()} if params else {},
            lease=lease,
        )
        if route.action == INTERNAL:
            # Node-to-node: the caller proves it holds the cluster's master key; users never do.
            if not self.services.node_auth.verify(headers.get(NODE_TOKEN_HEADER)):
                raise ForbiddenError("this route is for mlgate nodes only", error_type="security_exception")
        else:
            request.principal = await authenticate(headers, request.client, self.services.security)
            self.services.security.authorize(request.principal, route.action)
        if params:
            check_id_lengths(request.path_params)
        # Read only for a caller who may make the request: others cannot take the in-flight budget.
        request.body = await self._read_body(receive, declared, lease)
        if request.body and not is_json_content_type(content_type):
            return _plain_error(406, f"Content-Type header [{content_type or ''}] is not supported")
        return await route.handler(request, self.services)

    def _client(self, scope: Scope) -> str:
        peer = scope.get("client")
        address = str(peer[0]) if peer else ""
        if not self._trusted_proxies:
            return address
        forwarded = [v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"x-forwarded-for"]
        return client_address(address, forwarded, self._trusted_proxies)

    def _declared_length(self, headers: RawHeaders) -> int | None:
        """The body's ``Content-Length``; PayloadTooLargeError (413) over the limit, before any read."""
        declared = headers.get("content-length")
        if declared is None or not declared.isdigit():
            return None
        length = int(declared)
        if length > self._max_body:
            raise self._too_large()
        return length

    async def _read_body(self, receive: Receive, declared: int | None, lease: Lease) -> bytes:
        """The whole body, charged to ``lease``: at once before reading when its length is declared (a
        request the budget cannot take is refused before its bytes arrive, and of several large ones
        some complete rather than all failing halfway), else as it arrives."""
        charged = declared or 0
        if charged:
            lease.charge(charged)
        message = await receive()
        if not message.get("more_body"):  # the whole body in one message: the usual case
            first: bytes = message.get("body", b"")
            if len(first) > charged:
                if len(first) > self._max_body:
                    raise self._too_large()
                lease.charge(len(first) - charged)
            return first
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > charged:
                if size > self._max_body:
                    raise self._too_large()
                lease.charge(size - charged)
                charged = size
            chunks.append(chunk)
            if not message.get("more_body"):
                break
            message = await receive()
        return b"".join(chunks)

    def _too_large(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(f"Request body is larger than the limit of [{self._max_body}] bytes")


def _plain_error(status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None) -> Response:
    # OpenSearch's REST layer answers routing errors with a bare string `error`.
    return Response(status, orjson.dumps({"error": message, "status": status}), JSON_TYPE, headers or [])
