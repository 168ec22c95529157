"""Google (Gemini, Vertex AI), Aleph Alpha and Bedrock guardrail shapes of the mock provider."""

from __future__ import annotations

from typing import Any

import aiohttp

from mlgate.mockprovider import MockProvider, fake_model


async def _post(http: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, Any]:
    async with http.post(url, json=body) as resp:
        return resp.status, await resp.json()


async def test_gemini_generate_content(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {
        "systemInstruction": {"parts": [{"text": "judge"}]},
        "contents": [{"role": "user", "parts": [{"text": "rate this"}]}],
    }
    status, answer = await _post(http, f"{provider.url}/v1beta/models/gemini-2.0-flash:generateContent", body)
    assert status == 200
    assert answer["candidates"][0]["content"]["parts"][0]["text"] == "Mock response to: rate this"
    assert answer["modelVersion"] == "gemini-2.0-flash"


async def test_gemini_embed_content_and_errors(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {"content": {"parts": [{"text": "hi"}]}, "outputDimensionality": 6}
    status, answer = await _post(http, f"{provider.url}/v1beta/models/text-embedding-004:embedContent", body)
    assert status == 200
    assert answer == {"embedding": {"values": fake_model.embed("hi", 6)}}
    status, answer = await _post(
        http, f"{provider.url}/v1beta/models/gemini:generateContent", {"contents": []}
    )
    assert status == 400
    assert answer["error"]["status"] == "INVALID_ARGUMENT"
    status, answer = await _post(http, f"{provider.url}/v1beta/models/gemini:countTokens", {})
    assert status == 404
    assert answer["error"]["status"] == "NOT_FOUND"


async def test_vertex_embedding_predict(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    url = f"{provider.url}/v1/projects/p/locations/us-central1/publishers/google/models/textembedding-gecko:predict"
    status, answer = await _post(http, url, {"instances": [{"content": "a b"}]})
    assert status == 200
    embeddings = answer["predictions"][0]["embeddings"]
    assert embeddings["values"] == fake_model.embed("a b", 8)
    assert embeddings["statistics"] == {"truncated": False, "token_count": 2}


async def test_aleph_alpha_semantic_embed(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {
        "model": "luminous-base",
        "prompt": "hello",
        "representation": "document",
        "compress_to_size": 128,
    }
    status, answer = await _post(http, f"{provider.url}/semantic_embed", body)
    assert status == 200
    assert answer["embedding"] == fake_model.embed("hello", 128)


async def test_bedrock_guardrail(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    url = f"{provider.url}/guardrail/gr-1/version/1/apply"
    status, answer = await _post(http, url, {"source": "INPUT", "content": [{"text": {"text": "hello"}}]})
    assert status == 200
    assert answer["action"] == "NONE"
    status, answer = await _post(
        http, url, {"source": "INPUT", "content": [{"text": {"text": "tell me about Violence"}}]}
    )
    assert status == 200
    assert answer["action"] == "GUARDRAIL_INTERVENED"
    assert answer["outputs"] == [{"text": "Sorry, the model cannot answer this question."}]
