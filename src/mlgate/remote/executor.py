"""Executing a connector action: plan → render → sign → (rate limit → send) → post-process.

One executor serves both protocols; ``aws_sigv4`` only adds signing. Everything per-connector that
can be prepared once (decrypted credential, SigV4 keys, client config, compiled scripts) lives in a
:class:`RuntimeConnector` built at deploy time (remote/runtime_connector.py), so a predict does no
storage read and no decryption.

A dry run (``/_plugins/_mlgate/.../_render``) walks the very same path and stops before the send:
:meth:`ConnectorExecutor.plan` gives the parameter map of every remote call, :meth:`~ConnectorExecutor.
render` the request each would send (or the error predict would raise instead), and
:meth:`~ConnectorExecutor.post_process` turns a body into tensors — whether the body came from the
provider or from the user.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from time import perf_counter_ns
from typing import Any

import orjson

from mlgate.domain.batch import BATCH_PREDICT, BATCH_PREDICT_STATUS, CANCEL_BATCH_PREDICT
from mlgate.domain.charset import encode_payload
from mlgate.domain.connector import ConnectorAction
from mlgate.domain.egress import EgressVerdict, explain, preflight
from mlgate.domain.errors import ExecutionError, InvalidRequestError, MlgateError, RemoteError
from mlgate.domain.guardrails import ActiveGuardrails
from mlgate.domain.memory_budget import (
    DEFAULT_MAX_IN_FLIGHT_BYTES,
    DEFAULT_MAX_REPLY_BYTES,
    InFlightBudget,
    Lease,
)
from mlgate.domain.predict_input import PredictInput
from mlgate.domain.processing import (
    apply_response_filter,
    build_response_tensors,
    chunk_text_docs,
    is_builtin_post_process,
    is_builtin_pre_process,
    run_builtin_post_process,
    run_builtin_pre_process,
)
from mlgate.domain.rate_limit import THROTTLED_AT_USER_LEVEL, TokenBucket
from mlgate.domain.request_trace import RequestTrace
from mlgate.domain.secret_mask import SecretMask
from mlgate.domain.telemetry import Span, error_type
from mlgate.domain.template import (
    check_payload,
    escape_parameters,
    gson_escape,
    prepare_request_parameters,
    render_headers,
    render_payload,
    stringify_parameter,
    substitute,
    substitute_json_encoded,
)
from mlgate.domain.token_usage import token_usage
from mlgate.remote.client import COMMUNICATION_ERROR, ClientPool, RemoteResponse, raise_for_remote_status
from mlgate.remote.resolver import GuardedResolver
from mlgate.remote.retry import send_with_retry
from mlgate.remote.runtime_connector import RuntimeConnector, mask_error, masked, with_content_type
from mlgate.remote.scripting import ScriptFailedError, ScriptRunner
from mlgate.remote.sigv4 import sign_request

_METHODS = ("POST", "GET", "PUT", "DELETE")
_RESPONSE = "response"
_BATCH_ACTIONS = frozenset({BATCH_PREDICT, BATCH_PREDICT_STATUS, CANCEL_BATCH_PREDICT})
# Message content on a span (opt-in) is cut here: spans are not a place for whole documents.
_MAX_CONTENT = 65536


@dataclass(frozen=True)
class RenderedRequest:
    """One remote call exactly as it would go on the wire (signed), before any send.

    ``error`` is what predict raises instead of sending (unfilled placeholder, invalid payload, bad
    method, empty POST, bad header); the other fields then hold as much as could be rendered.
    """

    action: ConnectorAction
    parameters: Mapping[str, str | None]
    method: str
    url: str
    headers: Mapping[str, str]
    payload: str | None
    body: bytes | None
    error: InvalidRequestError | None = None


class ConnectorExecutor:
    """Runs predict calls for deployed models, and renders them without sending for a dry run."""

    def __init__(
        self,
        pool: ClientPool,
        scripts: ScriptRunner,
        max_json_size: Callable[[], int],
        resolver: GuardedResolver,
        *,
        budget: InFlightBudget | None = None,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
    ) -> None:
        """``budget``: the process's in-flight bytes, charged for provider replies of callers that pass
        no lease of their own; ``max_reply_bytes``: this node's cap on one provider reply, whatever the
        ``max_json_size`` cluster setting allows."""
        self._pool = pool
        self._budget = budget if budget is not None else InFlightBudget(DEFAULT_MAX_IN_FLIGHT_BYTES)
        self._max_reply_bytes = max_reply_bytes
        self._scripts = scripts
        self._max_json_size = max_json_size
        self._resolver = resolver

    async def predict(
        self,
        rc: RuntimeConnector,
        inp: PredictInput,
        limiter: TokenBucket | None = None,
        guardrails: ActiveGuardrails | None = None,
        *,
        splice: bool = False,
        user_limiter: TokenBucket | None = None,
        lease: Lease | None = None,
        trace: RequestTrace | None = None,
    ) -> list[dict[str, Any]]:
        """All ``inference_results`` elements for one predict input; one token of ``limiter`` (the model's)
        and then of ``user_limiter`` (the caller's, from the model controller) per call, ``guardrails``
        checked around every call. Provider replies are charged to ``lease`` (the HTTP request's, held
        until its answer is sent) or, without one, to a lease of this call's own.

        ``splice``: the caller only serialises the result with orjson, so a reply that needs no
        post-processing may be carried as an ``orjson.Fragment`` of the provider's bytes (see
        :meth:`splice_output`) instead of being parsed into dicts. ``trace`` collects the stage timings,
        retries and token usage.
        """
        own_lease = lease is None
        held = self._budget.lease() if lease is None else lease
        if trace is None:
            trace = RequestTrace()
        try:
            started = perf_counter_ns()
            action, calls = await self.plan(rc, inp)
            trace.pre += perf_counter_ns() - started
            limiters = (limiter, user_limiter)
            if len(calls) == 1:
                results = [await self._call(rc, action, calls[0], limiters, guardrails, splice, held, trace)]
            else:
                results = list(
                    await asyncio.gather(
                        *(self._call(rc, action, p, limiters, guardrails, splice, held, trace) for p in calls)
                    )
                )
            if action.action_type in _BATCH_ACTIONS:
                # A batch job's description is kept in its task for anyone who may read tasks.
                return [masked(result, rc.mask) for result in results]
            return results
        except MlgateError as exc:
            if isinstance(exc, RemoteError) and exc.status < 400:
                # A transport failure after a success status (a body that stalls past read_timeout):
                # ML Commons answers with that 2xx status; an error is never answered as a success here.
                exc.status = 500
            # Provider bodies and transport errors may echo a key; no reason leaves with a secret in it.
            mask_error(exc, rc.mask)
            raise
        finally:
            if own_lease:
                held.release()

    async def plan(
        self, rc: RuntimeConnector, inp: PredictInput
    ) -> tuple[ConnectorAction, list[dict[str, str | None]]]:
        """The action and the parameter map of every remote call ``inp`` makes (pre-processing done).

        One map for the remote shape; one per chunk of ``text_docs`` otherwise, in document order.
        """
        action = rc.actions.get(inp.action_type)
        if action is None:
            raise InvalidRequestError(f"no {inp.action_type} action found")
        if inp.kind == "remote":
            return action, [await self._remote_parameters(rc, action, inp)]
        return action, await self._documents_parameters(rc, action, inp)

    def render(
        self,
        rc: RuntimeConnector,
        action: ConnectorAction,
        params: Mapping[str, str | None],
        trace: RequestTrace | None = None,
    ) -> RenderedRequest:
        """The signed request for one call, or the first reason it cannot be sent (see RenderedRequest);
        ``trace`` gets the signing time."""
        problems: list[InvalidRequestError] = []
        prepared = rc.prepared_for(action)
        template = prepared.template if prepared is not None else action.request_body
        payload = render_payload(template, params)
        try:
            check_payload(payload, params, from_template=action.request_body is not None)
        except InvalidRequestError as exc:
            problems.append(exc)
        url = substitute(action.url, params)
        method = action.method.upper()
        if method not in _METHODS:
            problems.append(InvalidRequestError("unsupported http method"))
        body: bytes | None = None
        try:
            body = encode_payload(payload, params.get("charset")) if payload is not None else None
        except InvalidRequestError as exc:
            problems.append(exc)
        else:
            if method == "POST" and not body and action.action_type != CANCEL_BATCH_PREDICT:
                problems.append(InvalidRequestError("Content length is 0. Aborting request to remote model"))
        headers: Mapping[str, str]
        if prepared is not None and prepared.headers is not None:
            headers = prepared.headers  # shared and read-only: signing makes a new mapping
        else:
            rendered: dict[str, str] = {}
            try:
                rendered = render_headers(action.headers or {}, params, rc.credential)
            except InvalidRequestError as exc:
                problems.append(exc)
            headers = with_content_type(rendered)
        if rc.sigv4 is not None and not problems:
            signing = perf_counter_ns()
            headers = sign_request(method, url, headers, body, rc.sigv4)
            if trace is not None:
                trace.sign += perf_counter_ns() - signing
        return RenderedRequest(
            action, params, method, url, headers, payload, body, problems[0] if problems else None
        )

    async def explain_egress(self, url: str) -> EgressVerdict:
        """Every egress check for ``url`` with the policy in force, as a verdict; never raises for a "no".

        Uses the same resolver (and cache) as the sends, so it reports the addresses a call would dial.
        """
        policy = self._resolver.policy()
        first = preflight(url, policy)
        if first.destination is None:
            return first
        try:
            addresses = await self._resolver.addresses(first.destination.host)
        except OSError as error:
            reason = f"{COMMUNICATION_ERROR}{first.destination.host}: {error.strerror or error}"
            return replace(first, allowed=False, reason=reason)
        return explain(url, addresses, policy)

    async def _remote_parameters(
        self, rc: RuntimeConnector, action: ConnectorAction, inp: PredictInput
    ) -> dict[str, str | None]:
        request = prepare_request_parameters(inp.parameters)
        params: dict[str, str | None] = dict(rc.parameters)
        params.update(request)
        script = action.pre_process_function
        if (
            script
            and not is_builtin_pre_process(script)
            and params.get("pre_process_function.process_remote_inference_input") == "true"
        ):
            as_objects = params.get("pre_process_function.convert_remote_inference_param_to_object") == "true"

            def script_input() -> dict[str, Any]:
                raw = {k: stringify_parameter(v) for k, v in inp.parameters.items()}
                return {k: _maybe_json(v) for k, v in raw.items()} if as_objects else raw

            script = substitute_json_encoded(script, params)
            params.update(await self._script_parameters(script, script_input))
            params.update(request)
        return params

    async def _documents_parameters(
        self, rc: RuntimeConnector, action: ConnectorAction, inp: PredictInput
    ) -> list[dict[str, str | None]]:
        pre = action.pre_process_function
        base: dict[str, str | None] = dict(rc.parameters)
        if inp.parameters:
            base.update(prepare_request_parameters(inp.parameters))
        docs = list(inp.text_docs or ())
        chunks = chunk_text_docs(docs, rc.parameters, pre) if inp.kind == "text_docs" else [docs]
        calls = []
        for chunk in chunks:
            part = PredictInput(
                algorithm=inp.algorithm,
                parameters=inp.parameters,
                text_docs=chunk,
                query_text=inp.query_text,
                question=inp.question,
                context=inp.context,
                action_type=inp.action_type,
            )
            params = dict(base)
            params.update(await self._pre_process(pre, part, params))
            calls.append(params)
        return calls

    async def _pre_process(
        self, pre: str | None, inp: PredictInput, params: Mapping[str, str | None]
    ) -> dict[str, str | None]:
        if pre is None:
            if inp.kind != "text_docs":
                raise InvalidRequestError("pre_process_function not defined in connector")
            pre = "connector.pre_process.default.embedding"
        if is_builtin_pre_process(pre):
            produced = run_builtin_pre_process(pre, inp)
            return escape_parameters({k: stringify_parameter(v) for k, v in produced.items()})
        return await self._script_parameters(
            substitute_json_encoded(pre, params), lambda: _pre_process_input(inp)
        )

    async def _script_parameters(
        self, script: str, script_input: Callable[[], dict[str, Any]]
    ) -> dict[str, str | None]:
        out = await self._scripts.run(script, script_input(), script_input)
        if out is None:
            raise InvalidRequestError("Preprocess function output is null")
        parsed = orjson.loads(out) if isinstance(out, str) else out
        if not isinstance(parsed, dict) or not isinstance(parsed.get("parameters"), dict):
            raise InvalidRequestError("Preprocess function output must contain a parameters object")
        return escape_parameters({k: stringify_parameter(v) for k, v in parsed["parameters"].items()})

    async def _call(
        self,
        rc: RuntimeConnector,
        action: ConnectorAction,
        params: Mapping[str, str | None],
        limiters: tuple[TokenBucket | None, TokenBucket | None],
        guardrails: ActiveGuardrails | None,
        splice: bool,
        lease: Lease,
        trace: RequestTrace,
    ) -> dict[str, Any]:
        started, signed = perf_counter_ns(), trace.sign
        request = self.render(rc, action, params, trace)
        trace.render += perf_counter_ns() - started - (trace.sign - signed)
        if trace.capture:
            if trace.requests is None:
                trace.requests = []
            trace.requests.append(request)
        if request.error is not None:
            raise request.error
        # ML Commons takes the tokens after the payload is validated, once per remote call: the model's
        # first (spent even when the user's then refuses), then the user's.
        model_limiter, user_limiter = limiters
        if model_limiter is not None:
            model_limiter.acquire()
        if user_limiter is not None:
            user_limiter.acquire(THROTTLED_AT_USER_LEVEL)
        if guardrails is not None:
            checking = perf_counter_ns()
            await guardrails.check_input(request.payload, params)
            trace.guard += perf_counter_ns() - checking
        if trace.tracer is None or trace.genai is None:
            return await self._exchange(rc, action, params, request, guardrails, splice, lease, trace, None)
        # One GenAI CLIENT span per provider call, its traceparent sent to the provider.
        name, attributes = trace.genai
        span = trace.tracer.span(name, kind="client", attributes=attributes, parent=trace.traceparent)
        if trace.content and request.payload is not None:
            span.set_attribute("gen_ai.input.messages", rc.mask.mask(request.payload))
        try:
            result = await self._exchange(rc, action, params, request, guardrails, splice, lease, trace, span)
        except Exception as exc:
            span.end(error_type(exc))
            raise
        span.end()
        return result

    async def _exchange(
        self,
        rc: RuntimeConnector,
        action: ConnectorAction,
        params: Mapping[str, str | None],
        request: RenderedRequest,
        guardrails: ActiveGuardrails | None,
        splice: bool,
        lease: Lease,
        trace: RequestTrace,
        span: Span | None,
    ) -> dict[str, Any]:
        """Send ``request`` and turn the reply into one ``inference_results`` element."""
        traceparent = span.traceparent() if span is not None else trace.traceparent
        response = await self._send(rc, request, lease, trace, traceparent)
        if action.action_type == CANCEL_BATCH_PREDICT and not response.body.strip():
            # Stopping a job often answers with no body; only the status matters (ML Commons).
            return {"output": [], "status_code": response.status}
        if guardrails is not None:
            checking = perf_counter_ns()
            await guardrails.check_output(response.body)
            trace.guard += perf_counter_ns() - checking
        processing = perf_counter_ns()
        body = self._decode(response.body)
        usage = token_usage(body, response.headers)
        if usage is not None:
            trace.usage(*usage)
        if span is not None:
            _describe(span, response, usage, rc.mask if trace.content else None)
        if splice and action.post_process_function is None and not params.get("response_filter"):
            output = self._splice(response.body, body)
        else:
            output = await self._post_process(action, params, response.body, body)
        trace.post += perf_counter_ns() - processing
        return {"output": output, "status_code": response.status}

    async def _send(
        self,
        rc: RuntimeConnector,
        request: RenderedRequest,
        lease: Lease,
        trace: RequestTrace,
        traceparent: str | None,
    ) -> RemoteResponse:
        client = self._pool.get(rc.key, rc.client_config, rc.credential, rc.tls_identity)
        headers = request.headers
        if traceparent is not None:  # after signing: SigV4 does not sign it, the provider may read it
            headers = {**headers, "traceparent": traceparent}
        limit = self._max_json_size()
        max_bytes = self._max_reply_bytes if limit < 0 else min(limit, self._max_reply_bytes)

        async def send_once() -> RemoteResponse:
            # The client checks egress (trusted regex, addresses) on every send, pinned to what it checked.
            trace.attempts += 1
            response = await client.send(
                request.method,
                request.url,
                headers,
                request.body,
                max_response_bytes=max_bytes,
                lease=lease,
                timing=trace,
            )
            trace.provider_status = response.status
            if not (
                request.action.action_type == CANCEL_BATCH_PREDICT
                and 200 <= response.status <= 300
                and not response.body.strip()
            ):
                raise_for_remote_status(response)
            return response

        if rc.client_config.max_retry_times != 0:
            return await send_with_retry(send_once, rc.client_config, on_retry=trace.retried)
        return await send_once()

    def splice_output(self, raw: bytes) -> list[dict[str, Any]]:
        """:meth:`post_process` for a reply with no post-process function and no response filter, without
        re-encoding it: a JSON object becomes ``dataAsMap`` as an ``orjson.Fragment`` of the provider's
        bytes (validated by parsing; the same JSON value as the parsed-and-dumped form, numbers kept as
        the provider wrote them). Anything else takes the ordinary path."""
        return self._splice(raw, self._decode(raw))

    def _decode(self, raw: bytes) -> Any:
        """A provider body parsed, within ``max_json_size`` (ML Commons' messages otherwise)."""
        limit = self._max_json_size()
        if 0 <= limit < len(raw):
            raise InvalidRequestError(f"JSON string size exceeds maximum allowed size ({limit} bytes)")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidRequestError(f"Invalid JSON format: {exc}") from exc

    def _splice(self, raw: bytes, body: Any) -> list[dict[str, Any]]:
        if isinstance(body, dict):
            return [{"name": _RESPONSE, "dataAsMap": orjson.Fragment(raw)}]
        if not isinstance(body, list):
            raise InvalidRequestError("Unsupported response type")
        return build_response_tensors(body, from_script=False)

    async def post_process(
        self, action: ConnectorAction, params: Mapping[str, str | None], raw: bytes
    ) -> list[dict[str, Any]]:
        """ML Commons' ``processOutput``: built-in function, or script → filter → tensors."""
        return await self._post_process(action, params, raw, self._decode(raw))

    async def _post_process(
        self, action: ConnectorAction, params: Mapping[str, str | None], raw: bytes, body: Any
    ) -> list[dict[str, Any]]:
        response_filter = params.get("response_filter") or None
        post = action.post_process_function
        if post is not None:
            post = substitute_json_encoded(post, params)
        if post is not None and is_builtin_post_process(post):
            return run_builtin_post_process(post, body, response_filter, action=action.action_type)
        if not isinstance(body, dict | list):
            raise InvalidRequestError("Unsupported response type")
        value: Any = body
        from_script = False
        if post is not None:
            try:
                out = await self._scripts.run(
                    post, _post_process_input(body), lambda: _post_process_input(orjson.loads(raw))
                )
            except ScriptFailedError as exc:
                # As ML Commons' response handler: any non-argument failure becomes this MLException.
                raise ExecutionError(
                    f"Fail to execute {action.action_type} in aws connector",
                    caused_by=("script_exception", exc.message),
                ) from exc
            if out is not None:
                value, from_script = out, True
        if response_filter:
            target = _maybe_json(value) if isinstance(value, str) else value
            filtered = apply_response_filter(target, response_filter)
            if filtered is not target:
                value = filtered
        return build_response_tensors(value, from_script=from_script)


def _pre_process_input(inp: PredictInput) -> dict[str, Any]:
    """The ``params`` of a pre-process script, as ML Commons builds them from the ML input."""
    script_params: dict[str, Any] = {"algorithm": inp.algorithm}
    if inp.kind == "text_docs":
        script_params["text_docs"] = [None if d is None else gson_escape(d) for d in inp.text_docs or ()]
    else:
        script_params["query_text"] = inp.query_text
        script_params["text_docs"] = list(inp.text_docs or ())
    if inp.parameters:
        script_params["parameters"] = dict(inp.parameters)
    return script_params


def _post_process_input(body: Any) -> dict[str, Any]:
    """The ``params`` of a post-process script: the reply's object, or a top-level array as ``result``."""
    return body if isinstance(body, dict) else {"result": body}


def _describe(
    span: Span, response: RemoteResponse, usage: tuple[int, int] | None, content_mask: SecretMask | None
) -> None:
    """The reply's GenAI attributes on the call's span (its body only when content capture is on)."""
    span.set_attribute("http.response.status_code", response.status)
    if usage is not None:
        span.set_attribute("gen_ai.usage.input_tokens", usage[0])
        span.set_attribute("gen_ai.usage.output_tokens", usage[1])
    if content_mask is not None:
        text = response.body[:_MAX_CONTENT].decode("utf-8", errors="replace")
        span.set_attribute("gen_ai.output.messages", content_mask.mask(text))


def _maybe_json(value: str | None) -> Any:
    if value and value[:1] in "[{":
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value
