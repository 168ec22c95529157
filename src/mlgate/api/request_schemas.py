"""JSON Schemas of the request bodies, keyed by handler, for the OpenAPI document (api/openapi.py).

Loose on purpose: they name the fields a body carries and their JSON types so that a client (or the fuzz
layer in tests/fuzz/) can build plausible bodies, and they allow any other field. The handlers and the
domain validation stay the authority on what is accepted and on the error messages.
"""

from __future__ import annotations

from typing import Any

from mlgate.api.handlers import batch, cluster, controllers, ml_stats, mlgate, nodes, resources, security

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
BOOLEAN: Schema = {"type": "boolean"}
INTEGER: Schema = {"type": "integer"}
STRINGS: Schema = {"type": "array", "items": STRING}
ANY_OBJECT: Schema = {"type": "object"}


def obj(**properties: Schema) -> Schema:
    """An object with these (optional) fields, open to others."""
    return {"type": "object", "properties": properties}


ACCESS = obj(
    backend_roles=STRINGS,
    add_all_backend_roles=BOOLEAN,
    access_mode={"type": "string", "enum": ["public", "private", "restricted"]},
)
RATE_LIMITER = obj(limit={"type": ["string", "number"]}, unit=STRING)
ACTION = obj(
    action_type=STRING,
    method=STRING,
    url=STRING,
    headers={"type": "object", "additionalProperties": STRING},
    request_body=STRING,
    pre_process_function=STRING,
    post_process_function=STRING,
)
CONNECTOR = obj(
    name=STRING,
    description=STRING,
    version={"type": ["string", "integer"]},
    protocol={"type": "string", "enum": ["http", "aws_sigv4"]},
    parameters=ANY_OBJECT,
    credential={"type": "object", "additionalProperties": STRING},
    actions={"type": "array", "items": ACTION},
    client_config=obj(
        max_connection=INTEGER,
        connection_timeout=INTEGER,
        read_timeout=INTEGER,
        retry_backoff_policy=STRING,
        max_retry_times=INTEGER,
    ),
    **ACCESS["properties"],
)
MODEL = obj(
    name=STRING,
    function_name=STRING,
    description=STRING,
    model_group_id=STRING,
    connector_id=STRING,
    connector=CONNECTOR,
    is_enabled=BOOLEAN,
    rate_limiter=RATE_LIMITER,
    guardrails=ANY_OBJECT,
    interface=obj(input=STRING, output=STRING),
    deploy_setting=obj(is_auto_deploy_enabled=BOOLEAN, model_ttl_minutes=INTEGER),
    **ACCESS["properties"],
)
MODEL_GROUP = obj(name=STRING, description=STRING, **ACCESS["properties"])
SEARCH = obj(
    query=ANY_OBJECT,
    size=INTEGER,
    **{"from": INTEGER},
    sort={"type": ["array", "object", "string"]},
    _source={"type": ["boolean", "array", "object", "string"]},
    track_total_hits={"type": ["boolean", "integer"]},
)
PREDICT = obj(parameters=ANY_OBJECT, text_docs=STRINGS, return_number=BOOLEAN, target_response=STRINGS)
CONTROLLER = obj(user_rate_limiter={"type": "object", "additionalProperties": RATE_LIMITER})
PROFILE = obj(node_ids=STRINGS, model_ids=STRINGS, task_ids=STRINGS, return_all_tasks=BOOLEAN)
SETTINGS = obj(persistent=ANY_OBJECT, transient=ANY_OBJECT)
USER = obj(
    password=STRING,
    hash=STRING,
    backend_roles=STRINGS,
    opendistro_security_roles=STRINGS,
    attributes={"type": "object", "additionalProperties": STRING},
    description=STRING,
)
ROLE = obj(
    description=STRING,
    cluster_permissions=STRINGS,
    index_permissions={"type": "array", "items": obj(index_patterns=STRINGS, allowed_actions=STRINGS)},
    tenant_permissions={"type": "array", "items": ANY_OBJECT},
)
ROLES_MAPPING = obj(
    users=STRINGS, backend_roles=STRINGS, and_backend_roles=STRINGS, hosts=STRINGS, description=STRING
)

# RFC 6902, as the Security REST API's PATCH takes it.
JSON_PATCH: Schema = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "op": {"type": "string", "enum": ["add", "remove", "replace", "move", "copy", "test"]},
            "path": STRING,
            "from": STRING,
            "value": {},
        },
    },
}

# Handlers that read a body; every other route takes none.
REQUEST_BODIES: dict[object, Schema] = {
    cluster.put_settings: SETTINGS,
    resources.register_model_group: MODEL_GROUP,
    resources.update_model_group: MODEL_GROUP,
    resources.search_model_groups: SEARCH,
    resources.create_connector: CONNECTOR,
    resources.update_connector: CONNECTOR,
    resources.search_connectors: SEARCH,
    resources.register_model: MODEL,
    resources.update_model: MODEL,
    resources.search_models: SEARCH,
    resources.search_tasks: SEARCH,
    resources.deploy_model: obj(node_ids=STRINGS),
    resources.undeploy_models: obj(model_ids=STRINGS, node_ids=STRINGS),
    resources.predict: PREDICT,
    resources.predict_algorithm: PREDICT,
    batch.batch_predict: PREDICT,
    controllers.create_controller: CONTROLLER,
    controllers.update_controller: CONTROLLER,
    ml_stats.profile: PROFILE,
    ml_stats.profile_models: PROFILE,
    ml_stats.profile_tasks: PROFILE,
    mlgate.render_inline_connector: obj(connector=CONNECTOR, parameters=ANY_OBJECT),
    mlgate.render_connector: obj(parameters=ANY_OBJECT),
    mlgate.render_model: PREDICT,
    mlgate.explain_egress: obj(url=STRING),
    nodes.internal_predict: PREDICT,
    security.put_account: obj(current_password=STRING, password=STRING),
    security.put_user: USER,
    security.put_role: ROLE,
    security.put_mapping: ROLES_MAPPING,
    security.patch_users: JSON_PATCH,
    security.patch_user: JSON_PATCH,
    security.patch_roles: JSON_PATCH,
    security.patch_role: JSON_PATCH,
    security.patch_mappings: JSON_PATCH,
    security.patch_mapping: JSON_PATCH,
}


def body_schema(handler: object) -> Schema | None:
    """The body schema of ``handler`` or of the handler it wraps (e.g. a legacy-path alias)."""
    while handler is not None:
        schema = REQUEST_BODIES.get(handler)
        if schema is not None:
            return schema
        handler = getattr(handler, "__wrapped__", None)
    return None
