"""Render shows what Painless pre/post-process scripts do, without calling the provider."""

from __future__ import annotations

import httpx

from mlgate.mockprovider import MockProvider

# text_docs reach a script already JSON-escaped (as ML Commons does with Gson), so no escape() here.
PRE = 'return \'{"parameters": {"inputText": "\' + params.text_docs[0] + \'"}}\';'
POST = (
    "def v = params.embedding; "
    'return \'{"name": "sentence_embedding", "data_type": "FLOAT32", "shape": [\' + v.size() + \'],'
    " \"data\": ' + v + '}';"
)


def connector(provider: MockProvider) -> dict:
    return {
        "name": "scripted titan",
        "version": "1",
        "protocol": "http",
        "parameters": {},
        "credential": {"key": "render-secret-99"},
        "actions": [
            {
                "action_type": "predict",
                "method": "POST",
                "url": f"{provider.url}/model/amazon.titan-embed-text-v1/invoke",
                "headers": {"x-api-key": "${credential.key}"},
                "request_body": '{ "inputText": "${parameters.inputText}" }',
                "pre_process_function": PRE,
                "post_process_function": POST,
            }
        ],
    }


async def test_script_output_and_sample_post_process(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    before = len(provider.requests())
    response = await loopback.post(
        "/_plugins/_mlgate/connectors/_render",
        json={
            "connector": connector(provider),
            "text_docs": ['say "hi"'],
            "sample_response": {"embedding": [0.5, 1.0e-4]},
        },
    )
    assert response.status_code == 200, response.text
    shown = response.json()["requests"][0]
    assert shown["parameters"]["inputText"] == 'say \\"hi\\"'
    assert shown["body"] == '{ "inputText": "say \\"hi\\"" }'
    assert shown["body_json"]["valid"] is True
    assert shown["headers"]["x-api-key"] == "*****"
    assert "render-secret-99" not in response.text
    tensor = shown["post_process"]["output"][0]
    assert tensor == {
        "name": "sentence_embedding",
        "data_type": "FLOAT32",
        "shape": [2],
        "data": [0.5, 1.0e-4],
    }
    assert len(provider.requests()) == before
