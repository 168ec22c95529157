"""Models: register (standalone and inline connector), get, search, update, delete, deploy, undeploy."""

from __future__ import annotations

import httpx
import pytest

from mlgate.mockprovider import MockProvider
from tests.api.fixtures import MESSAGES, chat_connector
from tests.conftest import assert_error

M = "/_plugins/_ml/models"


async def connector(client: httpx.AsyncClient, provider: MockProvider) -> str:
    response = await client.post("/_plugins/_ml/connectors/_create", json=chat_connector(provider.url))
    assert response.status_code == 200, response.text
    return response.json()["connector_id"]


async def register(client: httpx.AsyncClient, body: dict, query: str = "") -> dict:
    response = await client.post(f"{M}/_register{query}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_register_creates_group_and_versions(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    connector_id = await connector(loopback, provider)
    first = await register(
        loopback, {"name": "chat", "function_name": "remote", "connector_id": connector_id}
    )
    second = await register(
        loopback, {"name": "chat", "function_name": "REMOTE", "connector_id": connector_id}
    )
    a = (await loopback.get(f"{M}/{first['model_id']}")).json()
    b = (await loopback.get(f"{M}/{second['model_id']}")).json()
    assert a["model_group_id"] == b["model_group_id"]
    assert (a["model_version"], b["model_version"]) == ("1", "2")
    assert (
        a["model_state"] == "REGISTERED" and a["algorithm"] == "REMOTE" and a["connector_id"] == connector_id
    )
    group = (await loopback.get(f"/_plugins/_ml/model_groups/{a['model_group_id']}")).json()
    assert group["name"] == "chat" and group["latest_version"] == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"name": "x"}, "model format is null"),
        ({"name": "x", "function_name": "magic"}, "Wrong function name"),
        ({"function_name": "remote"}, "model name is null"),
        (
            {"name": "x", "function_name": "remote"},
            "You must provide connector content when creating a remote model without connector id!",
        ),
        (
            {
                "name": "x",
                "function_name": "remote",
                "connector": {"name": "c", "protocol": "http", "actions": []},
            },
            "Connector endpoint is required when creating a remote model without connector id!",
        ),
    ],
)
async def test_register_refusals(client: httpx.AsyncClient, body: dict, reason: str) -> None:
    assert_error(await client.post(f"{M}/_register", json=body), 400, "illegal_argument_exception", reason)


async def test_register_unknown_connector_and_group(client: httpx.AsyncClient) -> None:
    assert_error(
        await client.post(
            f"{M}/_register", json={"name": "x", "function_name": "remote", "connector_id": "nope"}
        ),
        404,
        "status_exception",
        "Failed to find connector:nope",
    )
    assert_error(
        await client.post(
            f"{M}/_register",
            json={"name": "x", "function_name": "remote", "connector_id": "c", "model_group_id": "nope"},
        ),
        404,
        "m_l_resource_not_found_exception",
        "Model Group Response is empty for nope",
    )


async def test_inline_connector_url_checked(client: httpx.AsyncClient, provider: MockProvider) -> None:
    body = {"name": "x", "function_name": "remote", "connector": chat_connector(provider.url)}
    assert_error(
        await client.post(f"{M}/_register", json=body),
        400,
        "illegal_argument_exception",
        "Connector URL is not matching the trusted connector endpoint regex",
    )


async def test_deploy_undeploy_delete_lifecycle(
    loopback: httpx.AsyncClient, provider: MockProvider, node
) -> None:
    connector_id = await connector(loopback, provider)
    model_id = (
        await register(loopback, {"name": "life", "function_name": "remote", "connector_id": connector_id})
    )["model_id"]
    deploy = await loopback.post(f"{M}/{model_id}/_deploy")
    assert deploy.json()["status"] == "COMPLETED"
    model = (await loopback.get(f"{M}/{model_id}")).json()
    assert model["model_state"] == "DEPLOYED"
    assert model["planning_worker_node_count"] == 1 and model["current_worker_node_count"] == 1
    node_id = node.services.env.node_id
    assert model["planning_worker_nodes"] == [node_id]
    assert_error(
        await loopback.delete(f"{M}/{model_id}"),
        400,
        "status_exception",
        "Model cannot be deleted in deploying or deployed state. Try undeploy model first then delete",
    )
    assert_error(
        await loopback.put(f"/_plugins/_ml/connectors/{connector_id}", json={"description": "changed"}),
        400,
        "status_exception",
        f"1 models are still using this connector, please undeploy the models first: [{model_id}]",
    )
    undeploy = await loopback.post(f"{M}/{model_id}/_undeploy")
    assert undeploy.json() == {node_id: {"stats": {model_id: "undeployed"}}}
    assert (await loopback.get(f"{M}/{model_id}")).json()["model_state"] == "UNDEPLOYED"
    deleted = await loopback.delete(f"{M}/{model_id}")
    assert deleted.json()["result"] == "deleted"
    assert_error(
        await loopback.get(f"{M}/{model_id}"),
        404,
        "status_exception",
        f"Failed to find model with the provided model id: {model_id}",
    )


async def test_bulk_undeploy_and_errors(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    assert_error(
        await loopback.post(f"{M}/_undeploy", json={}),
        400,
        "illegal_argument_exception",
        "Must set specific model ids to undeploy",
    )
    assert_error(await loopback.post(f"{M}/nope/_deploy"), 404, "status_exception", "Failed to find model")
    assert_error(await loopback.post(f"{M}/x/_deploy", json={"node_ids": ["n"]}), 404, "status_exception")


async def test_custom_plan_refused(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    connector_id = await connector(loopback, provider)
    model_id = (
        await register(loopback, {"name": "plan", "function_name": "remote", "connector_id": connector_id})
    )["model_id"]
    assert_error(
        await loopback.post(f"{M}/{model_id}/_deploy", json={"node_ids": ["other"]}),
        400,
        "illegal_argument_exception",
        "Don't allow custom deployment plan",
    )


async def test_update_model(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    connector_id = await connector(loopback, provider)
    model_id = (
        await register(loopback, {"name": "upd", "function_name": "remote", "connector_id": connector_id})
    )["model_id"]
    response = await loopback.put(
        f"{M}/{model_id}", json={"description": "new", "rate_limiter": {"limit": "5", "unit": "SECONDS"}}
    )
    assert response.json()["result"] == "updated"
    model = (await loopback.get(f"{M}/{model_id}")).json()
    assert model["description"] == "new" and model["rate_limiter"] == {"limit": "5", "unit": "SECONDS"}
    assert_error(
        await loopback.put(f"{M}/{model_id}", json={"connector": {"name": "x"}, "connector_id": "y"}),
        400,
        "illegal_argument_exception",
        "Model cannot have both stand-alone connector and internal connector. Please check your update input body.",
    )
    assert_error(
        await loopback.put(f"{M}/{model_id}", json={"connector": {"description": "x"}}),
        400,
        "illegal_argument_exception",
        "Cannot update connector settings for this model. The model was created with a connector_id and does "
        "not have an inline connector.",
    )
    assert_error(
        await loopback.put(f"{M}/{model_id}", json={"rate_limiter": {"limit": "-1"}}),
        400,
        "parse_exception",
        "Limit field must be a positive number.",
    )
    assert_error(
        await loopback.put(f"{M}/nope", json={"description": "x"}),
        404,
        "status_exception",
        "Failed to find model to update with the provided model id: nope",
    )


async def test_search_models(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    connector_id = await connector(loopback, provider)
    inline = {"name": "inline", "function_name": "remote", "connector": chat_connector(provider.url)}
    await register(loopback, inline)
    await register(loopback, {"name": "standalone", "function_name": "remote", "connector_id": connector_id})
    hits = (
        await loopback.post(f"{M}/_search", json={"query": {"term": {"algorithm": "REMOTE"}}, "size": 100})
    ).json()
    sources = [h["_source"] for h in hits["hits"]["hits"]]
    assert {s["name"] for s in sources} == {"inline", "standalone"}
    assert all("credential" not in (s.get("connector") or {}) for s in sources)
    by_connector = (
        await loopback.post(f"{M}/_search", json={"query": {"term": {"connector_id": connector_id}}})
    ).json()
    assert [h["_source"]["name"] for h in by_connector["hits"]["hits"]] == ["standalone"]


async def test_auto_deploy_on_predict_and_disabled(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    connector_id = await connector(loopback, provider)
    model_id = (
        await register(loopback, {"name": "auto", "function_name": "remote", "connector_id": connector_id})
    )["model_id"]
    response = await loopback.post(f"{M}/{model_id}/_predict", json={"parameters": {"messages": MESSAGES}})
    assert response.status_code == 200, response.text
    assert (await loopback.get(f"{M}/{model_id}")).json()["model_state"] == "DEPLOYED"
    await loopback.put(f"{M}/{model_id}", json={"is_enabled": False})
    assert_error(
        await loopback.post(f"{M}/{model_id}/_predict", json={"parameters": {"messages": MESSAGES}}),
        403,
        "status_exception",
        "Model is disabled.",
    )


async def test_no_auto_deploy(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    connector_id = await connector(loopback, provider)
    model_id = (
        await register(
            loopback,
            {
                "name": "manual",
                "function_name": "remote",
                "connector_id": connector_id,
                "deploy_setting": {"is_auto_deploy_enabled": False},
            },
        )
    )["model_id"]
    assert_error(
        await loopback.post(f"{M}/{model_id}/_predict", json={"parameters": {"messages": MESSAGES}}),
        400,
        "illegal_argument_exception",
        f"Auto deployment disabled for this model, please deploy model first Model ID: {model_id}",
    )
    await loopback.put(
        "/_cluster/settings", json={"persistent": {"plugins.ml_commons.model_auto_deploy.enable": False}}
    )
    other = (
        await register(loopback, {"name": "manual2", "function_name": "remote", "connector_id": connector_id})
    )["model_id"]
    assert_error(
        await loopback.post(f"{M}/{other}/_predict", json={"parameters": {"messages": MESSAGES}}),
        400,
        "illegal_argument_exception",
        "Model not ready yet. Please deploy the model first.",
    )
    assert_error(
        await loopback.post(f"{M}/unknown/_predict", json={}), 404, "status_exception", "Failed to find model"
    )


async def test_register_stores_preset_interface(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    connector = {
        "name": "titan",
        "version": "1",
        "protocol": "aws_sigv4",
        "parameters": {
            "region": "us-east-1",
            "service_name": "bedrock",
            "model": "amazon.titan-embed-text-v1",
        },
        "credential": {"access_key": "AKIDEXAMPLE", "secret_key": "secret-for-preset-test"},
        "actions": [
            {
                "action_type": "predict",
                "method": "POST",
                "url": f"{provider.url}/model/amazon.titan-embed-text-v1/invoke",
                "request_body": '{ "inputText": "${parameters.inputText}" }',
                "pre_process_function": "connector.pre_process.bedrock.embedding",
                "post_process_function": "connector.post_process.bedrock.embedding",
            }
        ],
    }
    model_id = (
        await register(loopback, {"name": "titan", "function_name": "remote", "connector": connector})
    )["model_id"]
    interface = (await loopback.get(f"{M}/{model_id}")).json()["interface"]
    assert set(interface) == {"input", "output"}
    assert '"inputText"' in interface["input"]
    explicit = await register(
        loopback, {"name": "titan2", "function_name": "remote", "connector": connector, "interface": {}}
    )
    # An interface given at register, even empty, is kept as given: no preset.
    assert (await loopback.get(f"{M}/{explicit['model_id']}")).json()["interface"] == {}
