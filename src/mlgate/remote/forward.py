"""Node-to-node calls: forwarding a predict to a node that serves the model, asking a node for its part.

Nodes of one cluster share the master key; a request between them carries an HMAC of a fixed label
under that key, so the internal route is closed to users (who never hold the key).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson

from mlgate.domain.errors import RemoteError, RemoteTimeoutError
from mlgate.domain.memory_budget import Lease
from mlgate.domain.node import NODE_TOKEN_HEADER
from mlgate.remote.client import read_body

_LABEL = b"mlgate node-to-node v1"


def node_token(master_key: bytes) -> str:
    """The shared token nodes present to each other."""
    return hmac.new(master_key, _LABEL, hashlib.sha256).hexdigest()


def is_node_token(candidate: str | None, master_key: bytes) -> bool:
    """Constant-time check of a presented token."""
    return candidate is not None and hmac.compare_digest(candidate, node_token(master_key))


class NodeForwarder:
    """Sends predicts and internal GETs to other nodes over one pooled keep-alive session."""

    def __init__(self, master_key: bytes, *, timeout_s: float = 120.0) -> None:
        self._token = node_token(master_key)
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def predict(
        self, base_url: str, model_id: str, payload: Mapping[str, Any], lease: Lease | None = None
    ) -> tuple[int, bytes]:
        """POST the predict to ``base_url``; (status, body bytes) exactly as the worker answered, charged
        to ``lease`` as they arrive."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        url = f"{base_url.rstrip('/')}/_plugins/_mlgate/_internal/models/{model_id}/_predict"
        try:
            async with self._session.post(
                url,
                data=orjson.dumps(payload),
                headers={NODE_TOKEN_HEADER: self._token, "content-type": "application/json"},
            ) as response:
                return response.status, await read_body(response, None, lease)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RemoteError(
                f"Failed to forward predict to node {base_url}: {exc.__class__.__name__}", status=500
            ) from exc

    async def get(self, base_url: str, path: str, query: Mapping[str, str], *, timeout_s: float) -> Any:
        """GET a node-to-node route of another node; its decoded JSON answer.

        RemoteTimeoutError when it does not answer within ``timeout_s``; RemoteError when it cannot be
        reached or answers anything but 200 with JSON.
        """
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        url = f"{base_url.rstrip('/')}{path}"
        try:
            async with self._session.get(
                url,
                params=dict(query),
                headers={NODE_TOKEN_HEADER: self._token},
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as response:
                status, body = response.status, await response.read()
        except TimeoutError as exc:
            raise RemoteTimeoutError(
                f"node {base_url} did not answer {path} in {timeout_s}s", status=504
            ) from exc
        except aiohttp.ClientError as exc:
            raise RemoteError(
                f"node {base_url} unreachable for {path}: {exc.__class__.__name__}", status=502
            ) from exc
        if status != 200:
            raise RemoteError(f"node {base_url} answered {path} with status {status}", status=502)
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise RemoteError(f"node {base_url} answered {path} with invalid JSON", status=502) from exc

    async def close(self) -> None:
        """Close the session."""
        if self._session is not None:
            await self._session.close()
            self._session = None
