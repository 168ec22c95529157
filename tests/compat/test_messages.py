"""ML Commons' exact error messages (docs/compatibility.md, "Error messages"), provoked through the REST API.

Each case asserts status, OpenSearch ``type`` and the exact ``reason``; docs/compatibility.md lists which
test covers which message.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from mlgate.bootstrap import Node
from mlgate.mockprovider import MockProvider
from tests.api.fixtures import MESSAGES, chat_connector, embedding_connector
from tests.conftest import assert_error

ML = "/_plugins/_ml"
IAE = "illegal_argument_exception"


async def create_connector(client: httpx.AsyncClient, body: dict[str, Any]) -> str:
    response = await client.post(f"{ML}/connectors/_create", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["connector_id"])


async def register(client: httpx.AsyncClient, body: dict[str, Any], query: str = "") -> str:
    response = await client.post(f"{ML}/models/_register{query}", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["model_id"])


async def put_settings(client: httpx.AsyncClient, settings: dict[str, Any]) -> None:
    response = await client.put("/_cluster/settings", json={"persistent": settings})
    assert response.status_code == 200, response.text


def with_action(base_url: str, **action: Any) -> dict[str, Any]:
    """The chat connector with its single action changed."""
    body = chat_connector(base_url)
    body["actions"][0].update(action)
    return body


# --- connector create: validation messages (MLCreateConnectorInput, ConnectorAction) -----------------

ACTION_NAME_CASES = [
    (
        "PREDICT",
        "name can't be one of action type [PREDICT, EXECUTE, BATCH_PREDICT, CANCEL_BATCH_PREDICT, BATCH_PREDICT_STATUS]",
    ),
    (
        "has space",
        "Action name contains invalid characters. Only alphanumeric characters, hyphens, and underscores are allowed",
    ),
    ("a" * 65, "Action name exceeds maximum length of 64 characters"),
    ("bad\u0007name", "Action name must not contain control characters"),
]


@pytest.mark.parametrize(("name", "reason"), ACTION_NAME_CASES)
async def test_action_name_rules(
    loopback: httpx.AsyncClient, provider: MockProvider, name: str, reason: str
) -> None:
    body = with_action(provider.url, name=name)
    assert_error(await loopback.post(f"{ML}/connectors/_create", json=body), 400, IAE, reason)


async def test_mcp_connector_without_url(loopback: httpx.AsyncClient) -> None:
    await put_settings(loopback, {"plugins.ml_commons.mcp_connector_enabled": True})
    body = {"name": "mcp", "version": "1", "protocol": "mcp_sse", "credential": {"k": "v"}}
    assert_error(
        await loopback.post(f"{ML}/connectors/_create", json=body),
        400,
        IAE,
        "MCP Connector url is null or blank",
    )


async def test_trusted_regex_not_configured(client: httpx.AsyncClient, provider: MockProvider) -> None:
    await put_settings(client, {"plugins.ml_commons.trusted_connector_endpoints_regex": []})
    assert_error(
        await client.post(f"{ML}/connectors/_create", json=chat_connector(provider.url)),
        400,
        IAE,
        "Trusted connector endpoints regex is not configured. "
        "Please set plugins.ml_commons.trusted_connector_endpoints_regex.",
    )


# --- feature flags (MLExceptionUtils) ----------------------------------------------------------------

REMOTE_DISABLED = (
    "Remote Inference is currently disabled. To enable it, update the setting "
    '"plugins.ml_commons.remote_inference_enabled" to true.'
)


async def test_remote_inference_disabled(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    connector_id = await create_connector(loopback, chat_connector(provider.url))
    model_id = await register(
        loopback, {"name": "m", "function_name": "remote", "connector_id": connector_id}
    )
    await put_settings(loopback, {"plugins.ml_commons.remote_inference.enabled": False})
    calls = [
        loopback.post(f"{ML}/connectors/_create", json=chat_connector(provider.url)),
        loopback.post(
            f"{ML}/models/_register",
            json={"name": "n", "function_name": "remote", "connector_id": connector_id},
        ),
        loopback.post(f"{ML}/models/{model_id}/_deploy"),
        loopback.post(f"{ML}/models/{model_id}/_predict", json={"parameters": {"messages": MESSAGES}}),
    ]
    for call in calls:
        assert_error(await call, 400, "status_exception", REMOTE_DISABLED)


async def test_local_model_disabled(client: httpx.AsyncClient) -> None:
    body = {"name": "local", "function_name": "text_embedding", "model_format": "TORCH_SCRIPT"}
    assert_error(
        await client.post(f"{ML}/models/_register", json=body),
        400,
        "status_exception",
        "Local Model is currently disabled. To enable it, update the setting "
        '"plugins.ml_commons.local_model.enabled" to true.',
    )


# --- model groups (DeleteModelGroupTransportAction) --------------------------------------------------


async def test_delete_group_with_models(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    connector_id = await create_connector(loopback, chat_connector(provider.url))
    model_id = await register(
        loopback, {"name": "m", "function_name": "remote", "connector_id": connector_id}
    )
    group_id = (await loopback.get(f"{ML}/models/{model_id}")).json()["model_group_id"]
    assert_error(
        await loopback.delete(f"{ML}/model_groups/{group_id}"),
        409,
        "status_exception",
        "Cannot delete the model group when it has associated model versions",
    )


# --- models: register / update (TransportRegisterModelAction, UpdateModelTransportAction) ------------


async def test_register_from_mcp_connector(loopback: httpx.AsyncClient) -> None:
    await put_settings(loopback, {"plugins.ml_commons.mcp_connector_enabled": True})
    connector_id = await create_connector(
        loopback,
        {
            "name": "mcp",
            "version": "1",
            "protocol": "mcp_sse",
            "url": "http://127.0.0.1:9/",
            "credential": {"k": "v"},
        },
    )
    assert_error(
        await loopback.post(
            f"{ML}/models/_register",
            json={"name": "m", "function_name": "remote", "connector_id": connector_id},
        ),
        400,
        IAE,
        f"Cannot Create a Model from MCP Connector: {connector_id}",
    )


EMBEDDING_CONFIG_CASES = [
    (
        {"model_type": "text_embedding"},
        "Embedding dimension must be provided for remote text embedding model",
    ),
    (
        {"model_type": "text_embedding", "embedding_dimension": 8},
        "Framework type must be provided for remote text embedding model",
    ),
    (
        {"model_type": "text_embedding", "embedding_dimension": 8, "framework_type": "SENTENCE_TRANSFORMERS"},
        "Space type must be provided in additional_config for remote text embedding model",
    ),
]


@pytest.mark.parametrize(("model_config", "reason"), EMBEDDING_CONFIG_CASES)
async def test_update_embedding_model_config(
    loopback: httpx.AsyncClient, provider: MockProvider, model_config: dict[str, Any], reason: str
) -> None:
    connector_id = await create_connector(loopback, embedding_connector(provider.url))
    model_id = await register(
        loopback, {"name": "e", "function_name": "remote", "connector_id": connector_id}
    )
    assert_error(
        await loopback.put(f"{ML}/models/{model_id}", json={"model_config": model_config}), 400, IAE, reason
    )


async def test_update_model_refusals(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    connector_id = await create_connector(loopback, chat_connector(provider.url))
    inline_id = await register(
        loopback, {"name": "inline", "function_name": "remote", "connector": chat_connector(provider.url)}
    )
    assert_error(
        await loopback.put(
            f"{ML}/models/{inline_id}", content=b"", headers={"content-type": "application/json"}
        ),
        400,
        "parse_exception",
        "Update model request has empty body",
    )
    assert_error(
        await loopback.put(f"{ML}/models/{inline_id}", json={"connector_id": connector_id}),
        400,
        IAE,
        "This remote does not have a connector_id field, maybe it uses an internal connector.",
    )
    assert_error(
        await loopback.put(f"{ML}/models/{inline_id}", json={"model_group_id": "no-such-group"}),
        404,
        "status_exception",
        "Failed to find the model group with the provided model group id in the update model input, "
        "MODEL_GROUP_ID: no-such-group",
    )


# --- predict (MLPredictTaskRunner, RemoteConnectorExecutor, ConnectorUtils) --------------------------


async def predict_error(
    client: httpx.AsyncClient, connector: dict[str, Any], body: dict[str, Any], algorithm: str | None = None
) -> httpx.Response:
    connector_id = await create_connector(client, connector)
    model_id = await register(
        client, {"name": "p", "function_name": "remote", "connector_id": connector_id}, "?deploy=true"
    )
    if algorithm is None:
        return await client.post(f"{ML}/models/{model_id}/_predict", json=body)
    return await client.post(f"{ML}/_predict/{algorithm}/{model_id}", json=body)


CHAT = {"parameters": {"messages": MESSAGES}}


def _execute_only(url: str) -> dict[str, Any]:
    return with_action(url, action_type="execute")


def _patch(url: str) -> dict[str, Any]:
    return with_action(url, method="PATCH")


def _no_body(url: str) -> dict[str, Any]:
    body = chat_connector(url)
    del body["actions"][0]["request_body"]
    return body


def _bad_uri(url: str) -> dict[str, Any]:
    return with_action(url, url=url + "/v1/${parameters.path}")


PREDICT_CASES = [
    (_execute_only, CHAT, None, 400, IAE, "no PREDICT action found"),
    (_patch, CHAT, None, 400, IAE, "unsupported http method"),
    (_no_body, CHAT, None, 400, IAE, "Content length is 0. Aborting request to remote model"),
]


@pytest.mark.parametrize(("make", "body", "algorithm", "status", "error_type", "reason"), PREDICT_CASES)
async def test_predict_messages(
    loopback: httpx.AsyncClient,
    provider: MockProvider,
    make: Any,
    body: dict[str, Any],
    algorithm: str | None,
    status: int,
    error_type: str,
    reason: str,
) -> None:
    response = await predict_error(loopback, make(provider.url), body, algorithm)
    assert_error(response, status, error_type, reason)


async def test_uri_error(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    connector = with_action(provider.url, url="http://127.0.0.1:99999/${parameters.path}")
    response = await predict_error(loopback, connector, {"parameters": {"messages": MESSAGES, "path": "x y"}})
    body = assert_error(response, 400, IAE)
    assert body["error"]["reason"].startswith(
        "Encountered error when trying to create uri from endpoint in ml connector. "
        "Please update the endpoint in connection configuration: "
    )


async def test_similarity_without_pre_process(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    connector = chat_connector(provider.url)
    response = await predict_error(
        loopback, connector, {"query_text": "q", "text_docs": ["a"]}, algorithm="text_similarity"
    )
    assert_error(response, 400, IAE, "pre_process_function not defined in connector")


async def test_pre_process_script_returns_null(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    connector = copy.deepcopy(embedding_connector(provider.url))
    connector["actions"][0]["pre_process_function"] = "return null;"
    response = await predict_error(loopback, connector, {"text_docs": ["a"]}, algorithm="text_embedding")
    assert_error(response, 400, IAE, "Preprocess function output is null")


INPUT_SCHEMA = (
    '{"type": "object", "properties": {"parameters": {"type": "object", "required": ["messages"]}}, '
    '"required": ["parameters"]}'
)


async def test_input_schema(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    model_id = await register(
        loopback,
        {
            "name": "schema",
            "function_name": "remote",
            "connector": chat_connector(provider.url),
            "interface": {"input": INPUT_SCHEMA},
        },
        "?deploy=true",
    )
    response = await loopback.post(f"{ML}/models/{model_id}/_predict", json={"parameters": {"x": "y"}})
    body = assert_error(response, 400, "status_exception")
    assert body["error"]["reason"].startswith(
        "Error validating input schema, if you think this is expected, please update your 'input' field in "
        "the 'interface' field for this model: "
    )


async def test_output_schema(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    model_id = await register(
        loopback,
        {
            "name": "out-schema",
            "function_name": "remote",
            "connector": chat_connector(provider.url),
            "interface": {"output": '{"type": "object", "required": ["not_in_any_answer"]}'},
        },
        "?deploy=true",
    )
    response = await loopback.post(f"{ML}/models/{model_id}/_predict", json=CHAT)
    body = assert_error(response, 400, "status_exception")
    assert body["error"]["reason"].startswith(
        "Error validating output schema, if you think this is expected, please update your 'output' field in "
        "the 'interface' field for this model: "
    )


@pytest.fixture
async def scalar_provider() -> AsyncIterator[str]:
    """A provider on 127.0.0.1 whose every answer is the JSON string ``"just text"`` (not object/array)."""

    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=b'"just text"', content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_scalar_response(loopback: httpx.AsyncClient, scalar_provider: str) -> None:
    response = await predict_error(loopback, chat_connector(scalar_provider), CHAT)
    assert_error(response, 400, IAE, "Unsupported response type")


async def test_no_eligible_node(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    await put_settings(loopback, {"plugins.ml_commons.allow_custom_deployment_plan": True})
    connector_id = await create_connector(loopback, chat_connector(provider.url))
    model_id = await register(
        loopback, {"name": "m", "function_name": "remote", "connector_id": connector_id}
    )
    assert_error(
        await loopback.post(f"{ML}/models/{model_id}/_deploy", json={"node_ids": ["no-such-node"]}),
        400,
        IAE,
        "no eligible node found",
    )


async def test_deployed_nodes_left_out_of_a_custom_plan(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    connector_id = await create_connector(loopback, chat_connector(provider.url))
    model_id = await register(
        loopback, {"name": "m", "function_name": "remote", "connector_id": connector_id}, "?deploy=true"
    )
    [serving] = (await loopback.get(f"{ML}/models/{model_id}")).json()["planning_worker_nodes"]
    await put_settings(loopback, {"plugins.ml_commons.allow_custom_deployment_plan": True})
    assert_error(
        await loopback.post(f"{ML}/models/{model_id}/_deploy", json={"node_ids": ["elsewhere"]}),
        400,
        IAE,
        f"Model already deployed to these nodes: [{serving}], but they are not included in target node ids. "
        "Undeploy model from these nodes if don't need them any more.Undeploy from old nodes before try to "
        "deploy model on new nodes. Or include all old nodes on your target nodes.",
    )
    redeployed = await loopback.post(f"{ML}/models/{model_id}/_deploy", json={"node_ids": [serving]})
    assert redeployed.status_code == 200, redeployed.text


# --- access control on models and model groups (ModelAccessControlHelper) — security on --------------

PASSWORD = "Juniper-Lantern-Quartz-4821"


@pytest.fixture
async def users(secure_node: Node, admin: httpx.AsyncClient) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """admin, owner (team_a), other (team_b), loner (no backend role), all ml_full_access; access control on."""
    await put_settings(
        admin,
        {
            "plugins.ml_commons.connector_access_control_enabled": True,
            "plugins.ml_commons.model_access_control_enabled": True,
        },
    )
    clients = {"admin": admin}
    for name, roles in (("owner", ["team_a"]), ("other", ["team_b"]), ("loner", [])):
        body = {"password": PASSWORD, "backend_roles": roles, "opendistro_security_roles": ["ml_full_access"]}
        response = await admin.put(f"/_plugins/_security/api/internalusers/{name}", json=body)
        assert response.status_code == 201, response.text
        transport = httpx.ASGITransport(app=secure_node.app)
        clients[name] = httpx.AsyncClient(
            transport=transport, base_url="http://mlgate", auth=(name, PASSWORD)
        )
    yield clients
    for name in ("owner", "other", "loner"):
        await clients[name].aclose()


async def private_model(client: httpx.AsyncClient, provider: MockProvider, name: str) -> tuple[str, str]:
    """A model in a new private group of the caller: (model id, group id)."""
    group = await client.post(f"{ML}/model_groups/_register", json={"name": name, "access_mode": "private"})
    assert group.status_code == 200, group.text
    group_id = group.json()["model_group_id"]
    connector_id = await create_connector(client, chat_connector(provider.url, access_mode="public"))
    model_id = await register(
        client,
        {"name": name, "function_name": "remote", "connector_id": connector_id, "model_group_id": group_id},
    )
    return model_id, group_id


async def test_register_into_missing_group_under_access_control(
    users: dict[str, httpx.AsyncClient], provider: MockProvider
) -> None:
    owner, admin = users["owner"], users["admin"]
    connector_id = await create_connector(owner, chat_connector(provider.url, access_mode="public"))
    body = {"name": "m", "function_name": "remote", "connector_id": connector_id, "model_group_id": "gone"}
    assert_error(
        await owner.post(f"{ML}/models/_register", json=body),
        404,
        "m_l_resource_not_found_exception",
        "Fail to find model group",
    )
    # An admin passes the access check, so the register path words it as with access control off.
    assert_error(
        await admin.post(f"{ML}/models/_register", json=body),
        404,
        "m_l_resource_not_found_exception",
        "Model Group Response is empty for gone",
    )


async def test_model_access_denials(users: dict[str, httpx.AsyncClient], provider: MockProvider) -> None:
    owner, other = users["owner"], users["other"]
    model_id, group_id = await private_model(owner, provider, "private-one")
    other_model, other_group = await private_model(other, provider, "private-two")
    connector_id = await create_connector(other, chat_connector(provider.url, access_mode="public"))
    assert_error(
        await other.post(
            f"{ML}/models/_register",
            json={"name": "private-one", "function_name": "remote", "connector_id": connector_id},
        ),
        400,
        IAE,
        "The name {private-one} you provided is unavailable because it is used by another model group with id "
        f"{{{group_id}}} to which you do not have access. Please provide a different name.",
    )
    assert_error(
        await owner.put(f"{ML}/models/{model_id}", json={"model_group_id": other_group}),
        403,
        "status_exception",
        "User Doesn't have privilege to re-link this model to the target model group due to no access to the "
        f"target model group with model group ID {other_group}",
    )
    assert_error(
        await other.post(f"{ML}/models/{model_id}/_undeploy"),
        400,
        IAE,
        f"No permission to undeploy model {model_id}",
    )
    assert_error(
        await owner.post(f"{ML}/models/_undeploy", json={"model_ids": [model_id, other_model]}),
        400,
        IAE,
        "only support undeploy one model",
    )


async def test_add_all_backend_roles_without_any(users: dict[str, httpx.AsyncClient]) -> None:
    loner = users["loner"]
    group = await loner.post(
        f"{ML}/model_groups/_register", json={"name": "lonely", "access_mode": "private"}
    )
    assert group.status_code == 200, group.text
    group_id = group.json()["model_group_id"]
    assert_error(
        await loner.put(
            f"{ML}/model_groups/{group_id}", json={"access_mode": "restricted", "add_all_backend_roles": True}
        ),
        400,
        IAE,
        "You don't have any backend roles.",
    )
