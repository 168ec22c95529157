"""Cohere-style routes of the mock provider."""

from __future__ import annotations

from typing import Any

import aiohttp

from mlgate.mockprovider import MockProvider, fake_model

DOCUMENTS = [
    "Carson City is the capital city of the American state of Nevada.",
    "The Commonwealth of the Northern Mariana Islands is a group of islands in the Pacific Ocean.",
    "Washington, D.C. is the capital of the United States.",
    "Capital punishment has existed in the United States since before it was a country.",
]


async def _post(http: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, Any]:
    async with http.post(url, json=body) as resp:
        return resp.status, await resp.json()


async def test_embed_v1_returns_float_lists(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    status, answer = await _post(
        http, f"{provider.url}/v1/embed", {"texts": ["a", "b"], "model": "embed-english-v3.0"}
    )
    assert status == 200
    assert answer["embeddings"] == [fake_model.embed("a", 8), fake_model.embed("b", 8)]
    assert answer["texts"] == ["a", "b"]
    assert answer["response_type"] == "embeddings_floats"


async def test_embed_v1_with_embedding_types(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {"texts": ["a", "b"], "embedding_types": ["int8", "float", "ubinary"]}
    status, answer = await _post(http, f"{provider.url}/v1/embed?dim=16", body)
    assert status == 200
    by_type = answer["embeddings"]
    assert set(by_type) == {"int8", "float", "ubinary"}
    assert by_type["float"][1] == fake_model.embed("b", 16)
    assert all(-128 <= v <= 127 and isinstance(v, int) for v in by_type["int8"][0])
    assert len(by_type["int8"][0]) == 16
    assert len(by_type["ubinary"][0]) == 2  # 16 sign bits packed into 2 bytes


async def test_embed_rejects_unknown_types_and_missing_texts(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    status, answer = await _post(
        http, f"{provider.url}/v1/embed", {"texts": ["a"], "embedding_types": ["int4"]}
    )
    assert status == 400
    assert "int4" in answer["message"]
    status, answer = await _post(http, f"{provider.url}/v1/embed", {"model": "x"})
    assert status == 400
    assert "texts" in answer["message"]


async def test_embed_v2_is_always_by_type(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    status, answer = await _post(http, f"{provider.url}/v2/embed", {"texts": ["a"], "model": "embed-v4.0"})
    assert status == 200
    assert answer["embeddings"] == {"float": [fake_model.embed("a", 8)]}


async def test_embed_images(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    status, answer = await _post(http, f"{provider.url}/v1/embed", {"images": ["data:image/png;base64,AAAA"]})
    assert status == 200
    assert answer["embeddings"] == [fake_model.embed("data:image/png;base64,AAAA", 8)]
    assert answer["texts"] == []


async def test_rerank_v1_sorts_by_relevance(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {"query": "What is the capital of the United States?", "documents": DOCUMENTS, "top_n": 4}
    status, answer = await _post(http, f"{provider.url}/v1/rerank", body)
    assert status == 200
    results = answer["results"]
    scores = [r["relevance_score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert sorted(r["index"] for r in results) == [0, 1, 2, 3]
    assert results[0]["index"] == 2  # the document sharing most words with the query
    assert "document" not in results[0]


async def test_rerank_v1_top_n_and_return_documents(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    body = {"query": "capital", "documents": DOCUMENTS, "top_n": 2, "return_documents": True}
    status, answer = await _post(http, f"{provider.url}/v1/rerank", body)
    assert status == 200
    assert len(answer["results"]) == 2
    first = answer["results"][0]
    assert first["document"] == {"text": DOCUMENTS[first["index"]]}


async def test_rerank_v2_never_returns_documents(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {"query": "capital", "documents": DOCUMENTS, "return_documents": True}
    status, answer = await _post(http, f"{provider.url}/v2/rerank", body)
    assert status == 200
    assert len(answer["results"]) == 4
    assert all(set(r) == {"index", "relevance_score"} for r in answer["results"])


async def test_rerank_without_query_is_a_cohere_400(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    status, answer = await _post(http, f"{provider.url}/v1/rerank", {"documents": DOCUMENTS})
    assert status == 400
    assert set(answer) == {"message"}


async def test_chat_v1(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    status, answer = await _post(
        http, f"{provider.url}/v1/chat", {"message": "weather in London?", "model": "command"}
    )
    assert status == 200
    assert answer["text"] == "Mock response to: weather in London?"
    assert answer["finish_reason"] == "COMPLETE"
    assert answer["chat_history"][-1] == {"role": "CHATBOT", "message": answer["text"]}


async def test_chat_v2(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {"model": "command-r", "messages": [{"role": "user", "content": "hello"}]}
    status, answer = await _post(http, f"{provider.url}/v2/chat", body)
    assert status == 200
    assert answer["message"]["content"] == [{"type": "text", "text": "Mock response to: hello"}]
