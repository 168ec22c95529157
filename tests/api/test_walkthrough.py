"""The documented remote-model walkthrough, end to end, with the documented bodies.

Steps: cluster settings → model group → connector → register → deploy (task) → predict. Only the
provider URL changes (the mock provider on loopback instead of api.openai.com).
"""

from __future__ import annotations

import httpx

from mlgate.mockprovider import MockProvider
from tests.conftest import LOOPBACK_TRUSTED


async def test_openai_chat_walkthrough(client: httpx.AsyncClient, provider: MockProvider) -> None:
    # 1. Cluster settings: trust the provider's endpoint.
    settings = await client.put(
        "/_cluster/settings",
        json={
            "persistent": {
                "plugins.ml_commons.trusted_connector_endpoints_regex": [LOOPBACK_TRUSTED],
                "plugins.ml_commons.connector.private_ip_enabled": True,
                "plugins.ml_commons.only_run_on_ml_node": False,
            }
        },
    )
    assert settings.status_code == 200
    assert settings.json() == {
        "acknowledged": True,
        "persistent": {
            "plugins": {
                "ml_commons": {
                    "trusted_connector_endpoints_regex": [LOOPBACK_TRUSTED],
                    "connector": {"private_ip_enabled": "true"},
                    "only_run_on_ml_node": "false",
                }
            }
        },
        "transient": {},
    }

    # 2. Model group.
    group = await client.post(
        "/_plugins/_ml/model_groups/_register",
        json={"name": "remote_model_group", "description": "A model group for external models"},
    )
    assert group.status_code == 200
    assert group.json()["status"] == "CREATED"
    group_id = group.json()["model_group_id"]
    assert len(group_id) == 20

    # 3. Connector (the docs' OpenAI chat connector).
    connector = await client.post(
        "/_plugins/_ml/connectors/_create",
        json={
            "name": "OpenAI Chat Connector",
            "description": "The connector to public OpenAI model service for GPT 3.5",
            "version": 1,
            "protocol": "http",
            "parameters": {"endpoint": provider.url.removeprefix("http://"), "model": "gpt-3.5-turbo"},
            "credential": {"openAI_key": "sk-walkthrough-secret-0001"},
            "actions": [
                {
                    "action_type": "predict",
                    "method": "POST",
                    "url": "http://${parameters.endpoint}/v1/chat/completions",
                    "headers": {"Authorization": "Bearer ${credential.openAI_key}"},
                    "request_body": '{ "model": "${parameters.model}", "messages": ${parameters.messages} }',
                }
            ],
        },
    )
    assert connector.status_code == 200, connector.text
    connector_id = connector.json()["connector_id"]
    stored = (await client.get(f"/_plugins/_ml/connectors/{connector_id}")).json()
    assert "credential" not in stored
    assert stored["version"] == "1"
    assert stored["actions"][0]["action_type"] == "PREDICT"

    # 4. Register the model.
    register = await client.post(
        "/_plugins/_ml/models/_register",
        json={
            "name": "openAI-gpt-3.5-turbo",
            "function_name": "remote",
            "model_group_id": group_id,
            "description": "test model",
            "connector_id": connector_id,
        },
    )
    assert register.status_code == 200, register.text
    assert register.json()["status"] == "CREATED"
    model_id = register.json()["model_id"]
    task = (await client.get(f"/_plugins/_ml/tasks/{register.json()['task_id']}")).json()
    assert task["state"] == "COMPLETED" and task["task_type"] == "REGISTER_MODEL"
    assert task["model_id"] == model_id and task["is_async"] is False

    # 5. Deploy and check the task.
    deploy = await client.post(f"/_plugins/_ml/models/{model_id}/_deploy")
    assert deploy.status_code == 200
    assert deploy.json()["task_type"] == "DEPLOY_MODEL" and deploy.json()["status"] == "COMPLETED"
    deploy_task = (await client.get(f"/_plugins/_ml/tasks/{deploy.json()['task_id']}")).json()
    assert deploy_task["state"] == "COMPLETED" and deploy_task["is_async"] is True
    model = (await client.get(f"/_plugins/_ml/models/{model_id}")).json()
    assert model["model_state"] == "DEPLOYED"
    assert model["model_version"] == "1"
    assert model["algorithm"] == "REMOTE"

    # 6. Predict.
    predict = await client.post(
        f"/_plugins/_ml/models/{model_id}/_predict",
        json={
            "parameters": {
                "messages": [
                    {"role": "system", "content": "You are a helpful assistant."},
                    {"role": "user", "content": "Hello!"},
                ]
            }
        },
    )
    assert predict.status_code == 200, predict.text
    result = predict.json()["inference_results"][0]
    assert result["status_code"] == 200
    output = result["output"][0]
    assert output["name"] == "response"
    assert output["dataAsMap"]["object"] == "chat.completion"
    assert "Hello!" in output["dataAsMap"]["choices"][0]["message"]["content"]
    # The provider saw the rendered body and the resolved credential header.
    seen = provider.requests(limit=1, path="/v1/chat/completions")[0]
    assert seen.headers.get("Authorization") == "Bearer sk-walkthrough-secret-0001"


async def test_inline_connector_register_and_deploy(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    register = await loopback.post(
        "/_plugins/_ml/models/_register?deploy=true",
        json={
            "name": "openAI-GPT-3.5 completions: internal connector",
            "function_name": "remote",
            "description": "test model",
            "connector": {
                "name": "OpenAI Connector",
                "description": "The connector to public OpenAI model service for GPT 3.5",
                "version": 1,
                "protocol": "http",
                "parameters": {
                    "endpoint": provider.url,
                    "max_tokens": 7,
                    "temperature": 0,
                    "model": "text-davinci-003",
                },
                "credential": {"openAI_key": "sk-inline-secret-0002"},
                "actions": [
                    {
                        "action_type": "predict",
                        "method": "POST",
                        "url": "${parameters.endpoint}/v1/completions",
                        "headers": {"Authorization": "Bearer ${credential.openAI_key}"},
                        "request_body": '{ "model": "${parameters.model}", "prompt": "${parameters.prompt}", '
                        '"max_tokens": ${parameters.max_tokens}, "temperature": ${parameters.temperature} }',
                    }
                ],
            },
        },
    )
    assert register.status_code == 200, register.text
    model_id = register.json()["model_id"]
    model = (await loopback.get(f"/_plugins/_ml/models/{model_id}")).json()
    assert model["model_state"] == "DEPLOYED"
    assert "credential" not in model["connector"]
    assert model["connector"]["parameters"]["max_tokens"] == "7"
    predict = await loopback.post(
        f"/_plugins/_ml/models/{model_id}/_predict", json={"parameters": {"prompt": "Say this is a test"}}
    )
    assert predict.status_code == 200, predict.text
    data = predict.json()["inference_results"][0]["output"][0]["dataAsMap"]
    assert data["object"] == "text_completion"
