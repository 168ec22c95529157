"""Cluster settings: the registered keys, their types and defaults, parsing and the wire shapes.

OpenSearch keeps settings as strings internally; PUT echoes scalar values as strings and list values
as arrays of strings. Lookups for the rest of mlgate go through :class:`ClusterSettings`, an immutable
snapshot rebuilt on every change so readers never see a half-applied update.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from mlgate.domain.egress import DEFAULT_TRUSTED_ENDPOINTS, validate_endpoint_regex
from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.linear_regex import RegexError, compile_regex

PREFIX = "plugins.ml_commons."


Value = bool | int | float | str | tuple[str, ...]


@dataclass(frozen=True)
class SettingDef:
    """One registered setting."""

    key: str
    kind: type
    default: Value
    dynamic: bool = True
    minimum: float | None = None
    maximum: float | None = None
    # Run on a string value, or on each item of a list value; raises ValueError.
    item_check: Callable[[str], None] | None = None
    final: bool = False  # set at node start only ("not updateable"); not dynamic either
    inert: bool = False  # accepted, validated and echoed as in ML Commons, but nothing in mlgate reads it


def _check_regex(pattern: str) -> None:
    try:
        validate_endpoint_regex(pattern)
    except InvalidRequestError as exc:
        raise ValueError(exc.message) from exc


def _check_status_regex(pattern: str) -> None:
    # ML Commons compiles these only when a batch task is refreshed; mlgate checks them when written.
    try:
        compile_regex(pattern, ignore_case=True)
    except RegexError as exc:
        raise ValueError(f"Invalid regex pattern: {pattern}; {exc.reason}") from exc


_STATUS_REGEX_DEFAULTS = (
    ("completed", "(complete|completed|partiallyCompleted)"),
    ("cancelled", "(stopped|cancelled)"),
    ("cancelling", "(stopping|cancelling)"),
    ("expired", "(expired|timeout)"),
    ("failed", "(failed)"),
)
_BYTE_SIZE = re.compile(r"(?:\d+(?:\.\d+)?\s*(?:b|kb?|mb?|gb?|tb?|pb?)|-1|0)", re.IGNORECASE)


def _check_byte_size(text: str) -> None:
    # OpenSearch's ByteSizeValue: a number and a unit, or -1 / 0.
    if not _BYTE_SIZE.fullmatch(text.strip()):
        raise ValueError(
            f"failed to parse setting [{PREFIX}disk_free_space_threshold] with value [{text}] as a size in "
            "bytes: unit is missing or unrecognized"
        )


def _defs() -> dict[str, SettingDef]:
    b, i, f, s, lst = bool, int, float, str, tuple
    table: list[SettingDef] = [
        SettingDef(
            "trusted_connector_endpoints_regex", lst, DEFAULT_TRUSTED_ENDPOINTS, item_check=_check_regex
        ),
        SettingDef("connector_access_control_enabled", b, False),
        SettingDef("model_access_control_enabled", b, False),
        SettingDef("only_run_on_ml_node", b, True),
        SettingDef("task_dispatcher.eligible_node_role.remote_model", lst, ("data", "ml")),
        SettingDef("task_dispatcher.eligible_node_role.local_model", lst, ("data", "ml"), inert=True),
        SettingDef("connector.private_ip_enabled", b, False),
        SettingDef("trusted_connector_private_endpoints_regex", lst, (), item_check=_check_regex),
        SettingDef(
            "connector.restricted_ip_patterns", lst, (), dynamic=False, item_check=_check_regex, final=True
        ),
        SettingDef("remote_inference.enabled", b, True),
        SettingDef("controller_enabled", b, True),
        SettingDef("update_connector.enabled", b, False, inert=True),
        SettingDef("model_auto_deploy.enable", b, True),
        SettingDef("model_auto_redeploy.enable", b, True),
        SettingDef("model_auto_redeploy.lifetime_retry_times", i, 3, inert=True),
        SettingDef("model_auto_redeploy_success_ratio", f, 0.8, minimum=0, maximum=1, inert=True),
        SettingDef("allow_custom_deployment_plan", b, False),
        SettingDef("exclude_nodes._name", s, ""),
        SettingDef("task_dispatch_policy", s, "round_robin", inert=True),
        SettingDef("max_register_model_tasks_per_node", i, 10, minimum=0, maximum=10, inert=True),
        SettingDef("max_deploy_model_tasks_per_node", i, 10, minimum=0, maximum=10, inert=True),
        SettingDef("max_ml_task_per_node", i, 10, minimum=0, maximum=10_000, inert=True),
        SettingDef("max_model_on_node", i, 10, minimum=0, maximum=10_000, inert=True),
        SettingDef("sync_up_job_interval_in_seconds", i, 10, minimum=0, maximum=86_400, inert=True),
        SettingDef("ml_task_timeout_in_seconds", i, 600, minimum=1, maximum=86_400, inert=True),
        SettingDef("monitoring_request_count", i, 100, minimum=0, maximum=10_000_000),
        SettingDef("safe_delete_model", b, False, inert=True),
        SettingDef("max_json_size", i, 100_000_000, minimum=-1),
        SettingDef("local_model.enabled", b, True),
        SettingDef("offline_batch_inference_enabled", b, True),
        SettingDef("max_batch_inference_tasks", i, 100, minimum=0, maximum=10_000),
        SettingDef("remote_job.status_field", lst, ("status", "Status", "TransformJobStatus")),
        *(
            SettingDef(f"remote_job.status_regex.{state}", s, default, item_check=_check_status_regex)
            for state, default in _STATUS_REGEX_DEFAULTS
        ),
        SettingDef("stream_enabled", b, False, inert=True),
        SettingDef("mcp_connector_enabled", b, False, inert=True),
        SettingDef("master_key_cache_ttl_minutes", i, 5, dynamic=False, minimum=1, maximum=1440, inert=True),
        SettingDef("multi_tenancy_enabled", b, False, dynamic=False, inert=True),
        SettingDef("native_memory_threshold", i, 90, minimum=0, maximum=100, inert=True),
        SettingDef("jvm_heap_memory_threshold", i, 85, minimum=0, maximum=100, inert=True),
        SettingDef("disk_free_space_threshold", s, "5gb", item_check=_check_byte_size, inert=True),
        *_local_model_and_agent_defs(),
    ]
    return {PREFIX + d.key: d for d in table}


def _local_model_and_agent_defs() -> list[SettingDef]:
    """The rest of ML Commons' settings at HEAD (MachineLearningPlugin.getSettings()): local models,
    ingestion, agents, memory, MCP server, metrics, remote metadata — none of them mlgate's business."""
    b, i, s = bool, int, str

    def inert(key: str, kind: type, default: Value, **bounds: Any) -> SettingDef:
        return SettingDef(key, kind, default, inert=True, **bounds)

    def final(key: str, kind: type, default: Value) -> SettingDef:
        return SettingDef(key, kind, default, dynamic=False, final=True, inert=True)

    return [
        inert(
            "trusted_url_regex", s, "^(https?|ftp|file)://[-a-zA-Z0-9+&@#/%?=~_|!:,.;]*[-a-zA-Z0-9+&@#/%=~_|]"
        ),
        inert("enable_inhouse_python_model", b, False),
        inert("allow_registering_model_via_url", b, False),
        inert("allow_registering_model_via_local_file", b, False),
        inert("memory_feature_enabled", b, True),
        inert("rag_pipeline_feature_enabled", b, True),
        inert("agent_framework_enabled", b, True),
        inert("offline_batch_ingestion_enabled", b, True),
        inert("max_batch_ingestion_tasks", i, 100, minimum=0, maximum=10_000),
        inert("batch_ingestion_bulk_size", i, 500, minimum=100, maximum=100_000),
        inert("mcp_server_enabled", b, False),
        inert("metrics_static_collection_enabled", b, False),
        inert("execute_tools_enabled", b, True),
        inert("agentic_memory_enabled", b, True),
        inert("remote_agentic_memory_enabled", b, False),
        inert("memory.retention_enabled", b, False),
        inert("index_insight_feature_enabled", b, False),
        inert("unified_agent_api_enabled", b, False),
        inert("agentic_search_template_enabled", b, False),
        inert("mcp_header_passthrough_enabled", b, False),
        inert("ag_ui_enabled", b, False),
        inert("memory.retention_job_interval_hours", i, 24, minimum=1, maximum=168),
        inert("memory.retention_job_throttle_seconds", i, 5, minimum=1, maximum=60),
        inert("memory.orphan_ttl_days", i, 7, minimum=1, maximum=365),
        inert("memory.working_memory_ttl_days", i, -1, minimum=-1, maximum=365),
        inert("memory.default_session_retention_days", i, -1, minimum=-1, maximum=3650),
        inert("memory.default_session_max_count", i, -1, minimum=-1, maximum=1_000_000),
        inert("memory.default_long_term_max_count", i, -1, minimum=-1, maximum=1_000_000),
        inert("memory.default_history_max_count", i, -1, minimum=-1, maximum=10_000_000),
        final("metrics_collection_enabled", b, False),
        final("remote_metadata_type", s, ""),
        final("remote_metadata_endpoint", s, ""),
        final("remote_metadata_region", s, ""),
        final("remote_metadata_service_name", s, ""),
        final("global_tenant_id", s, ""),
        final("remote_metadata_global_resource_cache_ttl", s, ""),
    ]


REGISTRY: Mapping[str, SettingDef] = _defs()


def render_value(value: Value) -> str | list[str]:
    """The string form OpenSearch echoes (booleans lower-case, lists as arrays of strings)."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _parse(definition: SettingDef, raw: Any, old: Value, scope: str) -> Value:
    key = definition.key

    def fail(cause: str) -> InvalidRequestError:
        new = raw if isinstance(raw, str) else _json_text(raw)
        return InvalidRequestError(
            f"illegal value can't update [{PREFIX}{key}] from [{_plain(old)}] to [{new}]",
            caused_by=("illegal_argument_exception", cause),
        )

    kind = definition.kind
    if kind is tuple:
        items = raw if isinstance(raw, list) else [raw]
        if not all(isinstance(item, str | int | float | bool) for item in items):
            raise fail(f"Failed to parse value [{_json_text(raw)}] for setting [{PREFIX}{key}]")
        strings = tuple(_scalar_text(item) for item in items)
        if definition.item_check is not None:
            for item in strings:
                try:
                    definition.item_check(item)
                except ValueError as exc:
                    raise fail(str(exc)) from exc
        return strings
    if isinstance(raw, list | dict):
        raise fail(f"Failed to parse value [{_json_text(raw)}] for setting [{PREFIX}{key}]")
    text = _scalar_text(raw)
    if kind is bool:
        if text not in ("true", "false"):
            raise fail(f"Failed to parse value [{text}] as only [true] or [false] are allowed.")
        return text == "true"
    if kind is int or kind is float:
        try:
            number: int | float = int(text) if kind is int else float(text)
        except ValueError as exc:
            raise fail(f"Failed to parse value [{text}] for setting [{PREFIX}{key}]") from exc
        if definition.minimum is not None and number < definition.minimum:
            raise fail(
                f"Failed to parse value [{text}] for setting [{PREFIX}{key}] must be >= {_num(definition.minimum)}"
            )
        if definition.maximum is not None and number > definition.maximum:
            raise fail(
                f"Failed to parse value [{text}] for setting [{PREFIX}{key}] must be <= {_num(definition.maximum)}"
            )
        return number
    if definition.item_check is not None:
        try:
            definition.item_check(text)
        except ValueError as exc:
            raise fail(str(exc)) from exc
    return text


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _plain(value: Value) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    return _scalar_text(value)


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested or dotted input → flat dotted keys (OpenSearch accepts both, even mixed)."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and full not in REGISTRY:
            flat.update(flatten(value, full + "."))
        else:
            flat[full] = value
    return flat


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Flat dotted keys → nested objects, as OpenSearch renders settings by default."""
    tree: dict[str, Any] = {}
    for key in sorted(flat):
        node = tree
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                # A key that is both a leaf and a prefix keeps the leaf under its dotted name.
                node = tree
                parts = [key]
                break
            node = child
        node[parts[-1]] = flat[key]
    return tree


@dataclass(frozen=True)
class ClusterSettings:
    """An immutable view of the effective settings (transient over persistent over default)."""

    persistent: Mapping[str, Value]
    transient: Mapping[str, Value]

    def value(self, key: str) -> Value:
        """The effective value of a registered key (with or without the ML Commons prefix)."""
        full = key if key in REGISTRY else PREFIX + key
        if full in self.transient:
            return self.transient[full]
        if full in self.persistent:
            return self.persistent[full]
        return REGISTRY[full].default

    def flag(self, key: str) -> bool:
        """A boolean setting."""
        return bool(self.value(key))

    def number(self, key: str) -> float:
        """A numeric setting."""
        value = self.value(key)
        assert isinstance(value, int | float)
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        """A list setting."""
        value = self.value(key)
        assert isinstance(value, tuple)
        return value

    def apply(
        self, persistent: Mapping[str, Any] | None, transient: Mapping[str, Any] | None
    ) -> tuple[ClusterSettings, dict[str, Any], dict[str, Any]]:
        """Validate a PUT body; return the new settings and the flat echoes of what changed.

        Every key is validated before anything is applied, so a bad key leaves nothing half-done.
        """
        new_values: dict[str, dict[str, Value]] = {
            "persistent": dict(self.persistent),
            "transient": dict(self.transient),
        }
        echoes: dict[str, dict[str, Any]] = {"persistent": {}, "transient": {}}
        for scope, body in (("persistent", persistent), ("transient", transient)):
            if body is None:
                continue
            if not isinstance(body, dict):
                raise InvalidRequestError(
                    f"[{scope}] must be an object", error_type="x_content_parse_exception"
                )
            for key, raw in flatten(body).items():
                definition = REGISTRY.get(key)
                if definition is None:
                    raise InvalidRequestError(f"{scope} setting [{key}], not recognized")
                if not definition.dynamic:
                    raise InvalidRequestError(
                        f"final {scope} setting [{key}], not updateable"
                        if definition.final
                        else f"{scope} setting [{key}], not dynamically updateable"
                    )
                if raw is None:
                    new_values[scope].pop(key, None)
                    echoes[scope][key] = None
                    continue
                value = _parse(definition, raw, self.value(key), scope)
                new_values[scope][key] = value
                echoes[scope][key] = render_value(value)
        updated = ClusterSettings(persistent=new_values["persistent"], transient=new_values["transient"])
        return updated, echoes["persistent"], echoes["transient"]

    def rendered(self, scope: str) -> dict[str, Any]:
        """One scope's explicitly set values, flat, as strings."""
        values = self.persistent if scope == "persistent" else self.transient
        return {key: render_value(value) for key, value in values.items()}

    @staticmethod
    def rendered_defaults() -> dict[str, Any]:
        """Every registered setting's default, flat, as strings."""
        return {key: render_value(d.default) for key, d in REGISTRY.items()}


def load_persistent(stored: Mapping[str, Any]) -> dict[str, Value]:
    """Rebuild typed values from what was persisted (flat key → JSON value)."""
    values: dict[str, Value] = {}
    for key, raw in stored.items():
        definition = REGISTRY.get(key)
        if definition is None:
            continue  # a setting a newer or older mlgate knew; ignore rather than refuse to start
        values[key] = tuple(raw) if definition.kind is tuple else raw
    return values


def dump_persistent(values: Mapping[str, Value]) -> dict[str, Any]:
    """Typed values → JSON-ready values for the store."""
    return {key: list(value) if isinstance(value, tuple) else value for key, value in values.items()}
