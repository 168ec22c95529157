"""Offline batch predict: the BATCH_PREDICTION task's ``remote_job`` and its status rules.

ml-commons: plugin/.../task/MLPredictTaskRunner.java, plugin/.../action/tasks/GetTaskTransportAction.java.

A batch predict runs the connector's ``BATCH_PREDICT`` action once and keeps the provider's job
description (first tensor's ``dataAsMap``) as ``remote_job``. Refreshing the task runs
``BATCH_PREDICT_STATUS`` with the job's string fields as parameters; cancelling runs
``CANCEL_BATCH_PREDICT``. Connectors for SageMaker, OpenAI, Cohere and Bedrock need not declare those
two: they are derived from the ``BATCH_PREDICT`` URL as ML Commons derives them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlgate.domain import task as tdomain
from mlgate.domain.connector import ConnectorAction
from mlgate.domain.errors import InvalidRequestError, NotFoundError
from mlgate.domain.linear_regex import LinearRegex, RegexError, compile_regex
from mlgate.domain.template import substitute

BATCH_PREDICTION = "BATCH_PREDICTION"
BATCH_PREDICT = "BATCH_PREDICT"
BATCH_PREDICT_STATUS = "BATCH_PREDICT_STATUS"
CANCEL_BATCH_PREDICT = "CANCEL_BATCH_PREDICT"

CANCELLING = "CANCELLING"
CANCELLED = "CANCELLED"
EXPIRED = "EXPIRED"

DISABLED = (
    "Offline Batch Inference is currently disabled. To enable it, update the setting "
    '"plugins.ml_commons.offline_batch_inference_enabled" to true.'
)
TOO_MANY = (
    "Exceeded maximum limit for BATCH_PREDICTION tasks. To increase the limit, update the "
    "plugins.ml_commons.max_batch_inference_tasks setting."
)
NO_JOB = "Unable to create batch transform job"
NO_STATUS = "Couldn't fetch status of the transform job"
NOT_A_BATCH_TASK = "The task ID you provided does not have any associated batch job"
CANCEL_FAILED = "Couldn't cancel the transform job. Please try again"
_UNDERIVABLE = {
    BATCH_PREDICT_STATUS: "Please configure the action type to get the batch job details in the connector",
    CANCEL_BATCH_PREDICT: "Please configure the action type to cancel the batch job in the connector",
}
# Substrings of the BATCH_PREDICT URL that name a provider, in ML Commons' order of preference.
_PROVIDERS = ("sagemaker", "openai", "bedrock", "cohere")
_SAGEMAKER_STATUS_BODY = '{ "TransformJobName" : "${parameters.TransformJobName}"}'


def parse_dlq(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The optional ``dlq`` of a batch request; both ``bucket`` and ``region`` are required."""
    dlq = body.get("dlq")
    if dlq is None:
        return None
    if not isinstance(dlq, Mapping) or dlq.get("bucket") is None or dlq.get("region") is None:
        raise InvalidRequestError("DLQ bucketName or region cannot be null")
    return dict(dlq)


def remote_job_of(output: Mapping[str, Any], dlq: Mapping[str, Any] | None) -> dict[str, Any]:
    """``remote_job`` from the BATCH_PREDICT answer: first tensor's ``dataAsMap`` plus ``dlq``.

    Only a 2xx answer with a ``dataAsMap`` names a job; anything else is ML Commons'
    ``ResourceNotFoundException``.
    """
    first = _first_result(output)
    status = first.get("status_code") if first else None
    data = _first_data(first)
    if data is None or not isinstance(status, int) or not 200 <= status < 300:
        raise NotFoundError(NO_JOB, error_type="resource_not_found_exception")
    job = dict(data)
    job["dlq"] = None if dlq is None else dict(dlq)
    return job


def refreshed_job(remote_job: Mapping[str, Any], output: Mapping[str, Any]) -> dict[str, Any]:
    """``remote_job`` with the BATCH_PREDICT_STATUS answer's ``dataAsMap`` merged over it."""
    data = _first_data(_first_result(output))
    if data is None:
        raise NotFoundError(NO_STATUS, error_type="resource_not_found_exception")
    job = dict(remote_job)
    job.update(data)
    return job


def is_cancel_accepted(output: Mapping[str, Any]) -> bool:
    """ML Commons accepts a cancel only when the provider answered exactly 200."""
    first = _first_result(output)
    return first is not None and first.get("status_code") == 200


def job_parameters(remote_job: Mapping[str, Any]) -> dict[str, str]:
    """The job's string fields as request parameters; ``TransformJobName`` derived from the ARN."""
    params = {k: v for k, v in remote_job.items() if isinstance(v, str)}
    arn = params.get("TransformJobArn")
    if "TransformJobName" not in params and arn is not None:
        params["TransformJobName"] = arn[arn.rfind("/") + 1 :]
    return params


def derive_action(
    batch_action: ConnectorAction, parameters: Mapping[str, str | None], action_type: str
) -> ConnectorAction | None:
    """The status or cancel action ML Commons derives from ``BATCH_PREDICT``'s URL; None if unknown."""
    url = substitute(batch_action.url, parameters)
    provider = next((name for name in _PROVIDERS if name in url), None)
    cancel = action_type == CANCEL_BATCH_PREDICT
    method, body = "POST", None
    if provider == "sagemaker":
        new_url = url.replace("CreateTransformJob", "StopTransformJob" if cancel else "DescribeTransformJob")
        body = _SAGEMAKER_STATUS_BODY
    elif provider in ("openai", "cohere"):
        new_url = url + ("/${parameters.id}/cancel" if cancel else "/${parameters.id}")
        method = "POST" if cancel else "GET"
    elif provider == "bedrock":
        new_url = url + (
            "/${parameters.processedJobArn}/stop" if cancel else "/${parameters.processedJobArn}"
        )
        method = "POST" if cancel else "GET"
    else:
        return None
    return ConnectorAction(
        action_type=action_type, method=method, url=new_url, headers=batch_action.headers, request_body=body
    )


def underivable(action_type: str) -> InvalidRequestError:
    """No declared action and no provider to derive it from."""
    return InvalidRequestError(_UNDERIVABLE[action_type])


@dataclass(frozen=True)
class StatusRules:
    """The ``remote_job.status_field`` / ``remote_job.status_regex.*`` settings, compiled."""

    fields: Sequence[str]
    cancelling: LinearRegex
    cancelled: LinearRegex
    completed: LinearRegex
    expired: LinearRegex
    failed: LinearRegex

    @classmethod
    def compile(cls, fields: Sequence[str], regexes: Mapping[str, str]) -> StatusRules:
        """Case-insensitive patterns, searched anywhere in the status text (Java ``find()``) in linear
        time (``domain/linear_regex.py``). Raises InvalidRequestError for a pattern that cannot run (one
        stored before the settings checked them)."""
        return cls(fields, *(_compile_status(regexes[k]) for k in _STATE_ORDER))

    def state_of(self, remote_job: Mapping[str, Any]) -> str | None:
        """The task state the job's status fields map to (the last matching field wins), or None."""
        state = None
        for name in self.fields:
            if name not in remote_job:
                continue
            # Java's String.valueOf: a JSON null is the text "null".
            value = remote_job[name]
            text = "null" if value is None else str(value)
            for key, pattern in zip(_STATE_ORDER, self._patterns(), strict=True):
                if pattern.search(text):
                    state = _STATES[key]
                    break
        return state

    def _patterns(self) -> tuple[LinearRegex, ...]:
        return (self.cancelling, self.cancelled, self.completed, self.expired, self.failed)


def _compile_status(pattern: str) -> LinearRegex:
    try:
        return compile_regex(pattern, ignore_case=True)
    except RegexError as exc:
        raise InvalidRequestError(f"Invalid regex pattern: {pattern}; {exc.reason}") from None


# ML Commons tests the patterns in this order; the first that matches decides.
_STATE_ORDER = ("cancelling", "cancelled", "completed", "expired", "failed")
_STATES = {
    "cancelling": CANCELLING,
    "cancelled": CANCELLED,
    "completed": tdomain.COMPLETED,
    "expired": EXPIRED,
    "failed": tdomain.FAILED,
}


def _first_result(output: Mapping[str, Any]) -> Mapping[str, Any] | None:
    results = output.get("inference_results")
    if isinstance(results, list) and results and isinstance(results[0], Mapping):
        return results[0]
    return None


def _first_data(first: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    tensors = first.get("output") if first else None
    if isinstance(tensors, list) and tensors and isinstance(tensors[0], Mapping):
        data = tensors[0].get("dataAsMap")
        if isinstance(data, Mapping):
            return data
    return None


def new_batch_task(model_id: str, node_id: str, now: int, remote_job: Mapping[str, Any]) -> dict[str, Any]:
    """The BATCH_PREDICTION task document, fields in ML Commons' order (not async: it is polled)."""
    return {
        "model_id": model_id,
        "task_type": BATCH_PREDICTION,
        "function_name": "REMOTE",
        "state": tdomain.CREATED,
        "input_type": "REMOTE",
        "worker_node": [node_id],
        "create_time": now,
        "last_update_time": now,
        "is_async": False,
        "remote_job": dict(remote_job),
    }
