"""Remote models: register/update input, the stored document, states and their transitions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.fields import (
    opt_bool,
    opt_object,
    opt_str,
    opt_str_list,
    parse_error,
    validate_safe_fields,
)
from mlgate.domain.guardrails import refuse_unsupported_regexes
from mlgate.domain.records import BOOL, INT, OBJECT, STR, STR_TUPLE, Kind, join, split

INDEX = ".plugins-ml-model"

REGISTERED = "REGISTERED"
DEPLOYING = "DEPLOYING"
DEPLOYED = "DEPLOYED"
PARTIALLY_DEPLOYED = "PARTIALLY_DEPLOYED"
DEPLOY_FAILED = "DEPLOY_FAILED"
UNDEPLOYED = "UNDEPLOYED"

# A model in these states answers predicts (on the nodes of its plan).
SERVING_STATES = (DEPLOYED, PARTIALLY_DEPLOYED)
# A model in these states has no predictor on any node.
UNLOADED_STATES = (UNDEPLOYED, DEPLOY_FAILED, REGISTERED)

# Deleting is refused in these states (legacy names included, as ML Commons does).
ACTIVE_STATES = (DEPLOYED, DEPLOYING, PARTIALLY_DEPLOYED, "LOADED", "LOADING", "PARTIALLY_LOADED")

LOCAL_FUNCTIONS = (
    "TEXT_EMBEDDING",
    "SPARSE_ENCODING",
    "SPARSE_TOKENIZE",
    "TEXT_SIMILARITY",
    "QUESTION_ANSWERING",
    "KMEANS",
    "LINEAR_REGRESSION",
    "AD_LIBSVM",
    "RCF_SUMMARIZE",
    "LOGISTIC_REGRESSION",
    "BATCH_RCF",
    "FIT_RCF",
    "ANOMALY_LOCALIZATION",
    "METRICS_CORRELATION",
    "AGENT",
)
TIME_UNITS = ("NANOSECONDS", "MICROSECONDS", "MILLISECONDS", "SECONDS", "MINUTES", "HOURS", "DAYS")


@dataclass(frozen=True)
class RegisterInput:
    """A parsed remote-model register body (inline connector still raw)."""

    name: str
    description: str | None
    model_group_id: str | None
    connector_id: str | None
    connector: dict[str, Any] | None
    extras: dict[str, Any]
    backend_roles: list[str] | None
    add_all_backend_roles: bool | None
    access_mode: str | None

    @property
    def has_access_params(self) -> bool:
        """Whether access-control parameters for an implicit new group were given."""
        return bool(self.access_mode or self.add_all_backend_roles or self.backend_roles)


def parse_register_input(body: Mapping[str, Any]) -> RegisterInput:
    """Parse a register body with ML Commons' messages; only remote models are served."""
    function_name = opt_str(body, "function_name")
    if function_name is None:
        raise InvalidRequestError("model format is null")
    upper = function_name.upper()
    if upper != "REMOTE":
        if upper in LOCAL_FUNCTIONS:
            if body.get("model_format") is None:
                raise InvalidRequestError("model format is null")
            raise InvalidRequestError(
                "Local Model is currently disabled. To enable it, update the setting "
                '"plugins.ml_commons.local_model.enabled" to true.',
                error_type="status_exception",
            )
        raise InvalidRequestError("Wrong function name")
    name = opt_str(body, "name")
    if name is None:
        raise InvalidRequestError("model name is null")
    description = opt_str(body, "description")
    validate_safe_fields([("Model name", name, True), ("Model description", description, False)])
    access_mode = opt_str(body, "access_mode")
    return RegisterInput(
        name=name,
        description=description,
        model_group_id=opt_str(body, "model_group_id"),
        connector_id=opt_str(body, "connector_id"),
        connector=opt_object(body, "connector"),
        extras=parse_extras(body),
        backend_roles=opt_str_list(body, "backend_roles"),
        add_all_backend_roles=opt_bool(body, "add_all_backend_roles"),
        access_mode=access_mode.lower() if access_mode else None,
    )


def parse_extras(body: Mapping[str, Any]) -> dict[str, Any]:
    """The optional model fields stored as given (normalised as ML Commons does)."""
    extras: dict[str, Any] = {}
    is_enabled = opt_bool(body, "is_enabled")
    if is_enabled is not None:
        extras["is_enabled"] = is_enabled
    rate_limiter = opt_object(body, "rate_limiter")
    if rate_limiter is not None:
        extras["rate_limiter"] = parse_rate_limiter(rate_limiter)
    for key in ("model_config", "guardrails"):
        value = opt_object(body, key)
        if value is not None:
            extras[key] = value
    refuse_unsupported_regexes(extras.get("guardrails"))
    deploy_setting = opt_object(body, "deploy_setting")
    if deploy_setting is not None:
        extras["deploy_setting"] = parse_deploy_setting(deploy_setting)
    interface = opt_object(body, "interface")
    if interface is not None:
        extras["interface"] = {
            k: v if isinstance(v, str) else orjson.dumps(v).decode()
            for k, v in interface.items()
            if k in ("input", "output") and v is not None
        }
    return extras


def parse_rate_limiter(raw: Mapping[str, Any]) -> dict[str, str]:
    """``{"limit": "<number>", "unit": "<TimeUnit>"}``; either may be absent."""
    out: dict[str, str] = {}
    limit = raw.get("limit")
    if limit is not None:
        text = str(limit)
        try:
            number = float(text)
        except ValueError:
            number = -1.0
        if number < 0:
            raise InvalidRequestError("Limit field must be a positive number.", error_type="parse_exception")
        out["limit"] = text
    unit = raw.get("unit")
    if unit is not None:
        if not isinstance(unit, str) or unit.upper() not in TIME_UNITS:
            raise InvalidRequestError(f"No enum constant java.util.concurrent.TimeUnit.{unit}")
        out["unit"] = unit.upper()
    return out


def parse_deploy_setting(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Deploy setting with ``model_ttl_minutes`` defaulting to -1 (never expire)."""
    out: dict[str, Any] = {}
    auto = opt_bool(raw, "is_auto_deploy_enabled")
    if auto is not None:
        out["is_auto_deploy_enabled"] = auto
    ttl = raw.get("model_ttl_minutes", -1)
    if not isinstance(ttl, int) or isinstance(ttl, bool):
        raise parse_error("[model_ttl_minutes] must be an integer")
    out["model_ttl_minutes"] = ttl
    return out


def validate_remote_model_config(model_config: Mapping[str, Any] | None) -> None:
    """ML Commons' checks for a remote text-embedding model_config."""
    if not model_config or str(model_config.get("model_type", "")).lower() != "text_embedding":
        return
    if model_config.get("embedding_dimension") is None:
        raise InvalidRequestError("Embedding dimension must be provided for remote text embedding model")
    if model_config.get("framework_type") is None:
        raise InvalidRequestError("Framework type must be provided for remote text embedding model")
    additional = model_config.get("additional_config")
    if not isinstance(additional, dict) or additional.get("space_type") is None:
        raise InvalidRequestError(
            "Space type must be provided in additional_config for remote text embedding model"
        )


def new_document(
    inp: RegisterInput, *, model_group_id: str, version: str, now: int, connector_field: tuple[str, Any]
) -> dict[str, Any]:
    """The stored document of a freshly registered remote model."""
    doc: dict[str, Any] = {
        "name": inp.name,
        "model_group_id": model_group_id,
        "algorithm": "REMOTE",
        "model_version": version,
    }
    if inp.description is not None:
        doc["description"] = inp.description
    doc["model_state"] = REGISTERED
    doc["created_time"] = now
    doc["last_updated_time"] = now
    doc["is_hidden"] = False
    doc[connector_field[0]] = connector_field[1]
    doc.update(inp.extras)
    return doc


# The typed fields of a stored model, in the order ML Commons writes them.
_KINDS: dict[str, Kind] = {
    "name": STR,
    "model_group_id": STR,
    "algorithm": STR,
    "model_version": STR,
    "description": STR,
    "model_state": STR,
    "created_time": INT,
    "last_updated_time": INT,
    "is_hidden": BOOL,
    "connector_id": STR,
    "connector": OBJECT,
    "is_enabled": BOOL,
    "rate_limiter": OBJECT,
    "deploy_setting": OBJECT,
    "guardrails": OBJECT,
    "is_controller_enabled": BOOL,
    "planning_worker_node_count": INT,
    "planning_worker_nodes": STR_TUPLE,
    "deploy_to_all_nodes": BOOL,
    "current_worker_node_count": INT,
    "last_deployed_time": INT,
    "auto_redeploy_retry_times": INT,
    "last_undeployed_time": INT,
}


@dataclass(frozen=True, slots=True)
class Model:
    """A stored remote-model document; None means the key is absent.

    ``interface`` stays untyped in ``extra``: a stored ``null`` (no interface) differs from an absent
    key (the connector's preset applies). ml-commons: common/.../model/MLModel.java.
    """

    name: str | None = None
    model_group_id: str | None = None
    algorithm: str | None = None
    model_version: str | None = None
    description: str | None = None
    model_state: str | None = None
    created_time: int | None = None
    last_updated_time: int | None = None
    is_hidden: bool | None = None
    connector_id: str | None = None
    connector: dict[str, Any] | None = None
    is_enabled: bool | None = None
    rate_limiter: dict[str, Any] | None = None
    deploy_setting: dict[str, Any] | None = None
    guardrails: dict[str, Any] | None = None
    is_controller_enabled: bool | None = None
    planning_worker_node_count: int | None = None
    planning_worker_nodes: tuple[str, ...] | None = None
    deploy_to_all_nodes: bool | None = None
    current_worker_node_count: int | None = None
    last_deployed_time: int | None = None
    auto_redeploy_retry_times: int | None = None
    last_undeployed_time: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    order: tuple[str, ...] = ()

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Model:
        """The record of a stored document (nothing in it is lost)."""
        typed, extra, order = split(doc, _KINDS)
        return cls(**typed, extra=extra, order=order)

    def to_doc(self) -> dict[str, Any]:
        """The stored document, keys in their stored order."""
        return join({key: getattr(self, key) for key in _KINDS}, self.extra, self.order, _KINDS)

    @property
    def workers(self) -> tuple[str, ...]:
        """The nodes of the model's deploy plan."""
        return self.planning_worker_nodes or ()

    @property
    def is_serving(self) -> bool:
        """Deployed (fully or partly): the nodes of its plan answer predicts."""
        return self.model_state in SERVING_STATES

    @property
    def has_interface(self) -> bool:
        """Whether the document says what the interface is (``null`` included)."""
        return "interface" in self.extra

    @property
    def interface(self) -> Any:
        """The stored interface (None when absent or ``null``)."""
        return self.extra.get("interface")

    def touched(self, now: int) -> Model:
        """Written at ``now``."""
        return replace(self, last_updated_time=now)

    def deploying(self, targets: list[str], deploy_to_all: bool) -> Model:
        """A deploy to ``targets`` started."""
        return replace(
            self,
            model_state=DEPLOYING,
            planning_worker_node_count=len(targets),
            planning_worker_nodes=tuple(targets),
            deploy_to_all_nodes=deploy_to_all,
        )

    def deployed(self, state: str, loaded: int, now: int) -> Model:
        """A deploy ended in ``state`` with ``loaded`` nodes serving."""
        if not loaded:
            return replace(self, model_state=state, current_worker_node_count=loaded)
        retries = self.auto_redeploy_retry_times
        if retries is None and "auto_redeploy_retry_times" not in self.extra:
            retries = 0
        return replace(
            self,
            model_state=state,
            current_worker_node_count=loaded,
            last_deployed_time=now,
            auto_redeploy_retry_times=retries,
        )

    def undeployed(self, now: int) -> Model:
        """Undeployed from every node."""
        return replace(
            self,
            model_state=UNDEPLOYED,
            last_undeployed_time=now,
            planning_worker_nodes=(),
            planning_worker_node_count=0,
            current_worker_node_count=0,
        )

    def with_worker(self, node_id: str) -> Model:
        """``node_id`` joined the plan and serves the model."""
        nodes = (*(n for n in self.workers if n != node_id), node_id)
        return replace(
            self,
            planning_worker_nodes=nodes,
            planning_worker_node_count=len(nodes),
            current_worker_node_count=min(len(nodes), (self.current_worker_node_count or 0) + 1),
        )

    def without_worker(self, node_id: str) -> Model:
        """``node_id`` left the plan; a serving model left with no node failed."""
        nodes = tuple(n for n in self.workers if n != node_id)
        return replace(
            self,
            planning_worker_nodes=nodes,
            planning_worker_node_count=len(nodes),
            current_worker_node_count=max(0, (self.current_worker_node_count or 0) - 1),
            model_state=DEPLOY_FAILED if not nodes and self.is_serving else self.model_state,
        )

    def with_controller(self, enabled: bool) -> Model:
        """The model controller was created (True) or deleted (False)."""
        return replace(self, is_controller_enabled=enabled)
