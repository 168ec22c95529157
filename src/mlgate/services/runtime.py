"""The in-memory view of deployed models that the predict path reads (no storage read per request)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from mlgate.domain.guardrails import Guardrails
from mlgate.domain.interface import ModelInterface
from mlgate.domain.model import Model
from mlgate.domain.rate_limit import TokenBucket
from mlgate.remote.runtime_connector import RuntimeConnector


@dataclass(frozen=True)
class DeployedModel:
    """A model loaded on this node: everything predict needs, prepared once at deploy."""

    model_id: str
    model: Model
    connector: RuntimeConnector
    connector_id: str | None
    # Rebuilt (full) whenever the model is re-deployed in place, e.g. after its rate_limiter changes.
    rate_limiter: TokenBucket | None = None
    # The model controller's buckets by user name (rebuilt in place like ``rate_limiter``).
    user_limiters: Mapping[str, TokenBucket] = field(default_factory=dict)
    # The interface's JSON schemas, compiled once per deploy.
    interface: ModelInterface | None = None
    # The guardrails' regexes, compiled once per deploy.
    guardrails: Guardrails | None = None

    @property
    def is_enabled(self) -> bool:
        """``is_enabled: false`` disables predict."""
        return self.model.is_enabled is not False


class ModelRuntime:
    """Deployed models by id; replaced wholesale on change so readers never see a partial update.

    It also keeps when each model was last used here (deploy, then every predict), which the model TTL
    (``deploy_setting.model_ttl_minutes``) measures idleness from, as ML Commons' model cache does.
    """

    def __init__(self, clock_ms: Callable[[], int]) -> None:
        self._models: dict[str, DeployedModel] = {}
        self._clock_ms = clock_ms
        self._last_access: dict[str, int] = {}

    def get(self, model_id: str) -> DeployedModel | None:
        """The deployed model, or None."""
        return self._models.get(model_id)

    def put(self, model: DeployedModel) -> None:
        """Install or replace a deployed model (a replacement in place keeps its last access)."""
        self._models[model.model_id] = model
        self._last_access.setdefault(model.model_id, self._clock_ms())

    def drop(self, model_id: str) -> bool:
        """Remove a model; whether it was loaded."""
        self._last_access.pop(model_id, None)
        return self._models.pop(model_id, None) is not None

    def touch(self, model_id: str) -> None:
        """The model served a predict now (successful or not, as ML Commons counts it)."""
        if model_id in self._models:
            self._last_access[model_id] = self._clock_ms()

    def last_access(self) -> dict[str, int]:
        """Epoch milliseconds of each deployed model's last use on this process."""
        return dict(self._last_access)

    def ids(self) -> frozenset[str]:
        """Ids of every deployed model."""
        return frozenset(self._models)

    def uses_pool(self, key: str) -> bool:
        """Whether a deployed model sends through the connection pool of ``key`` (RuntimeConnector.key)."""
        return any(m.connector.key == key for m in self._models.values())

    def using_connector(self, connector_id: str) -> list[str]:
        """Deployed models that reference a standalone connector."""
        return [m.model_id for m in self._models.values() if m.connector_id == connector_id]
