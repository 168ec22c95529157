"""OpenAI-style routes of the mock provider."""

from __future__ import annotations

import base64
import math
import struct

import aiohttp

from mlgate.mockprovider import MockProvider, fake_model


async def test_chat_completion_replies_to_last_user_message(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    body = {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "what is 2+2?"}]},
        ],
    }
    async with http.post(f"{provider.url}/v1/chat/completions", json=body) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        answer = await resp.json()
    assert answer["object"] == "chat.completion"
    assert answer["model"] == "gpt-4o"
    assert answer["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Mock response to: what is 2+2?",
        "refusal": None,
    }
    assert answer["choices"][0]["finish_reason"] == "stop"
    usage = answer["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


async def test_chat_completion_is_deterministic_and_honours_n(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    body = {"model": "m", "n": 3, "messages": [{"role": "user", "content": "hi"}]}
    answers = []
    for _ in range(2):
        async with http.post(f"{provider.url}/v1/chat/completions", json=body) as resp:
            answers.append(await resp.read())
    assert answers[0] == answers[1]
    async with http.post(f"{provider.url}/v1/chat/completions", json=body) as resp:
        choices = (await resp.json())["choices"]
    assert [c["index"] for c in choices] == [0, 1, 2]


async def test_chat_completion_without_messages_is_an_openai_400(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{provider.url}/v1/chat/completions", json={"model": "m"}) as resp:
        assert resp.status == 400
        error = (await resp.json())["error"]
    assert error["type"] == "invalid_request_error"
    assert "messages" in error["message"]


async def test_unparsable_json_is_an_openai_400(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{provider.url}/v1/embeddings", data=b'{ "input": hello }') as resp:
        assert resp.status == 400
        error = (await resp.json())["error"]
    assert error["message"].startswith("We could not parse the JSON body of your request.")


async def test_completion(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": "Say hi", "max_tokens": 5}
    async with http.post(f"{provider.url}/v1/completions", json=body) as resp:
        assert resp.status == 200
        answer = await resp.json()
    assert answer["object"] == "text_completion"
    assert answer["choices"] == [
        {"text": "Mock response to: Say hi", "index": 0, "logprobs": None, "finish_reason": "stop"}
    ]


async def test_embeddings_for_a_list_keep_input_order(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    texts = ['hello "world"', "café", 'hello "world"']
    async with http.post(f"{provider.url}/v1/embeddings", json={"input": texts, "model": "ada"}) as resp:
        assert resp.status == 200
        answer = await resp.json()
    assert answer["object"] == "list"
    assert answer["model"] == "ada"
    assert [d["index"] for d in answer["data"]] == [0, 1, 2]
    vectors = [d["embedding"] for d in answer["data"]]
    assert vectors[0] == vectors[2] == fake_model.embed(texts[0], 8)
    assert vectors[0] != vectors[1]
    assert all(len(v) == 8 for v in vectors)
    assert math.isclose(math.sqrt(sum(x * x for x in vectors[1])), 1.0, abs_tol=1e-4)
    assert answer["usage"]["prompt_tokens"] == answer["usage"]["total_tokens"] > 0


async def test_embedding_size_comes_from_query_then_body(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{provider.url}/v1/embeddings", json={"input": "x", "dimensions": 5}) as resp:
        assert len((await resp.json())["data"][0]["embedding"]) == 5
    async with http.post(
        f"{provider.url}/v1/embeddings?dim=1536", json={"input": "x", "dimensions": 5}
    ) as resp:
        assert len((await resp.json())["data"][0]["embedding"]) == 1536
    async with http.post(f"{provider.url}/v1/embeddings?dim=zero", json={"input": "x"}) as resp:
        assert resp.status == 400


async def test_embeddings_base64_encoding(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {"input": "x", "encoding_format": "base64"}
    async with http.post(f"{provider.url}/v1/embeddings", json=body) as resp:
        encoded = (await resp.json())["data"][0]["embedding"]
    decoded = struct.unpack("<8f", base64.b64decode(encoded))
    assert all(
        math.isclose(a, b, abs_tol=1e-6) for a, b in zip(decoded, fake_model.embed("x", 8), strict=True)
    )


async def test_embeddings_reject_a_missing_input(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{provider.url}/v1/embeddings", json={"model": "ada"}) as resp:
        assert resp.status == 400
        assert "input" in (await resp.json())["error"]["message"]


async def test_azure_deployment_routes(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    base = f"{provider.url}/openai/deployments/my-embed"
    async with http.post(f"{base}/embeddings?api-version=2024-02-01", json={"input": ["a"]}) as resp:
        answer = await resp.json()
    assert answer["model"] == "my-embed"
    assert answer["data"][0]["embedding"] == fake_model.embed("a", 8)
    chat = {"messages": [{"role": "user", "content": "yo"}]}
    async with http.post(f"{provider.url}/openai/deployments/gpt/chat/completions", json=chat) as resp:
        assert (await resp.json())["choices"][0]["message"]["content"] == "Mock response to: yo"
