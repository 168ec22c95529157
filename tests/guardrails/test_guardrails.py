"""Guardrails on predict against the mock provider: local_regex and model.

ml-commons: Guardrails, LocalRegexGuardrail, ModelGuardrail.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mlgate.mockprovider import MockProvider
from tests.conftest import assert_error
from tests.engine.support import (
    ACCESS_KEY,
    MESSAGES,
    ML,
    SECRET_KEY,
    chat_connector,
    chat_path,
    deploy_model,
    predict,
    unique,
)

pytestmark = pytest.mark.asyncio

INPUT = "guardrails triggered for user input"
OUTPUT = "guardrails triggered for LLM output"


def messages(text: str) -> dict[str, Any]:
    return {"parameters": {"messages": [{"role": "user", "content": text}]}}


def bedrock_guardrail_connector(base: str) -> dict[str, Any]:
    """The tutorial's ApplyGuardrail connector: the question goes in as INPUT content."""
    return {
        "name": "bedrock guardrail",
        "version": "1",
        "protocol": "aws_sigv4",
        "parameters": {"region": "us-east-1", "service_name": "bedrock", "source": "INPUT"},
        "credential": {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY},
        "actions": [
            {
                "action_type": "predict",
                "method": "POST",
                "url": base + f"/guardrail/{unique('g')}/version/1/apply",
                "headers": {"content-type": "application/json"},
                "request_body": '{"source":"${parameters.source}", "content":[ { "text":{"text": '
                '"${parameters.question}"} } ] }',
            }
        ],
    }


async def test_input_regex_refuses_before_the_send(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    path = chat_path()
    guardrails = {"type": "local_regex", "input_guardrail": {"regex": [".*forbidden.*"]}}
    model_id = await deploy_model(loopback, chat_connector(provider.url + path), guardrails=guardrails)
    assert_error(
        await predict(loopback, model_id, messages("a forbidden topic")),
        400,
        "illegal_argument_exception",
        INPUT,
    )
    assert provider.requests(path=path) == []
    allowed = await predict(loopback, model_id, messages("a harmless topic"))
    assert allowed.status_code == 200, allowed.text
    assert len(provider.requests(path=path)) == 1


async def test_regex_must_match_the_whole_payload(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    # Java matches(): a pattern that only occurs inside the payload does not trigger.
    guardrails = {"input_guardrail": {"regex": ["forbidden"]}}
    model_id = await deploy_model(loopback, chat_connector(provider.url + chat_path()), guardrails=guardrails)
    assert (await predict(loopback, model_id, messages("forbidden"))).status_code == 200


async def test_output_regex_refuses_after_the_send(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    path = chat_path()
    guardrails = {"type": "local_regex", "output_guardrail": {"regex": ['(?s).*"choices".*']}}
    model_id = await deploy_model(loopback, chat_connector(provider.url + path), guardrails=guardrails)
    assert_error(
        await predict(loopback, model_id, {"parameters": {"messages": MESSAGES}}),
        400,
        "illegal_argument_exception",
        OUTPUT,
    )
    assert len(provider.requests(path=path)) == 1


async def test_stop_words_index_refuses_everything(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    guardrails = {"input_guardrail": {"stop_words": [{"index_name": "words0", "source_fields": ["title"]}]}}
    model_id = await deploy_model(loopback, chat_connector(provider.url + chat_path()), guardrails=guardrails)
    assert_error(
        await predict(loopback, model_id, messages("hello")), 400, "illegal_argument_exception", INPUT
    )


async def test_model_guardrail_asks_the_guardrail_model(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    guard_id = await deploy_model(loopback, bedrock_guardrail_connector(provider.url))
    guardrails = {
        "type": "model",
        "input_guardrail": {
            "model_id": guard_id,
            "response_filter": "$.action",
            "response_validation_regex": '^"NONE"$',
        },
    }
    path = chat_path()
    connector = chat_connector(
        provider.url + path,
        actions=[
            {
                "action_type": "predict",
                "method": "POST",
                "url": provider.url + path,
                "request_body": '{ "model": "m", "messages": [{"role": "user", "content": "${parameters.question}"}] }',
            }
        ],
    )
    model_id = await deploy_model(loopback, connector, guardrails=guardrails)
    refused = await predict(loopback, model_id, {"parameters": {"question": "how to suicide"}})
    assert_error(refused, 400, "illegal_argument_exception", INPUT)
    assert provider.requests(path=path) == []
    allowed = await predict(loopback, model_id, {"parameters": {"question": "hello"}})
    assert allowed.status_code == 200, allowed.text
    assert len(provider.requests(path=path)) == 1
    # No question parameter: nothing for the guardrail model to judge.
    assert (await predict(loopback, model_id, {"parameters": {"question": ""}})).status_code == 200


async def test_unreachable_guardrail_model_refuses(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    guardrails = {
        "type": "model",
        "input_guardrail": {"model_id": "no-such-model", "response_validation_regex": ".*"},
    }
    path = chat_path()
    model_id = await deploy_model(loopback, chat_connector(provider.url + path), guardrails=guardrails)
    body = {"parameters": {"messages": MESSAGES, "question": "anything"}}
    assert_error(await predict(loopback, model_id, body), 400, "illegal_argument_exception", INPUT)
    assert provider.requests(path=path) == []


async def test_bad_guardrails_fail_the_deploy(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    for guardrails in (
        {"input_guardrail": {"regex": ["("]}},
        {"type": "other", "input_guardrail": {"regex": []}},
    ):
        body = {
            "name": unique("m"),
            "function_name": "remote",
            "connector": chat_connector(provider.url + chat_path()),
            "guardrails": guardrails,
        }
        registered = await loopback.post(f"{ML}/models/_register", json=body)
        model_id = registered.json()["model_id"]
        deployed = await loopback.post(f"{ML}/models/{model_id}/_deploy")
        task = (await loopback.get(f"{ML}/tasks/{deployed.json()['task_id']}")).json()
        assert task["state"] == "FAILED", task
        model = (await loopback.get(f"{ML}/models/{model_id}")).json()
        assert model["model_state"] == "DEPLOY_FAILED"
