"""Batch predict against the mock provider: start a job, refresh its task, cancel it.

ml-commons: MLPredictTaskRunner, GetTaskTransportAction, CancelBatchJobTransportAction.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from mlgate.mockprovider import MockProvider
from tests.conftest import assert_error
from tests.engine.support import ACCESS_KEY, CHAT_KEY, ML, SECRET_KEY, deploy_model, unique

pytestmark = pytest.mark.asyncio


def predict_action(url: str) -> dict[str, Any]:
    """An inline connector needs a predict action beside the batch ones."""
    return {
        "action_type": "predict",
        "method": "POST",
        "url": url,
        "request_body": '{ "input": ${parameters.input} }',
    }


def openai_batch_connector(url: str, **extra_actions: Any) -> dict[str, Any]:
    """OpenAI's batch blueprint: a batch_predict action only (status and cancel are derived)."""
    return {
        "name": "openai batch",
        "version": "1",
        "protocol": "http",
        "parameters": {"model": "text-embedding-ada-002", "endpoint": "/v1/embeddings"},
        "credential": {"openAI_key": CHAT_KEY},
        "actions": [
            predict_action(url),
            {
                "action_type": "batch_predict",
                "method": "POST",
                "url": url,
                "headers": {"Authorization": "Bearer ${credential.openAI_key}"},
                "request_body": '{ "input_file_id": "${parameters.input_file_id}", "endpoint": '
                '"${parameters.endpoint}", "completion_window": "24h" }',
            },
            *extra_actions.values(),
        ],
    }


def sagemaker_batch_connector(base: str) -> dict[str, Any]:
    """SageMaker CreateTransformJob (SigV4)."""
    return {
        "name": "sagemaker batch",
        "version": "1",
        "protocol": "aws_sigv4",
        "parameters": {"region": "us-east-1", "service_name": "sagemaker", "ModelName": "m1"},
        "credential": {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY},
        "actions": [
            predict_action(base + "/endpoints/e1/invocations"),
            {
                "action_type": "batch_predict",
                "method": "POST",
                "url": base + "/sagemaker/CreateTransformJob",
                "headers": {"content-type": "application/json"},
                "request_body": '{ "ModelName": "${parameters.ModelName}", '
                '"TransformJobName": "${parameters.TransformJobName}" }',
            },
        ],
    }


def bedrock_batch_connector(base: str) -> dict[str, Any]:
    """Bedrock CreateModelInvocationJob (SigV4) with ML Commons' job-ARN post-process."""
    return {
        "name": "bedrock batch",
        "version": "1",
        "protocol": "aws_sigv4",
        "parameters": {"region": "us-east-1", "service_name": "bedrock"},
        "credential": {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY},
        "actions": [
            predict_action(base + "/model/m1/invoke"),
            {
                "action_type": "batch_predict",
                "method": "POST",
                "url": base + "/bedrock/model-invocation-job",
                "headers": {"content-type": "application/json"},
                "request_body": '{ "jobName": "${parameters.job_name}", "roleArn": "arn:aws:iam::1:role/r", '
                '"modelId": "amazon.titan-embed-text-v2:0", "inputDataConfig": {"s3InputDataConfig": '
                '{"s3Uri": "s3://in/"}}, "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://out/"}} }',
                "post_process_function": "connector.post_process.bedrock.batch_job_arn",
            },
        ],
    }


async def start(client: httpx.AsyncClient, model_id: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(f"{ML}/models/{model_id}/_batch_predict", json=body)


async def test_openai_job_created_then_refreshed_to_completed(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    provider.reset()
    model_id = await deploy_model(loopback, openai_batch_connector(provider.url + "/openai/v1/batches"))
    file_id = unique("file")
    response = await start(loopback, model_id, {"parameters": {"input_file_id": file_id}})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"task_id", "status", "remote_job"}
    assert answer["status"] == "CREATED"
    job = answer["remote_job"]
    assert job["status"] == "validating" and job["input_file_id"] == file_id
    assert job["dlq"] is None

    task = await loopback.get(f"{ML}/tasks/{answer['task_id']}")
    assert task.status_code == 200, task.text
    doc = task.json()
    assert doc["task_type"] == "BATCH_PREDICTION" and doc["input_type"] == "REMOTE"
    assert doc["is_async"] is False and doc["model_id"] == model_id
    assert doc["state"] == "COMPLETED"
    assert doc["remote_job"]["status"] == "completed"
    assert doc["remote_job"]["output_file_id"] is not None
    # The derived status action: GET <batch url>/<job id>, with the batch action's headers.
    [status_call] = provider.requests(path=f"/openai/v1/batches/{job['id']}")
    assert status_call.method == "GET"
    assert status_call.headers["Authorization"] == f"Bearer {CHAT_KEY}"
    # The refreshed task was stored: a search sees the new state.
    found = await loopback.post(f"{ML}/tasks/_search", json={"query": {"term": {"state": "COMPLETED"}}})
    ids = [hit["_id"] for hit in found.json()["hits"]["hits"]]
    assert answer["task_id"] in ids


@pytest.mark.parametrize(
    ("provider_status", "state"),
    [("in_progress", "CREATED"), ("cancelling", "CANCELLING"), ("expired", "EXPIRED"), ("failed", "FAILED")],
)
async def test_provider_status_maps_to_task_state(
    loopback: httpx.AsyncClient, provider: MockProvider, provider_status: str, state: str
) -> None:
    provider.reset()
    model_id = await deploy_model(loopback, openai_batch_connector(provider.url + "/openai/v1/batches"))
    started = await start(loopback, model_id, {"parameters": {"input_file_id": unique("file")}})
    task_id = started.json()["task_id"]
    provider.answer_next({"id": started.json()["remote_job"]["id"], "status": provider_status})
    doc = (await loopback.get(f"{ML}/tasks/{task_id}")).json()
    assert doc["state"] == state
    assert doc["remote_job"]["status"] == provider_status


async def test_status_regex_setting_changes_the_mapping(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    provider.reset()
    response = await loopback.put(
        "/_cluster/settings",
        json={"persistent": {"plugins.ml_commons.remote_job.status_regex.completed": "(done)"}},
    )
    assert response.status_code == 200, response.text
    model_id = await deploy_model(loopback, openai_batch_connector(provider.url + "/openai/v1/batches"))
    started = await start(loopback, model_id, {"parameters": {"input_file_id": unique("file")}})
    doc = (await loopback.get(f"{ML}/tasks/{started.json()['task_id']}")).json()
    assert doc["remote_job"]["status"] == "completed"
    assert doc["state"] == "CREATED"


async def test_dlq_is_kept_in_remote_job_and_must_be_complete(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    model_id = await deploy_model(loopback, openai_batch_connector(provider.url + "/openai/v1/batches"))
    dlq = {"bucket": "dead-letters", "region": "us-east-1"}
    ok = await start(loopback, model_id, {"parameters": {"input_file_id": "f1"}, "dlq": dlq})
    assert ok.json()["remote_job"]["dlq"] == dlq
    bad = await start(loopback, model_id, {"parameters": {"input_file_id": "f1"}, "dlq": {"bucket": "b"}})
    assert_error(bad, 400, "illegal_argument_exception", "DLQ bucketName or region cannot be null")


async def test_sagemaker_job_name_from_arn_and_status_body(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    provider.reset()
    model_id = await deploy_model(loopback, sagemaker_batch_connector(provider.url))
    name = unique("job")
    started = await start(loopback, model_id, {"parameters": {"TransformJobName": name}})
    assert started.status_code == 200, started.text
    assert started.json()["remote_job"]["TransformJobArn"].endswith("/" + name)
    doc = (await loopback.get(f"{ML}/tasks/{started.json()['task_id']}")).json()
    assert doc["state"] == "COMPLETED"
    assert doc["remote_job"]["TransformJobStatus"] == "Completed"
    [describe] = provider.requests(path="/sagemaker/DescribeTransformJob")
    assert json.loads(describe.body) == {"TransformJobName": name}


async def test_bedrock_job_arn_is_encoded_for_the_status_url(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    provider.reset()
    model_id = await deploy_model(loopback, bedrock_batch_connector(provider.url))
    started = await start(loopback, model_id, {"parameters": {"job_name": unique("job")}})
    assert started.status_code == 200, started.text
    job = started.json()["remote_job"]
    assert job["processedJobArn"] == job["jobArn"].replace("/", "%2F")
    doc = (await loopback.get(f"{ML}/tasks/{started.json()['task_id']}")).json()
    assert doc["state"] == "COMPLETED"
    assert doc["remote_job"]["status"] == "Completed"


async def test_cancel_runs_the_derived_cancel_action(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    provider.reset()
    model_id = await deploy_model(loopback, openai_batch_connector(provider.url + "/openai/v1/batches"))
    started = await start(loopback, model_id, {"parameters": {"input_file_id": unique("file")}})
    task_id, batch_id = started.json()["task_id"], started.json()["remote_job"]["id"]
    cancelled = await loopback.post(f"{ML}/tasks/{task_id}/_cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json() == {"status": "OK"}
    [call] = provider.requests(path=f"/openai/v1/batches/{batch_id}/cancel")
    assert call.method == "POST"


async def test_cancel_with_an_empty_provider_body(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    model_id = await deploy_model(loopback, sagemaker_batch_connector(provider.url))
    started = await start(loopback, model_id, {"parameters": {"TransformJobName": unique("job")}})
    cancelled = await loopback.post(f"{ML}/tasks/{started.json()['task_id']}/_cancel")
    assert cancelled.json() == {"status": "OK"}


async def test_cancel_refuses_other_tasks_and_unknown_ids(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    body = {
        "name": unique("m"),
        "function_name": "remote",
        "connector": openai_batch_connector(provider.url + "/v1/batches"),
    }
    registered = await loopback.post(f"{ML}/models/_register", json=body)
    register_task = registered.json()["task_id"]
    refused = await loopback.post(f"{ML}/tasks/{register_task}/_cancel")
    assert_error(
        refused,
        400,
        "illegal_argument_exception",
        "The task ID you provided does not have any associated batch job",
    )
    assert_error(
        await loopback.post(f"{ML}/tasks/nope/_cancel"), 404, "status_exception", "Fail to find task"
    )


async def test_undeclared_status_action_for_an_unknown_provider(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    # The loopback URL names no provider: nothing to derive the status action from.
    model_id = await deploy_model(loopback, openai_batch_connector(provider.url + "/v1/batches"))
    started = await start(loopback, model_id, {"parameters": {"input_file_id": unique("file")}})
    assert started.status_code == 200, started.text
    refreshed = await loopback.get(f"{ML}/tasks/{started.json()['task_id']}")
    assert_error(
        refreshed,
        400,
        "illegal_argument_exception",
        "Please configure the action type to get the batch job details in the connector",
    )


async def test_declared_status_action_wins(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    provider.reset()
    status_action = {
        "action_type": "batch_predict_status",
        "method": "GET",
        "url": provider.url + "/v1/batches/${parameters.id}",
        "headers": {"Authorization": "Bearer ${credential.openAI_key}"},
    }
    connector = openai_batch_connector(provider.url + "/v1/batches", status=status_action)
    model_id = await deploy_model(loopback, connector)
    started = await start(loopback, model_id, {"parameters": {"input_file_id": unique("file")}})
    doc = (await loopback.get(f"{ML}/tasks/{started.json()['task_id']}")).json()
    assert doc["state"] == "COMPLETED"
    assert provider.requests(path=f"/v1/batches/{started.json()['remote_job']['id']}")


async def test_limit_and_switch(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    model_id = await deploy_model(loopback, openai_batch_connector(provider.url + "/openai/v1/batches"))
    await loopback.put(
        "/_cluster/settings", json={"persistent": {"plugins.ml_commons.max_batch_inference_tasks": 1}}
    )
    first = await start(loopback, model_id, {"parameters": {"input_file_id": "f1"}})
    assert first.status_code == 200, first.text
    second = await start(loopback, model_id, {"parameters": {"input_file_id": "f2"}})
    assert_error(
        second,
        429,
        "status_exception",
        "Exceeded maximum limit for BATCH_PREDICTION tasks. To increase the limit, update the "
        "plugins.ml_commons.max_batch_inference_tasks setting.",
    )
    # A finished job no longer counts.
    assert (await loopback.get(f"{ML}/tasks/{first.json()['task_id']}")).json()["state"] == "COMPLETED"
    assert (await start(loopback, model_id, {"parameters": {"input_file_id": "f3"}})).status_code == 200

    await loopback.put(
        "/_cluster/settings",
        json={"persistent": {"plugins.ml_commons.offline_batch_inference_enabled": False}},
    )
    disabled = await start(loopback, model_id, {"parameters": {"input_file_id": "f4"}})
    assert_error(
        disabled,
        400,
        "illegal_state_exception",
        "Offline Batch Inference is currently disabled. To enable it, update the setting "
        '"plugins.ml_commons.offline_batch_inference_enabled" to true.',
    )
    assert (await loopback.get(f"{ML}/tasks/{first.json()['task_id']}")).status_code == 400


async def test_provider_error_creates_no_task(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    failing = provider.url + "/openai/v1/batches?mock_status=400"
    model_id = await deploy_model(loopback, openai_batch_connector(failing))
    before = (await loopback.post(f"{ML}/tasks/_search", json={"size": 1000})).json()["hits"]["total"][
        "value"
    ]
    failed = await start(loopback, model_id, {"parameters": {"input_file_id": "f"}})
    assert failed.status_code == 400, failed.text
    assert failed.json()["error"]["reason"].startswith("Error from remote service: ")
    after = (await loopback.post(f"{ML}/tasks/_search", json={"size": 1000})).json()["hits"]["total"]["value"]
    assert after == before


async def test_batch_task_survives_a_restart(
    loopback: httpx.AsyncClient, provider: MockProvider, node: Any
) -> None:
    model_id = await deploy_model(loopback, openai_batch_connector(provider.url + "/openai/v1/batches"))
    started = await start(loopback, model_id, {"parameters": {"input_file_id": "f1"}})
    await node.services.deployment.restore()
    doc = await node.store.load(".plugins-ml-task", started.json()["task_id"])
    assert doc.source["state"] == "CREATED"
