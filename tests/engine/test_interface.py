"""Model interface: JSON-Schema validation of predict input and output, and the presets.

ml-commons: ModelInterfaceUtils (presets), TransportPredictionTaskAction and MLPredictTaskRunner (checks).
"""

from __future__ import annotations

import httpx
import orjson
import pytest

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.interface import INPUT_ERROR, OUTPUT_ERROR, compile_interface, input_instance
from mlgate.domain.interface_presets import (
    EMBEDDING_OUTPUT,
    TITAN_EMBEDDING_RAW_OUTPUT,
    TITAN_TEXT_INPUT,
    preset_interface,
)
from mlgate.domain.predict_input import parse_predict_input
from mlgate.mockprovider import MockProvider
from tests.conftest import assert_error
from tests.engine.support import (
    MESSAGES,
    chat_connector,
    chat_path,
    deploy_model,
    predict,
    titan_connector,
    unique,
)

PROMPT_SCHEMA = {
    "type": "object",
    "properties": {
        "parameters": {
            "type": "object",
            "properties": {"n": {"type": "integer", "maximum": 3}, "tag": {"type": "string"}},
            "required": ["n"],
        }
    },
    "required": ["parameters"],
}


def test_input_instance_turns_parameters_back_into_json_unless_declared_string() -> None:
    inp = parse_predict_input(None, {"parameters": {"n": 2, "tag": "123", "list": ["a"], "text": "hi"}})
    instance = input_instance(inp, frozenset({"tag"}))
    assert instance == {
        "algorithm": "REMOTE",
        "parameters": {"n": 2, "tag": "123", "list": ["a"], "text": "hi"},
        "action_type": "PREDICT",
    }
    docs = input_instance(parse_predict_input("text_embedding", {"text_docs": ["a", None]}), frozenset())
    assert docs == {"algorithm": "TEXT_EMBEDDING", "text_docs": ["a", None]}


def test_compiled_interface_checks_input() -> None:
    interface = compile_interface({"input": orjson.dumps(PROMPT_SCHEMA).decode()})
    assert interface is not None and interface.output is None
    interface.check_input(parse_predict_input(None, {"parameters": {"n": 3, "tag": "x"}}))
    with pytest.raises(InvalidRequestError) as caught:
        interface.check_input(parse_predict_input(None, {"parameters": {"n": 7}}))
    message = caught.value.message
    assert message.startswith(
        INPUT_ERROR + "Validation failed: [/parameters/n: 7 is greater than the maximum of 3]"
    )
    assert '"parameters":{"n":7}' in message and caught.value.error_type == "status_exception"
    # Batch predict input is never validated.
    interface.check_input(parse_predict_input(None, {"parameters": {"n": 7}, "action_type": "batch_predict"}))


def test_unparsable_schema_fails_every_check() -> None:
    interface = compile_interface({"output": "{not json"})
    assert interface is not None
    with pytest.raises(InvalidRequestError) as caught:
        interface.check_output({"inference_results": []})
    assert caught.value.message.startswith(OUTPUT_ERROR + "Invalid JSON schema: ")


def test_empty_interface_is_none() -> None:
    assert compile_interface(None) is None and compile_interface({}) is None


def _bedrock(model: str, post: str | None = None) -> dict:
    action = {"action_type": "PREDICT", "method": "POST", "url": "https://x/"}
    if post is not None:
        action["post_process_function"] = post
    return {"parameters": {"service_name": "bedrock", "model": model}, "actions": [action]}


def test_presets_follow_service_model_and_post_process() -> None:
    titan = preset_interface(
        _bedrock("amazon.titan-embed-text-v1", "connector.post_process.bedrock.embedding")
    )
    assert titan is not None
    assert orjson.loads(titan["input"]) == TITAN_TEXT_INPUT
    assert orjson.loads(titan["output"]) == EMBEDDING_OUTPUT
    raw = preset_interface(_bedrock("amazon.titan-embed-text-v1"))
    assert raw is not None and orjson.loads(raw["output"]) == TITAN_EMBEDDING_RAW_OUTPUT
    assert preset_interface(_bedrock("anthropic.claude-v2")) is not None
    assert preset_interface(_bedrock("some.other-model")) is None
    comprehend = {"parameters": {"service_name": "comprehend"}, "actions": [{}]}
    assert preset_interface(comprehend) is None
    comprehend["parameters"]["api_name"] = "DetectDominantLanguage"
    assert preset_interface(comprehend) is not None
    assert preset_interface({"parameters": {"service_name": "textract"}, "actions": [{}]}) is not None
    assert preset_interface({"parameters": {"model": "gpt-4o"}, "actions": [{}]}) is None


async def test_predict_validates_input_with_typed_parameters(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    connector = chat_connector(provider.url + chat_path())
    model_id = await deploy_model(
        loopback, connector, interface={"input": orjson.dumps(PROMPT_SCHEMA).decode()}
    )
    ok = await predict(loopback, model_id, {"parameters": {"messages": MESSAGES, "n": 2}})
    assert ok.status_code == 200, ok.text
    refused = assert_error(
        await predict(loopback, model_id, {"parameters": {"messages": MESSAGES, "n": "two"}}),
        400,
        "status_exception",
    )
    assert refused["error"]["reason"].startswith(
        INPUT_ERROR + "Validation failed: [/parameters/n: 'two' is not"
    )


async def test_predict_validates_output(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    path = chat_path()
    output_schema = {
        "type": "object",
        "properties": {
            "inference_results": {
                "type": "array",
                "items": {"type": "object", "required": ["never_there"]},
            }
        },
    }
    model_id = await deploy_model(
        loopback, chat_connector(provider.url + path), interface={"output": output_schema}
    )
    response = await predict(loopback, model_id, {"parameters": {"messages": MESSAGES}})
    body = assert_error(response, 400, "status_exception")
    assert body["error"]["reason"].startswith(
        OUTPUT_ERROR + "Validation failed: [/inference_results/0: 'never_there' is a required property]"
    )
    # Output is validated after the call: the provider was reached.
    assert len(provider.requests(path=path)) == 1


async def test_preset_applies_to_a_titan_model_registered_without_interface(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    model_id = await deploy_model(loopback, titan_connector(provider.url, model="amazon.titan-embed-text-v1"))
    # The remote shape without inputText breaks the Titan preset's input schema.
    refused = assert_error(
        await predict(loopback, model_id, {"parameters": {"text": "x"}}), 400, "status_exception"
    )
    assert "'inputText' is a required property" in refused["error"]["reason"]
    # text_docs (how neural search calls) conform, and so does the embedding output.
    response = await predict(loopback, model_id, {"text_docs": [unique()]}, "text_embedding")
    assert response.status_code == 200, response.text


async def test_explicit_interface_wins_over_the_preset(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    model_id = await deploy_model(
        loopback,
        titan_connector(provider.url, model="amazon.titan-embed-text-v1"),
        interface={"input": orjson.dumps({"type": "object"}).decode()},
    )
    response = await predict(loopback, model_id, {"parameters": {"inputText": unique()}})
    assert response.status_code == 200, response.text
