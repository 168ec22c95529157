"""Guardrail regexes run in linear time (issue 11 item 1): what RE2 cannot run is refused at register and
update with a 400 naming the construct, and hostile patterns answer at once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mlgate.domain.linear_regex import NOT_LINEAR
from mlgate.mockprovider import MockProvider
from tests.conftest import assert_error
from tests.engine.support import ML, chat_connector, chat_path, deploy_model, predict, unique

pytestmark = pytest.mark.asyncio

INPUT = "guardrails triggered for user input"


def register_body(provider: MockProvider, guardrails: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": unique("m"),
        "function_name": "remote",
        "connector": chat_connector(provider.url + chat_path()),
        "guardrails": guardrails,
    }


def messages(text: str) -> dict[str, Any]:
    return {"parameters": {"messages": [{"role": "user", "content": text}]}}


@pytest.mark.parametrize(
    ("guardrails", "pattern", "named"),
    [
        ({"input_guardrail": {"regex": [".*ok.*", r"(a)\1"]}}, r"(a)\1", r'the backreference "\1"'),
        ({"output_guardrail": {"regex": [".*(?=secret).*"]}}, ".*(?=secret).*", 'the lookahead "(?="'),
        ({"input_guardrail": {"regex": [".*(?<!safe )word"]}}, ".*(?<!safe )word", 'the lookbehind "(?<!"'),
        (
            {
                "type": "model",
                "input_guardrail": {"model_id": "g", "response_validation_regex": '^(?!"BLOCK").*$'},
            },
            '^(?!"BLOCK").*$',
            'the lookahead "(?!"',
        ),
    ],
)
async def test_register_refuses_what_cannot_run_in_linear_time(
    loopback: httpx.AsyncClient, provider: MockProvider, guardrails: dict[str, Any], pattern: str, named: str
) -> None:
    body = register_body(provider, guardrails)
    response = await loopback.post(f"{ML}/models/_register", json=body)
    assert_error(
        response,
        400,
        "illegal_argument_exception",
        f"Invalid guardrail regex [{pattern}]: {named} {NOT_LINEAR}",
    )
    found = await loopback.post(f"{ML}/models/_search", json={"query": {"term": {"name": body["name"]}}})
    assert found.json()["hits"]["hits"] == []


async def test_update_refuses_them_and_keeps_the_model(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    kept = {"input_guardrail": {"regex": [".*forbidden.*"]}}
    model_id = await deploy_model(loopback, chat_connector(provider.url + chat_path()), guardrails=kept)
    response = await loopback.put(
        f"{ML}/models/{model_id}", json={"guardrails": {"input_guardrail": {"regex": ["(?>a|ab)c"]}}}
    )
    assert_error(response, 400, "illegal_argument_exception")
    assert 'the atomic group "(?>"' in response.json()["error"]["reason"]
    assert (await loopback.get(f"{ML}/models/{model_id}")).json()["guardrails"] == kept
    # The deployed guardrail still works.
    assert_error(
        await predict(loopback, model_id, messages("a forbidden topic")),
        400,
        "illegal_argument_exception",
        INPUT,
    )


async def test_nested_quantifiers_answer_at_once(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    # On a backtracking engine `(a+)+` before a failing `b` takes ~2^50000 steps on this input.
    path = chat_path()
    guardrails = {"input_guardrail": {"regex": [".*(a+)+b.*"]}}
    model_id = await deploy_model(loopback, chat_connector(provider.url + path), guardrails=guardrails)
    allowed = await predict(loopback, model_id, messages("a" * 50_000 + "!"))
    assert allowed.status_code == 200, allowed.text
    assert len(provider.requests(path=path)) == 1
    refused = await predict(loopback, model_id, messages("a" * 50_000 + "b"))
    assert_error(refused, 400, "illegal_argument_exception", INPUT)
    assert len(provider.requests(path=path)) == 1


async def test_java_unicode_escapes_work(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    guardrails = {"input_guardrail": {"regex": [r".*[\u4e00-\u9fa5].*"]}}
    model_id = await deploy_model(loopback, chat_connector(provider.url + chat_path()), guardrails=guardrails)
    refused = await predict(loopback, model_id, messages("你好"))
    assert_error(refused, 400, "illegal_argument_exception", INPUT)
    assert (await predict(loopback, model_id, messages("hello"))).status_code == 200
