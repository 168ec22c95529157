"""Building what predict runs: the one place a stored credential is decrypted for use.

Deploy, predict's on-demand load, batch and dry-run all come here, so a runtime connector is prepared
the same way whichever path needs it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from mlgate.domain import controller as controller_domain
from mlgate.domain.connector import INDEX as CONNECTOR_INDEX
from mlgate.domain.connector import Connector, ConnectorInput
from mlgate.domain.errors import NotFoundError
from mlgate.domain.guardrails import compile_guardrails
from mlgate.domain.interface import compile_interface
from mlgate.domain.interface_presets import preset_interface
from mlgate.domain.model import Model
from mlgate.domain.rate_limit import build_rate_limiter, build_user_limiters
from mlgate.remote.runtime_connector import RuntimeConnector, build_runtime_connector
from mlgate.remote.secrets import CredentialCipher
from mlgate.services.runtime import DeployedModel
from mlgate.storage.store import Store


class RuntimeBuilder:
    """Prepares deployed models and connectors for execution (nothing is installed here)."""

    def __init__(
        self, store: Store, cipher: CredentialCipher, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """``clock`` (monotonic seconds) drives the rate limiters."""
        self._store = store
        self._cipher = cipher
        self._clock = clock

    def connector(self, key: str, connector: Connector) -> RuntimeConnector:
        """A stored connector (standalone or inline) ready to send: its credential decrypted here."""
        source = connector.to_doc()
        credential = self._cipher.decrypt(connector.credential or {})
        return build_runtime_connector(key, source, credential, connector.parsed_actions)

    @staticmethod
    def inline(key: str, inp: ConnectorInput) -> RuntimeConnector:
        """A connector given in a request body, credential in clear (it is never stored)."""
        source: Mapping[str, Any] = {
            "protocol": inp.protocol or "http",
            "parameters": inp.parameters or {},
            "client_config": inp.client_config,
        }
        return build_runtime_connector(key, source, inp.credential or {}, inp.actions or [])

    async def model(self, model_id: str, model: Model) -> DeployedModel:
        """A model's predictor: its connector, limits, interface and guardrails, prepared once."""
        if model.connector_id:
            stored = await self._store.load(CONNECTOR_INDEX, model.connector_id)
            if stored is None:
                raise NotFoundError(f"Failed to find connector:{model.connector_id}")
            connector = self.connector(f"connector:{model.connector_id}", Connector.from_doc(stored.source))
            source = stored.source
        else:
            source = model.connector or {}
            connector = self.connector(f"model:{model_id}", Connector.from_doc(source))
        # ML Commons stores the preset at register; a model registered without one still gets it here.
        interface = model.interface if model.has_interface else preset_interface(source)
        # Each worker node enforces its share of the model's and its users' limits, as ML Commons does.
        worker_nodes = max(1, len(model.workers))
        return DeployedModel(
            model_id=model_id,
            model=model,
            connector=connector,
            connector_id=model.connector_id,
            rate_limiter=build_rate_limiter(model.rate_limiter, worker_nodes=worker_nodes, clock=self._clock),
            user_limiters=build_user_limiters(
                await self._controller_limiters(model_id, model), worker_nodes=worker_nodes, clock=self._clock
            ),
            interface=compile_interface(interface),
            guardrails=compile_guardrails(model.guardrails),
        )

    async def _controller_limiters(self, model_id: str, model: Model) -> Mapping[str, Any]:
        # As ML Commons: the controller is read only for a model whose flag says it has one.
        if not model.is_controller_enabled:
            return {}
        stored = await self._store.load(controller_domain.INDEX, model_id)
        return (stored.source.get("user_rate_limiter") or {}) if stored is not None else {}
