"""Every ML Commons cluster setting registered at HEAD is accepted, typed and echoed; those without
effect in mlgate are documented as such."""

from __future__ import annotations

from pathlib import Path

import httpx

from mlgate.domain.settings import PREFIX, REGISTRY
from tests.conftest import assert_error

CONFIGURATION_DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"

# ml-commons: plugin/src/main/java/org/opensearch/ml/plugin/MachineLearningPlugin.java, getSettings(), at
# HEAD (keys from common/src/main/java/org/opensearch/ml/common/settings/MLCommonsSettings.java).
HEAD_DYNAMIC = (
    "task_dispatch_policy",
    "max_model_on_node",
    "only_run_on_ml_node",
    "sync_up_job_interval_in_seconds",
    "ml_task_timeout_in_seconds",
    "monitoring_request_count",
    "max_register_model_tasks_per_node",
    "max_ml_task_per_node",
    "max_deploy_model_tasks_per_node",
    "trusted_url_regex",
    "native_memory_threshold",
    "disk_free_space_threshold",
    "jvm_heap_memory_threshold",
    "exclude_nodes._name",
    "allow_custom_deployment_plan",
    "enable_inhouse_python_model",
    "model_auto_redeploy.enable",
    "model_auto_redeploy.lifetime_retry_times",
    "model_auto_redeploy_success_ratio",
    "allow_registering_model_via_url",
    "allow_registering_model_via_local_file",
    "model_access_control_enabled",
    "connector_access_control_enabled",
    "trusted_connector_endpoints_regex",
    "trusted_connector_private_endpoints_regex",
    "task_dispatcher.eligible_node_role.remote_model",
    "task_dispatcher.eligible_node_role.local_model",
    "remote_inference.enabled",
    "local_model.enabled",
    "memory_feature_enabled",
    "rag_pipeline_feature_enabled",
    "agent_framework_enabled",
    "model_auto_deploy.enable",
    "connector.private_ip_enabled",
    "remote_job.status_field",
    "remote_job.status_regex.completed",
    "remote_job.status_regex.cancelled",
    "remote_job.status_regex.cancelling",
    "remote_job.status_regex.expired",
    "remote_job.status_regex.failed",
    "controller_enabled",
    "offline_batch_ingestion_enabled",
    "offline_batch_inference_enabled",
    "max_batch_inference_tasks",
    "max_batch_ingestion_tasks",
    "batch_ingestion_bulk_size",
    "safe_delete_model",
    "mcp_connector_enabled",
    "mcp_server_enabled",
    "metrics_static_collection_enabled",
    "execute_tools_enabled",
    "agentic_memory_enabled",
    "remote_agentic_memory_enabled",
    "memory.retention_enabled",
    "index_insight_feature_enabled",
    "stream_enabled",
    "max_json_size",
    "unified_agent_api_enabled",
    "agentic_search_template_enabled",
    "mcp_header_passthrough_enabled",
    "ag_ui_enabled",
    "memory.retention_job_interval_hours",
    "memory.retention_job_throttle_seconds",
    "memory.orphan_ttl_days",
    "memory.working_memory_ttl_days",
    "memory.default_session_retention_days",
    "memory.default_session_max_count",
    "memory.default_long_term_max_count",
    "memory.default_history_max_count",
)
HEAD_STATIC = ("multi_tenancy_enabled", "master_key_cache_ttl_minutes")
HEAD_FINAL = (
    "connector.restricted_ip_patterns",
    "remote_metadata_type",
    "remote_metadata_endpoint",
    "remote_metadata_region",
    "remote_metadata_service_name",
    "metrics_collection_enabled",
    "global_tenant_id",
    "remote_metadata_global_resource_cache_ttl",
)
# Values every dynamic key takes, chosen apart from the defaults so that the echo proves the write.
VALUES = {
    bool: lambda default: not default,
    int: lambda default: default + 1 if default != 10 else 9,
    float: lambda default: 0.5,
    str: lambda default: "10gb" if default == "5gb" else "least_load" if default == "round_robin" else "x",
    tuple: lambda default: ["^https://example\\.com/.*$"],
}


def _value(key: str) -> object:
    definition = REGISTRY[PREFIX + key]
    return VALUES[definition.kind](definition.default)


async def test_every_head_setting_is_accepted_and_echoed(client: httpx.AsyncClient) -> None:
    body = {PREFIX + key: _value(key) for key in HEAD_DYNAMIC}
    response = await client.put("/_cluster/settings", json={"persistent": body})
    assert response.status_code == 200, response.text
    flat = (await client.get("/_cluster/settings?flat_settings=true")).json()["persistent"]
    for key, value in body.items():
        expected = (
            value
            if isinstance(value, list)
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        )
        assert flat[key] == expected, key
    defaults = (await client.get("/_cluster/settings?include_defaults=true&flat_settings=true")).json()
    for key in (*HEAD_STATIC, *HEAD_FINAL):
        assert PREFIX + key in defaults["defaults"], key


async def test_static_and_final_head_settings_are_refused_as_opensearch_does(
    client: httpx.AsyncClient,
) -> None:
    for key in HEAD_STATIC:
        response = await client.put("/_cluster/settings", json={"persistent": {PREFIX + key: _value(key)}})
        assert_error(
            response,
            400,
            "illegal_argument_exception",
            f"persistent setting [{PREFIX}{key}], not dynamically updateable",
        )
    for key in HEAD_FINAL:
        response = await client.put("/_cluster/settings", json={"transient": {PREFIX + key: "x"}})
        assert_error(
            response,
            400,
            "illegal_argument_exception",
            f"final transient setting [{PREFIX}{key}], not updateable",
        )


async def test_settings_without_effect_are_still_typed(client: httpx.AsyncClient) -> None:
    for key, value, cause in (
        (
            "allow_registering_model_via_url",
            "maybe",
            "Failed to parse value [maybe] as only [true] or [false] are allowed.",
        ),
        (
            "batch_ingestion_bulk_size",
            99,
            f"Failed to parse value [99] for setting [{PREFIX}batch_ingestion_bulk_size] must be >= 100",
        ),
        (
            "memory.default_history_max_count",
            -2,
            f"Failed to parse value [-2] for setting [{PREFIX}memory.default_history_max_count] must be >= -1",
        ),
        (
            "disk_free_space_threshold",
            "5 parsecs",
            f"failed to parse setting [{PREFIX}disk_free_space_threshold] with value [5 parsecs] as a size in "
            "bytes: unit is missing or unrecognized",
        ),
    ):
        response = await client.put("/_cluster/settings", json={"persistent": {PREFIX + key: value}})
        body = assert_error(response, 400, "illegal_argument_exception")
        assert body["error"]["caused_by"]["reason"] == cause, key
    # ML Commons' integration tests start with exactly this.
    setup = {
        "persistent": {
            f"{PREFIX}allow_registering_model_via_url": True,
            f"{PREFIX}allow_registering_model_via_local_file": True,
        }
    }
    response = await client.put("/_cluster/settings", json=setup)
    assert response.status_code == 200
    assert response.json()["persistent"] == {
        "plugins": {
            "ml_commons": {
                "allow_registering_model_via_url": "true",
                "allow_registering_model_via_local_file": "true",
            }
        }
    }


def test_settings_without_effect_are_documented() -> None:
    text = CONFIGURATION_DOC.read_text()
    missing = [key for key, d in REGISTRY.items() if d.inert and f"`{key.removeprefix(PREFIX)}`" not in text]
    assert missing == []
