"""See what a connector will send: render a predict without calling the provider (mlgate-specific).

Rendering walks the executor's own path — plan, render, sign — and stops before the send, so what is
shown is what predict would send. Each request comes back with its egress verdict, whether its body
is valid JSON (and where it breaks), the placeholders left unfilled, the error predict would raise
instead of sending, and, given a sample provider response, the post-processed output. Credential
values are masked everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from mlgate.domain import connector as cdomain
from mlgate.domain import model as mdomain
from mlgate.domain.egress import EgressVerdict, classify_address, is_private_address
from mlgate.domain.errors import InvalidRequestError, MlgateError, NotFoundError
from mlgate.domain.model import Model
from mlgate.domain.predict_input import PredictInput, parse_predict_input
from mlgate.domain.principal import Principal
from mlgate.domain.secret_mask import SecretMask
from mlgate.remote.executor import ConnectorExecutor, RenderedRequest
from mlgate.remote.runtime_connector import RuntimeConnector
from mlgate.services.access import ModelAccess
from mlgate.services.connectors import ConnectorService
from mlgate.services.runtime import ModelRuntime
from mlgate.services.runtime_builder import RuntimeBuilder
from mlgate.storage.store import Store

# Fields of a render body that are not part of the predict input.
SAMPLE_RESPONSE = "sample_response"
_UNFILLED = re.compile(r"\$\{((?:parameters|credential)\.[^}]+)}")


class DryRunService:
    """Renders connector calls (inline, stored, or a model's) and explains egress for bare URLs."""

    def __init__(
        self,
        store: Store,
        connectors: ConnectorService,
        model_access: ModelAccess,
        builder: RuntimeBuilder,
        runtime: ModelRuntime,
        executor: ConnectorExecutor,
    ) -> None:
        self._store = store
        self._connectors = connectors
        self._model_access = model_access
        self._builder = builder
        self._runtime = runtime
        self._executor = executor

    async def render_inline(self, body: Mapping[str, Any] | None) -> dict[str, Any]:
        """``POST /_plugins/_mlgate/connectors/_render``: ``{"connector": {...}, predict input…}``.

        The inline connector's credential is given in clear (it is never stored).
        """
        body = body or {}
        raw = body.get("connector")
        if not isinstance(raw, Mapping):
            raise InvalidRequestError("connector is required: the connector body to render")
        cin = cdomain.parse_connector_input(raw)
        if not cin.actions:
            raise InvalidRequestError("No actions configured for this connector")
        rc = RuntimeBuilder.inline("render:inline", cin)
        return await self._render(rc, body, body.get("algorithm"))

    async def render_connector(
        self, principal: Principal | None, connector_id: str, body: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """``POST /_plugins/_mlgate/connectors/{connector_id}/_render`` with a predict input."""
        source = await self._connectors.load_source(principal, connector_id)
        rc = self._builder.connector(f"render:{connector_id}", cdomain.Connector.from_doc(source))
        body = body or {}
        return await self._render(rc, body, body.get("algorithm"))

    async def render_model(
        self,
        principal: Principal | None,
        model_id: str,
        algorithm: str | None,
        body: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        """``POST /_plugins/_mlgate/models/{model_id}/_render``: the model's predict body, not sent.

        A deployed model renders with its deployed connector (what predict uses right now); any other
        is prepared from storage the way deploy would, without deploying it.
        """
        body = body or {}
        deployed = self._runtime.get(model_id)
        if deployed is None:
            stored = await self._store.load(mdomain.INDEX, model_id)
            if stored is None:
                raise NotFoundError("Failed to find model")
            model = Model.from_doc(stored.source)
            await self._model_access.check(principal, model)
            deployed = await self._builder.model(model_id, model)
        else:
            await self._model_access.check(principal, deployed.model)
        return await self._render(deployed.connector, body, algorithm or body.get("algorithm"))

    async def explain_egress(self, body: Mapping[str, Any] | None) -> dict[str, Any]:
        """``POST /_plugins/_mlgate/egress/_explain`` with ``{"url": "..."}``."""
        url = (body or {}).get("url")
        if not isinstance(url, str) or not url:
            raise InvalidRequestError("url is required")
        return verdict_json(await self._executor.explain_egress(url))

    async def _render(self, rc: RuntimeConnector, body: Mapping[str, Any], algorithm: Any) -> dict[str, Any]:
        if algorithm is not None and not isinstance(algorithm, str):
            raise InvalidRequestError("algorithm must be a string")
        inp = _predict_input(algorithm, body)
        action, calls = await self._executor.plan(rc, inp)
        sample = _sample_bytes(body)
        requests = []
        for params in calls:
            request = self._executor.render(rc, action, params)
            shown = _request_json(request, rc.mask)
            shown["egress"] = verdict_json(await self._executor.explain_egress(request.url))
            if sample is not None:
                shown["post_process"] = await self._post_process(rc, request, sample)
            requests.append(shown)
        return {"action_type": action.action_type, "protocol": rc.protocol, "requests": requests}

    async def _post_process(
        self, rc: RuntimeConnector, request: RenderedRequest, sample: bytes
    ) -> dict[str, Any]:
        try:
            output = await self._executor.post_process(request.action, request.parameters, sample)
        except MlgateError as exc:
            return {"error": _error_json(exc, rc.mask)}
        return {"output": output, "status_code": 200}


def _predict_input(algorithm: str | None, body: Mapping[str, Any]) -> PredictInput:
    if algorithm is None and body.get("text_docs") is not None:
        # The shape that carries text_docs to a remote model is the text_embedding route's.
        algorithm = "text_embedding"
    return parse_predict_input(algorithm, body)


def _sample_bytes(body: Mapping[str, Any]) -> bytes | None:
    if SAMPLE_RESPONSE not in body:
        return None
    sample = body[SAMPLE_RESPONSE]
    # A string is the raw body as the provider would send it (it need not be JSON).
    return sample.encode() if isinstance(sample, str) else orjson.dumps(sample)


def _request_json(request: RenderedRequest, mask: SecretMask) -> dict[str, Any]:
    payload = None if request.payload is None else mask.mask(request.payload)
    headers = {name: mask.mask(value) for name, value in request.headers.items()}
    url = mask.mask(request.url)
    texts = [request.url, *request.headers.values(), request.payload or ""]
    unfilled = list(dict.fromkeys(name for text in texts for name in _UNFILLED.findall(text)))
    return {
        "method": request.method,
        "url": url,
        "headers": headers,
        "body": payload,
        "body_json": _json_check(request.payload),
        "unfilled_placeholders": unfilled,
        # The parameter map the body was rendered from: connector and request parameters plus what the
        # pre-process function (built-in or script) produced — a script's output made visible.
        "parameters": {k: None if v is None else mask.mask(v) for k, v in request.parameters.items()},
        "error": None if request.error is None else _error_json(request.error, mask),
    }


def _json_check(payload: str | None) -> dict[str, Any] | None:
    if payload is None:
        return None
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return {
            "valid": False,
            "message": exc.msg,
            "position": exc.pos,
            "line": exc.lineno,
            "column": exc.colno,
        }
    return {"valid": True}


def _error_json(error: MlgateError, mask: SecretMask) -> dict[str, str]:
    return {"type": error.error_type, "reason": mask.mask(error.message)}


def verdict_json(verdict: EgressVerdict) -> dict[str, Any]:
    """An egress verdict as the render and explain endpoints show it."""
    dest = verdict.destination
    return {
        "url": verdict.url,
        "allowed": verdict.allowed,
        "reason": verdict.reason,
        "trusted_pattern": verdict.trusted_pattern,
        "destination": None
        if dest is None
        else {"scheme": dest.scheme, "host": dest.host, "port": dest.port},
        "addresses": [
            {"address": ip, "class": classify_address(ip).value, "private": is_private_address(ip)}
            for ip in verdict.addresses
        ],
        "private": verdict.private,
    }
