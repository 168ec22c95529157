"""Remote models: register/update input, the stored document, states and their transitions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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

INDEX = ".plugins-ml-model"

REGISTERED = "REGISTERED"
DEPLOYING = "DEPLOYING"
DEPLOYED = "DEPLOYED"
PARTIALLY_DEPLOYED = "PARTIALLY_DEPLOYED"
DEPLOY_FAILED = "DEPLOY_FAILED"
UNDEPLOYED = "UNDEPLOYED"

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
