"""The mock provider's aiohttp application: the route table and the per-request pipeline.

Every provider route runs the same pipeline: record → ``mock_delay_ms`` → SigV4 check → injected
failure → a canned answer, else the provider shape → ``mock_body`` damage → send (slowly for
``mock_slow_headers_ms``, ``mock_trickle_ms`` and ``mock_slow_body_ms``: mockprovider/slow.py).
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from mlgate.mockprovider import aleph_alpha, aws_json, batch, bedrock, cohere, google, openai, sagemaker
from mlgate.mockprovider.fake_model import MAX_DIM
from mlgate.mockprovider.faults import FailureCounters, Faults, FaultSpecError, parse_faults, transform_body
from mlgate.mockprovider.recording import RequestLog
from mlgate.mockprovider.reply import (
    JSON,
    Reply,
    error_reply,
    json_reply,
    status_message,
    throttling_reply,
)
from mlgate.mockprovider.shape import Family, InvalidInput, Shape, ShapeRequest
from mlgate.mockprovider.sigv4_verify import (
    SignatureRejected,
    WireRequest,
    is_signed,
    missing_signature,
    verify,
)
from mlgate.mockprovider.slow import send_slow_headers, send_spread, send_trickle

# Provider requests can be large (Textract documents, base64 images, big embedding batches).
CLIENT_MAX_SIZE = 256 * 1024 * 1024
DEFAULT_LIMIT = 100

_UNPARSABLE_JSON = {
    Family.OPENAI: "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
    "valid JSON.)",
    Family.COHERE: "invalid request: could not parse the request body as JSON",
    Family.GOOGLE: "Invalid JSON payload received.",
    Family.AWS: "Malformed input request, please reformat your input and try again.",
    Family.AWS_JSON: "Start of structure or map found where not expected.",
    Family.GENERIC: "The request body is not valid JSON.",
}


@dataclass
class MockState:
    """Everything one mock server remembers; built per app, never module-global."""

    default_dim: int
    aws_secrets: Mapping[str, str] | None
    log: RequestLog = field(default_factory=RequestLog)
    counters: FailureCounters = field(default_factory=FailureCounters)
    # JSON bodies queued by a test (the conformance runner answers with bodies derived from published
    # samples); each request takes the oldest one instead of its route's shape.
    canned: deque[Any] = field(default_factory=deque)


STATE_KEY = web.AppKey("mlgate_mock_state", MockState)


@dataclass(frozen=True, slots=True)
class Route:
    """One provider route: where it is, which shape answers and which provider it imitates."""

    method: str
    path: str
    shape: Shape
    family: Family
    content_type: str = JSON
    # Reads and stop calls carry no body; an empty one is not a JSON error there.
    bodyless: bool = False


# Offline batch jobs (ML Commons' batch_predict, batch_predict_status, cancel_batch_predict).
_OPENAI, _AWS = Family.OPENAI, Family.AWS
BATCH_ROUTES = tuple(
    (prefix, *route)
    for prefix in ("", "/openai", "/sagemaker", "/bedrock")
    for route in (
        ("POST", "/v1/batches", batch.openai_create, _OPENAI, False),
        ("GET", "/v1/batches/{batch_id}", batch.openai_get, _OPENAI, True),
        ("POST", "/v1/batches/{batch_id}/cancel", batch.openai_cancel, _OPENAI, True),
        ("POST", "/CreateTransformJob", batch.sagemaker_create, _AWS, False),
        ("POST", "/DescribeTransformJob", batch.sagemaker_describe, _AWS, False),
        ("POST", "/StopTransformJob", batch.sagemaker_stop, _AWS, False),
        ("POST", "/model-invocation-job", batch.bedrock_create, _AWS, False),
        ("POST", "/model-invocation-job/{job:.+}/stop", batch.bedrock_stop, _AWS, True),
        ("GET", "/model-invocation-job/{job:.+}", batch.bedrock_get, _AWS, True),
    )
)

ROUTES: tuple[Route, ...] = (
    # OpenAI and the OpenAI-compatible APIs (Azure OpenAI deployments, DeepSeek, Ollama).
    Route("POST", "/v1/chat/completions", openai.chat_completion, Family.OPENAI),
    Route("POST", "/chat/completions", openai.chat_completion, Family.OPENAI),
    Route("POST", "/v1/completions", openai.completion, Family.OPENAI),
    Route("POST", "/v1/embeddings", openai.embeddings, Family.OPENAI),
    Route("POST", "/embeddings", openai.embeddings, Family.OPENAI),
    Route("POST", "/openai/deployments/{deployment}/chat/completions", openai.chat_completion, Family.OPENAI),
    Route("POST", "/openai/deployments/{deployment}/completions", openai.completion, Family.OPENAI),
    Route("POST", "/openai/deployments/{deployment}/embeddings", openai.embeddings, Family.OPENAI),
    # Cohere.
    Route("POST", "/v1/embed", cohere.embed_v1, Family.COHERE),
    Route("POST", "/v2/embed", cohere.embed_v2, Family.COHERE),
    Route("POST", "/v1/rerank", cohere.rerank_v1, Family.COHERE),
    Route("POST", "/v2/rerank", cohere.rerank_v2, Family.COHERE),
    Route("POST", "/v1/chat", cohere.chat_v1, Family.COHERE),
    Route("POST", "/v2/chat", cohere.chat_v2, Family.COHERE),
    # Google: Gemini and Vertex AI; Aleph Alpha.
    Route("POST", "/v1beta/models/{model_method}", google.gemini, Family.GOOGLE),
    Route("POST", "/v1/models/{model_method}", google.gemini, Family.GOOGLE),
    Route(
        "POST",
        "/v1/projects/{project}/locations/{location}/publishers/google/models/{model_method}",
        google.vertex_predict,
        Family.GOOGLE,
    ),
    Route("POST", "/semantic_embed", aleph_alpha.semantic_embed, Family.GENERIC),
    # AWS: Bedrock runtime (and its OpenAI-compatible route), SageMaker runtime, AWS JSON 1.1 services.
    Route("POST", "/model/{model_id}/invoke", bedrock.invoke, Family.AWS),
    Route("POST", "/model/{model_id}/converse", bedrock.converse, Family.AWS),
    Route("POST", "/rerank", bedrock.rerank, Family.AWS),
    Route("POST", "/guardrail/{guardrail_id}/version/{version}/apply", bedrock.apply_guardrail, Family.AWS),
    Route("POST", "/openai/v1/chat/completions", openai.chat_completion, Family.AWS),
    Route("POST", "/endpoints/{endpoint}/invocations", sagemaker.invocations, Family.AWS),
    Route("POST", "/", aws_json.dispatch, Family.AWS_JSON, aws_json.CONTENT_TYPE),
    *(
        # Also under a prefix naming the provider: ML Commons derives the batch status and cancel
        # actions from a provider name in the URL, which a loopback URL otherwise lacks.
        Route(method, prefix + path, shape, family, bodyless=bodyless)
        for prefix, method, path, shape, family, bodyless in BATCH_ROUTES
    ),
)


def _no_route(request: ShapeRequest) -> object:
    raise InvalidInput(f"The mock provider has no route for /{request.path_params['tail']}.", status=404)


# Registered last so that every other request still gets recorded and can take faults.
CATCH_ALL = Route("*", "/{tail:.*}", _no_route, Family.GENERIC)


class Endpoint:
    """The aiohttp handler of one :class:`Route`."""

    def __init__(self, route: Route, state: MockState) -> None:
        self._route = route
        self._state = state

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Run the pipeline for one request."""
        body = await request.read()
        self._state.log.add(
            request.method, request.path, request.query.items(), request.headers.items(), body
        )
        try:
            faults = parse_faults(request.query)
        except FaultSpecError as exc:
            return _send(error_reply(Family.GENERIC, 400, str(exc)))
        if faults is not None and faults.delay_ms:
            await asyncio.sleep(faults.delay_ms / 1000)
        reply = self._check_signature(request, body)
        if reply is None and faults is not None and self._should_fail(request, faults):
            if faults.reset:
                return _abort(request)
            reply = self._failure(faults)
        if reply is None:
            reply = self._answer(request, body)
        if faults is None:
            return _send(reply)
        if faults.body is not None:
            reply = transform_body(reply, faults.body, faults.huge_bytes)
        if faults.slow_headers_ms:
            return await send_slow_headers(request, reply, faults.slow_headers_ms)
        if faults.trickle_ms:
            return await send_trickle(request, reply, faults.trickle_ms, chunked=faults.chunked)
        if faults.slow_body_ms:
            return await send_spread(request, reply, faults.slow_body_ms)
        return _send(reply)

    def _check_signature(self, request: web.Request, body: bytes) -> Reply | None:
        secrets = self._state.aws_secrets
        if secrets is None:
            return None
        try:
            if is_signed(request.headers):
                wire = WireRequest(
                    request.method,
                    request.headers.get("Host", request.host),
                    request.raw_path,
                    request.headers.items(),
                    body,
                )
                verify(wire, secrets)
            elif self._route.family.is_aws:
                raise missing_signature()
        except SignatureRejected as exc:
            family = self._route.family if self._route.family.is_aws else Family.AWS
            return error_reply(family, exc.status, exc.message, error_type=exc.error_type)
        return None

    def _should_fail(self, request: web.Request, faults: Faults) -> bool:
        if not faults.has_failure:
            return False
        if faults.fail_times is None:
            return True
        return self._state.counters.should_fail(faults.key or request.path, faults.fail_times)

    def _failure(self, faults: Faults) -> Reply:
        if faults.throttle:
            return throttling_reply(faults.status or 400)
        status = faults.status or 503
        return error_reply(self._route.family, status, status_message(status))

    def _answer(self, request: web.Request, body: bytes) -> Reply:
        family = self._route.family
        canned = self._state.canned
        try:
            dim_override = _dim_override(request.query.get("dim"))
            if (self._route is CATCH_ALL and not (canned and body)) or (self._route.bodyless and not body):
                decoded = None
            else:
                try:
                    decoded = orjson.loads(body)
                except orjson.JSONDecodeError:
                    return error_reply(family, 400, _UNPARSABLE_JSON[family])
            shape_request = ShapeRequest(
                body=decoded,
                path_params=request.match_info,
                headers=request.headers,
                dim_override=dim_override,
                default_dim=self._state.default_dim,
            )
            if canned and self._route is CATCH_ALL:
                return json_reply(canned.popleft(), content_type=self._route.content_type)
            # On a known route the shape still runs: a canned answer never hides a request the
            # provider would refuse.
            payload = self._route.shape(shape_request)
            if canned:
                payload = canned.popleft()
        except InvalidInput as exc:
            return error_reply(family, exc.status, exc.message, error_type=exc.error_type)
        return json_reply(payload, content_type=self._route.content_type)


def _dim_override(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DIM:
        raise InvalidInput(f"dim must be an integer between 1 and {MAX_DIM}, got {raw!r}")
    return int(raw)


def _send(reply: Reply) -> web.Response:
    return web.Response(
        body=reply.body, status=reply.status, content_type=reply.content_type, headers=reply.headers
    )


def _abort(request: web.Request) -> web.Response:
    """Drop the connection with a TCP reset, so the client sees no response at all."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0 turns close() into an RST instead of an orderly FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    # aiohttp has nowhere to write this; returning it just ends the handler.
    return web.Response(status=499)


async def _list_requests(request: web.Request) -> web.Response:
    """``GET /_mock/requests?limit=N&path=P``: recorded requests, newest first."""
    raw_limit = request.query.get("limit", str(DEFAULT_LIMIT))
    if not raw_limit.isdigit():
        return _send(
            error_reply(Family.GENERIC, 400, f"limit must be a non-negative integer, got {raw_limit!r}")
        )
    entries = request.app[STATE_KEY].log.newest(int(raw_limit), request.query.get("path"))
    return _send(json_reply({"requests": [e.as_json() for e in entries]}))


async def _clear_requests(request: web.Request) -> web.Response:
    """``DELETE /_mock/requests``: forget every recorded request."""
    request.app[STATE_KEY].log.clear()
    return _send(json_reply({"acknowledged": True}))


async def _clear_counters(request: web.Request) -> web.Response:
    """``DELETE /_mock/counters``: forget how many requests each ``mock_key`` has seen."""
    request.app[STATE_KEY].counters.clear()
    return _send(json_reply({"acknowledged": True}))


def create_app(*, aws_credentials: Mapping[str, str] | None = None, default_dim: int = 8) -> web.Application:
    """Build the mock provider application.

    ``aws_credentials`` (access key id → secret key) turns SigV4 verification on; ``default_dim`` is the
    embedding size when neither ``?dim=`` nor the request body asks for one.
    """
    if not 1 <= default_dim <= MAX_DIM:
        raise ValueError(f"default_dim must be between 1 and {MAX_DIM}, got {default_dim}")
    state = MockState(
        default_dim=default_dim, aws_secrets=None if aws_credentials is None else dict(aws_credentials)
    )
    app = web.Application(client_max_size=CLIENT_MAX_SIZE)
    app[STATE_KEY] = state
    app.router.add_get("/_mock/requests", _list_requests)
    app.router.add_delete("/_mock/requests", _clear_requests)
    app.router.add_delete("/_mock/counters", _clear_counters)
    for route in (*ROUTES, CATCH_ALL):
        app.router.add_route(route.method, route.path, Endpoint(route, state).handle)
    return app
