"""SigV4 round trips through the whole server; the mock provider re-verifies every signature (botocore)."""

from __future__ import annotations

import httpx
import orjson

from mlgate.mockprovider import MockProvider
from tests.conftest import assert_error
from tests.engine.support import (
    ACCESS_KEY,
    SECRET_KEY,
    deploy_model,
    predict,
    titan_connector,
    unique,
)

AUTH_PREFIX = f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/"


async def test_bedrock_titan_text_docs_two_docs_two_signed_calls(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    model = f"amazon.titan-embed-text-v1-{unique()}"
    model_id = await deploy_model(loopback, titan_connector(provider.url, model=model))
    response = await predict(loopback, model_id, {"text_docs": ["hello", "world"]}, "text_embedding")
    assert response.status_code == 200, response.text
    results = response.json()["inference_results"]
    assert len(results) == 2
    for result in results:
        assert result["status_code"] == 200
        [tensor] = result["output"]
        assert tensor["name"] == "sentence_embedding" and tensor["data_type"] == "FLOAT32"
        assert tensor["shape"] == [len(tensor["data"])]
    # Different documents, different vectors, in input order.
    assert results[0]["output"][0]["data"] != results[1]["output"][0]["data"]
    wire = provider.requests(path=f"/model/{model}/invoke")
    assert sorted(orjson.loads(r.body)["inputText"] for r in wire) == ["hello", "world"]
    for request in wire:
        assert request.headers["Authorization"].startswith(AUTH_PREFIX)
        assert "/us-east-1/bedrock/aws4_request" in request.headers["Authorization"]


async def test_wrong_secret_is_refused_by_the_verifier(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    connector = titan_connector(provider.url, model=f"amazon.titan-embed-text-v1-{unique()}")
    connector["credential"] = {"access_key": ACCESS_KEY, "secret_key": "not-the-" + SECRET_KEY}
    model_id = await deploy_model(loopback, connector)
    response = await predict(loopback, model_id, {"text_docs": ["hello"]}, "text_embedding")
    body = assert_error(response, 403, "status_exception")
    assert "signature" in body["error"]["reason"].lower()
    # The secret (a credential value) never appears in the answer, even in a rejected signature.
    assert SECRET_KEY not in response.text


async def test_sagemaker_embedding(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    endpoint = unique("endpoint")
    connector = {
        "name": "sagemaker embeddings",
        "version": "1",
        "protocol": "aws_sigv4",
        "parameters": {"region": "eu-west-1", "service_name": "sagemaker"},
        "credential": {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "session_token": "token-xyz-123"},
        "actions": [
            {
                "action_type": "predict",
                "method": "POST",
                "url": f"{provider.url}/endpoints/{endpoint}/invocations",
                "headers": {"content-type": "application/json"},
                "request_body": "${parameters.input}",
                "pre_process_function": "connector.pre_process.default.embedding",
                "post_process_function": "connector.post_process.default.embedding",
            }
        ],
    }
    model_id = await deploy_model(loopback, connector)
    response = await predict(loopback, model_id, {"text_docs": ["alpha", "beta", "gamma"]}, "text_embedding")
    assert response.status_code == 200, response.text
    [result] = response.json()["inference_results"]
    assert [t["name"] for t in result["output"]] == ["sentence_embedding"] * 3
    [wire] = provider.requests(path=f"/endpoints/{endpoint}/invocations")
    assert orjson.loads(wire.body) == ["alpha", "beta", "gamma"]
    assert wire.headers["Authorization"].startswith(AUTH_PREFIX)
    assert "/eu-west-1/sagemaker/aws4_request" in wire.headers["Authorization"]
    assert wire.headers["X-Amz-Security-Token"] == "token-xyz-123"


async def test_comprehend_target_header_from_parameters(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    connector = {
        "name": "comprehend",
        "version": "1",
        "protocol": "aws_sigv4",
        "parameters": {
            "region": "us-west-2",
            "service_name": "comprehend",
            "api_version": "20171127",
            "api_name": "DetectDominantLanguage",
            "api": "Comprehend_${parameters.api_version}.${parameters.api_name}",
        },
        "credential": {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY},
        "actions": [
            {
                "action_type": "predict",
                "method": "POST",
                "url": f"{provider.url}/",
                "headers": {
                    "X-Amz-Target": "${parameters.api}",
                    "content-type": "application/x-amz-json-1.1",
                },
                "request_body": '{"Text": "${parameters.Text}"}',
            }
        ],
    }
    # An explicit empty interface: the Comprehend preset expects the blueprint's post-processed output.
    model_id = await deploy_model(loopback, connector, interface={})
    text = f"Bonjour, je suis ici pour vous {unique()}"
    response = await predict(loopback, model_id, {"parameters": {"Text": text}})
    assert response.status_code == 200, response.text
    [result] = response.json()["inference_results"]
    languages = result["output"][0]["dataAsMap"]["Languages"]
    assert languages[0]["LanguageCode"] == "fr"
    [wire] = [r for r in provider.requests(path="/") if text in r.body]
    assert wire.headers["X-Amz-Target"] == "Comprehend_20171127.DetectDominantLanguage"
    signed = wire.headers["Authorization"]
    assert "/us-west-2/comprehend/aws4_request" in signed
    assert "x-amz-target" in signed.split("SignedHeaders=")[1].split(",")[0].split(";")
