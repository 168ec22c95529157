"""The dry-run routes: what a connector will send, rendered by the predict path minus the send."""

from __future__ import annotations

import httpx
import orjson

from mlgate.mockprovider import MockProvider
from tests.conftest import LOOPBACK_TRUSTED, assert_error
from tests.engine.support import (
    CHAT_KEY,
    MESSAGES,
    MLGATE,
    chat_connector,
    chat_path,
    create_connector,
    deploy_model,
    predict,
    titan_connector,
    unique,
)


async def render_inline(client: httpx.AsyncClient, connector: dict, **body: object) -> dict:
    response = await client.post(f"{MLGATE}/connectors/_render", json={"connector": connector, **body})
    assert response.status_code == 200, response.text
    return response.json()


async def test_inline_render_shows_the_request_and_sends_nothing(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    path = chat_path()
    out = await render_inline(
        loopback, chat_connector(provider.url + path), parameters={"messages": MESSAGES}
    )
    assert out["action_type"] == "PREDICT" and out["protocol"] == "http"
    [request] = out["requests"]
    assert request["method"] == "POST"
    assert request["url"] == provider.url + path
    assert request["headers"] == {"Authorization": "Bearer *****", "Content-Type": "application/json"}
    assert orjson.loads(request["body"]) == {"model": "gpt-4o-mini", "messages": MESSAGES}
    assert request["body_json"] == {"valid": True}
    assert request["unfilled_placeholders"] == [] and request["error"] is None
    egress = request["egress"]
    assert egress["allowed"] is True and egress["reason"] is None
    assert egress["trusted_pattern"] == LOOPBACK_TRUSTED
    assert egress["destination"] == {"scheme": "http", "host": "127.0.0.1", "port": provider.port}
    assert egress["addresses"] == [{"address": "127.0.0.1", "class": "loopback", "private": True}]
    assert provider.requests(path=path) == []


async def test_render_equals_what_predict_sends(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    path = chat_path()
    connector = chat_connector(provider.url + path)
    model_id = await deploy_model(loopback, connector)
    response = await loopback.post(
        f"{MLGATE}/models/{model_id}/_render", json={"parameters": {"messages": MESSAGES}}
    )
    assert response.status_code == 200, response.text
    [rendered] = response.json()["requests"]
    sent = await predict(loopback, model_id, {"parameters": {"messages": MESSAGES}})
    assert sent.status_code == 200, sent.text
    [wire] = provider.requests(path=path)
    assert wire.body == rendered["body"]
    assert wire.headers["Authorization"] == f"Bearer {CHAT_KEY}"
    assert rendered["headers"]["Authorization"] == "Bearer *****"


async def test_unfilled_placeholder_and_invalid_json_are_reported(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    out = await render_inline(loopback, chat_connector(provider.url + "/v1/chat/completions"))
    [request] = out["requests"]
    assert request["unfilled_placeholders"] == ["parameters.messages"]
    assert request["error"] == {
        "type": "illegal_argument_exception",
        "reason": 'Invalid payload: { "model": "gpt-4o-mini", "messages": ${parameters.messages} }',
    }
    body_json = request["body_json"]
    assert body_json["valid"] is False
    assert request["body"][body_json["position"]] == "$"
    assert (body_json["line"], body_json["column"]) == (1, body_json["position"] + 1)


async def test_quoted_placeholder_gives_predicts_unfilled_error(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    connector = chat_connector(provider.url + "/v1/chat/completions")
    connector["actions"][0]["request_body"] = '{ "prompt": "${parameters.prompt}" }'
    [request] = (await render_inline(loopback, connector))["requests"]
    assert request["body_json"] == {"valid": True}
    assert request["unfilled_placeholders"] == ["parameters.prompt"]
    assert request["error"]["reason"] == "Some parameter placeholder not filled in payload: prompt"
    # The same connector through predict fails with exactly that reason.
    model_id = await deploy_model(loopback, connector)
    assert_error(
        await predict(loopback, model_id, {"parameters": {}}),
        400,
        "illegal_argument_exception",
        "Some parameter placeholder not filled in payload: prompt",
    )


async def test_sample_response_runs_the_post_process(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    connector = chat_connector(provider.url + "/v1/chat/completions")
    connector["parameters"]["response_filter"] = "$.choices[0].message.content"
    sample = {"choices": [{"message": {"role": "assistant", "content": "Hi!"}}]}
    [request] = (
        await render_inline(loopback, connector, parameters={"messages": MESSAGES}, sample_response=sample)
    )["requests"]
    assert request["post_process"] == {
        "output": [{"name": "response", "dataAsMap": {"response": "Hi!"}}],
        "status_code": 200,
    }
    [bad] = (
        await render_inline(
            loopback, connector, parameters={"messages": MESSAGES}, sample_response="not json"
        )
    )["requests"]
    assert bad["post_process"]["error"]["type"] == "illegal_argument_exception"
    assert bad["post_process"]["error"]["reason"].startswith("Invalid JSON format: ")


async def test_text_docs_render_one_signed_request_per_document(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    sample = {"embedding": [0.5, -0.25], "inputTextTokenCount": 2}
    out = await render_inline(
        loopback,
        titan_connector(provider.url),
        text_docs=["first doc", "second doc"],
        sample_response=sample,
    )
    assert out["protocol"] == "aws_sigv4"
    bodies = [orjson.loads(r["body"]) for r in out["requests"]]
    assert bodies == [{"inputText": "first doc"}, {"inputText": "second doc"}]
    for request in out["requests"]:
        assert request["url"] == provider.url + "/model/amazon.titan-embed-text-v1/invoke"
        assert request["headers"]["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=*****/")
        assert "/us-east-1/bedrock/aws4_request" in request["headers"]["Authorization"]
        assert len(request["headers"]["x-amz-content-sha256"]) == 64
        assert request["post_process"]["output"] == [
            {"name": "sentence_embedding", "data_type": "FLOAT32", "shape": [2], "data": [0.5, -0.25]}
        ]


async def test_render_stored_connector_and_undeployed_model(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    connector_id = await create_connector(loopback, chat_connector(provider.url + "/v1/chat/completions"))
    by_id = await loopback.post(
        f"{MLGATE}/connectors/{connector_id}/_render", json={"parameters": {"messages": MESSAGES}}
    )
    assert by_id.status_code == 200, by_id.text
    assert by_id.json()["requests"][0]["headers"]["Authorization"] == "Bearer *****"
    registered = await loopback.post(
        "/_plugins/_ml/models/_register",
        json={"name": unique(), "function_name": "remote", "connector_id": connector_id},
    )
    model_id = registered.json()["model_id"]
    response = await loopback.post(
        f"{MLGATE}/models/{model_id}/_render", json={"parameters": {"messages": MESSAGES}}
    )
    assert response.status_code == 200, response.text
    assert orjson.loads(response.json()["requests"][0]["body"])["messages"] == MESSAGES
    # Rendering did not deploy it.
    model = (await loopback.get(f"/_plugins/_ml/models/{model_id}")).json()
    assert model["model_state"] == "REGISTERED"


async def test_render_refusals(loopback: httpx.AsyncClient) -> None:
    assert_error(
        await loopback.post(f"{MLGATE}/connectors/nope/_render", json={}),
        404,
        "status_exception",
        "Failed to find connector with the provided connector id: nope",
    )
    assert_error(
        await loopback.post(f"{MLGATE}/models/nope/_render", json={}),
        404,
        "status_exception",
        "Failed to find model",
    )
    assert_error(
        await loopback.post(f"{MLGATE}/connectors/_render", json={"parameters": {}}),
        400,
        "illegal_argument_exception",
        "connector is required: the connector body to render",
    )


async def test_untrusted_url_verdict_names_no_pattern(loopback: httpx.AsyncClient) -> None:
    connector = chat_connector("https://api.example.com/v1/chat/completions")
    [request] = (await render_inline(loopback, connector, parameters={"messages": MESSAGES}))["requests"]
    assert request["egress"]["allowed"] is False
    assert request["egress"]["trusted_pattern"] is None
    assert request["egress"]["reason"] == "Connector URL is not matching the trusted connector endpoint regex"


async def explain(client: httpx.AsyncClient, url: str) -> dict:
    response = await client.post(f"{MLGATE}/egress/_explain", json={"url": url})
    assert response.status_code == 200, response.text
    return response.json()


async def test_egress_explain(client: httpx.AsyncClient) -> None:
    settings = {
        "plugins.ml_commons.trusted_connector_endpoints_regex": [r"^http://.*$"],
        "plugins.ml_commons.connector.private_ip_enabled": False,
    }
    assert (await client.put("/_cluster/settings", json={"persistent": settings})).status_code == 200
    metadata = await explain(client, "http://169.254.169.254/latest/meta-data/")
    assert metadata["allowed"] is False and metadata["private"] is True
    assert metadata["trusted_pattern"] == r"^http://.*$"
    assert metadata["reason"] == "Remote inference host name has private ip address: 169.254.169.254"
    assert metadata["addresses"] == [{"address": "169.254.169.254", "class": "metadata", "private": True}]
    mapped = await explain(client, "http://[::ffff:10.0.0.1]:8080/x")
    assert mapped["addresses"][0]["class"] == "private" and mapped["allowed"] is False
    obfuscated = await explain(client, "http://2130706433/")
    assert obfuscated["allowed"] is False and obfuscated["destination"] is None
    assert "not a canonical dotted-decimal IPv4 address" in obfuscated["reason"]
    public = await explain(client, "http://93.184.216.34/v1")
    assert public["allowed"] is True and public["private"] is False
    assert public["addresses"] == [{"address": "93.184.216.34", "class": "public", "private": False}]
    assert_error(
        await client.post(f"{MLGATE}/egress/_explain", json={}),
        400,
        "illegal_argument_exception",
        "url is required",
    )
