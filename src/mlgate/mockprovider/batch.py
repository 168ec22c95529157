"""Offline batch jobs: OpenAI ``/v1/batches``, SageMaker transform jobs, Bedrock model-invocation jobs.

The mock keeps no job state: a job id is derived from the request, a created job is reported in its
first state, and a described job as finished. Tests that need the states in between queue them as
canned answers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from mlgate.mockprovider import fake_model
from mlgate.mockprovider.shape import InvalidInput, ShapeRequest, require_str

CREATED_AT = 1722037257
ACCOUNT = "123456789012"
REGION = "us-east-1"


def _openai_batch(batch_id: str, status: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": batch_id,
        "object": "batch",
        "endpoint": body.get("endpoint", "/v1/embeddings"),
        "errors": None,
        "input_file_id": body.get("input_file_id", "file-unknown"),
        "completion_window": "24h",
        "status": status,
        "output_file_id": f"file-{batch_id[6:]}" if status == "completed" else None,
        "error_file_id": None,
        "created_at": CREATED_AT,
        "expires_at": CREATED_AT + 86400,
        "request_counts": {"total": 0, "completed": 0, "failed": 0},
        "metadata": None,
    }


def openai_create(request: ShapeRequest) -> dict[str, Any]:
    """``POST /v1/batches``: a ``validating`` batch for ``input_file_id``."""
    body = request.require_object()
    file_id = require_str(body.get("input_file_id"), "input_file_id")
    require_str(body.get("endpoint"), "endpoint")
    if body.get("completion_window") != "24h":
        raise InvalidInput("completion_window must be '24h'.")
    return _openai_batch(f"batch_{fake_model.short_id(file_id)}", "validating", body)


def openai_get(request: ShapeRequest) -> dict[str, Any]:
    """``GET /v1/batches/{batch_id}``: the batch, completed."""
    return _openai_batch(request.path_params["batch_id"], "completed", {})


def openai_cancel(request: ShapeRequest) -> dict[str, Any]:
    """``POST /v1/batches/{batch_id}/cancel``: the batch, cancelling."""
    return _openai_batch(request.path_params["batch_id"], "cancelling", {})


def _transform_arn(name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:transform-job/{name}"


def sagemaker_create(request: ShapeRequest) -> dict[str, Any]:
    """``POST /CreateTransformJob``: the job's ARN."""
    body = request.require_object()
    name = require_str(body.get("TransformJobName"), "TransformJobName")
    require_str(body.get("ModelName"), "ModelName")
    return {"TransformJobArn": _transform_arn(name)}


def sagemaker_describe(request: ShapeRequest) -> dict[str, Any]:
    """``POST /DescribeTransformJob``: the job, completed."""
    name = require_str(request.require_object().get("TransformJobName"), "TransformJobName")
    return {
        "TransformJobName": name,
        "TransformJobArn": _transform_arn(name),
        "TransformJobStatus": "Completed",
        "CreationTime": CREATED_AT,
    }


def sagemaker_stop(request: ShapeRequest) -> dict[str, Any]:
    """``POST /StopTransformJob``: accepted (an empty object)."""
    require_str(request.require_object().get("TransformJobName"), "TransformJobName")
    return {}


def _invocation_arn(job_id: str) -> str:
    return f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-invocation-job/{job_id}"


def bedrock_create(request: ShapeRequest) -> dict[str, Any]:
    """``POST /model-invocation-job``: the job's ARN."""
    body = request.require_object()
    name = require_str(body.get("jobName"), "jobName")
    for field in ("roleArn", "modelId"):
        require_str(body.get(field), field)
    for field in ("inputDataConfig", "outputDataConfig"):
        if not isinstance(body.get(field), dict):
            raise InvalidInput(f"'{field}' must be an object.")
    return {"jobArn": _invocation_arn(fake_model.short_id(name))}


def bedrock_get(request: ShapeRequest) -> dict[str, Any]:
    """``GET /model-invocation-job/{job}`` (the ARN, ``/`` encoded as ``%2F``): the job, completed."""
    arn = unquote(request.path_params["job"])
    return {"jobArn": arn, "jobName": arn.rsplit("/", 1)[-1], "status": "Completed", "submitTime": CREATED_AT}


def bedrock_stop(request: ShapeRequest) -> dict[str, Any]:
    """``POST /model-invocation-job/{job}/stop``: accepted (an empty object)."""
    return {}
