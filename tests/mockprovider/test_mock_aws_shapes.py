"""SageMaker, Bedrock runtime, Comprehend and Textract shapes of the mock provider (unsigned server)."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
import pytest

from mlgate.mockprovider import MockProvider, fake_model


async def _post(
    http: aiohttp.ClientSession, url: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any, aiohttp.ClientResponse]:
    async with http.post(url, json=body, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None), resp


# --- SageMaker ---------------------------------------------------------------------------------


async def test_sagemaker_list_of_strings_gives_list_of_vectors(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    status, answer, _ = await _post(
        http, f"{provider.url}/endpoints/my-endpoint/invocations?dim=3", ["a", "b"]
    )
    assert status == 200
    assert answer == [fake_model.embed("a", 3), fake_model.embed("b", 3)]


async def test_sagemaker_inputs_text_gives_generated_text(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    body = {"inputs": "hello", "parameters": {"max_new_tokens": 5}}
    status, answer, _ = await _post(http, f"{provider.url}/endpoints/llm/invocations", body)
    assert status == 200
    assert answer == [{"generated_text": "Mock response to: hello"}]


async def test_sagemaker_semantic_highlighter(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    context = "Cats sleep a lot. Heart failure symptoms include fatigue and swelling. Dogs bark."
    single = {"question": "What are the symptoms of heart failure?", "context": context}
    status, answer, _ = await _post(http, f"{provider.url}/endpoints/hl/invocations", single)
    assert status == 200
    [highlight] = answer["highlights"]
    assert context[highlight["start"] : highlight["end"]] == highlight["text"]
    assert highlight["text"] == "Heart failure symptoms include fatigue and swelling."
    batch = {"inputs": [single, {"question": "Which dogs bark?", "context": context}]}
    status, answer, _ = await _post(http, f"{provider.url}/endpoints/hl/invocations", batch)
    assert status == 200
    assert [a["highlights"][0]["text"] for a in answer] == [highlight["text"], "Dogs bark."]


async def test_sagemaker_colpali_queries_and_images(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    body = {"queries": ["hello world"], "images": ["aW1hZ2U="]}
    status, answer, _ = await _post(http, f"{provider.url}/endpoints/colpali/invocations?dim=3", body)
    assert status == 200
    assert answer["query_tokens"][0]["tokens"][-2:] == ["\u2581hello", "\u2581world"]
    assert [len(v) for v in answer["query_embeddings"][0]] == [3] * 5  # one vector per token
    assert len(answer["image_embeddings"][0]) == len(answer["image_mask"][0])
    assert set(answer["patch_shape"]) == {"height", "width", "total", "image_size", "patch_size"}
    assert len(answer["scores"]) == 1 and len(answer["scores"][0]) == 1
    status, answer, _ = await _post(http, f"{provider.url}/endpoints/colpali/invocations", {"queries": ["q"]})
    assert set(answer) == {"query_embeddings", "query_tokens"}


async def test_sagemaker_cross_encoder_pairs(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {
        "inputs": [
            {"text": "I like you", "text_pair": "I hate you"},
            {"text": "I like you", "text_pair": "I like you"},
        ]
    }
    status, answer, _ = await _post(http, f"{provider.url}/endpoints/ce/invocations", body)
    assert status == 200
    assert len(answer) == 2
    assert answer[1]["score"] > answer[0]["score"]


async def test_sagemaker_query_and_texts_rerank(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {"query": "capital of America", "texts": ["Nevada", "Washington is the capital of America"]}
    status, answer, _ = await _post(http, f"{provider.url}/endpoints/bge/invocations", body)
    assert status == 200
    assert [r["index"] for r in answer] == [1, 0]


async def test_sagemaker_object_gives_embeddings(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    status, answer, _ = await _post(
        http, f"{provider.url}/endpoints/e/invocations", {"text_inputs": ["x", "y"]}
    )
    assert status == 200
    assert answer == {"embeddings": [fake_model.embed("x", 8), fake_model.embed("y", 8)]}
    status, answer, resp = await _post(http, f"{provider.url}/endpoints/e/invocations", {"nothing": 1})
    assert status == 400
    assert resp.headers["x-amzn-ErrorType"].startswith("ValidationException")


# --- Bedrock runtime ---------------------------------------------------------------------------


async def test_titan_text_embedding(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    url = f"{provider.url}/model/amazon.titan-embed-text-v1/invoke"
    status, answer, _ = await _post(http, url, {"inputText": "What is the meaning of life?"})
    assert status == 200
    assert answer == {
        "embedding": fake_model.embed("What is the meaning of life?", 8),
        "inputTextTokenCount": 6,
    }


async def test_titan_v2_dimensions_and_embedding_types(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    url = f"{provider.url}/model/amazon.titan-embed-text-v2:0/invoke"
    body = {"inputText": "hi", "dimensions": 256, "normalize": True, "embeddingTypes": ["float", "binary"]}
    status, answer, _ = await _post(http, url, body)
    assert status == 200
    assert len(answer["embedding"]) == 256
    assert answer["embeddingsByType"]["float"] == answer["embedding"]
    assert set(answer["embeddingsByType"]["binary"]) <= {0, 1}


async def test_titan_multimodal(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    url = f"{provider.url}/model/amazon.titan-embed-image-v1/invoke"
    status, text_only, _ = await _post(http, url, {"inputText": "cat", "inputImage": "null"})
    assert status == 200
    status, both, _ = await _post(http, url, {"inputText": "cat", "inputImage": "AAAA"})
    assert status == 200
    assert text_only["embedding"] != both["embedding"]
    status, _, _ = await _post(http, url, {"inputText": "null", "inputImage": "null"})
    assert status == 400


async def test_nova_multimodal_embedding(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {
        "taskType": "SINGLE_EMBEDDING",
        "singleEmbeddingParams": {"embeddingDimension": 3, "text": {"truncationMode": "END", "value": "hi"}},
    }
    status, answer, _ = await _post(
        http, f"{provider.url}/model/amazon.nova-2-multimodal-embeddings-v1:0/invoke", body
    )
    assert status == 200
    assert answer == {"embeddings": [{"embeddingType": "TEXT", "embedding": fake_model.embed("hi", 3)}]}


async def test_cohere_embed_on_bedrock(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {"texts": ["Hello world", "This is a test"], "input_type": "search_document"}
    status, answer, _ = await _post(http, f"{provider.url}/model/cohere.embed-english-v3/invoke", body)
    assert status == 200
    assert answer["embeddings"] == [fake_model.embed("Hello world", 8), fake_model.embed("This is a test", 8)]


async def test_claude_messages(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hello"}]}],
    }
    url = f"{provider.url}/model/anthropic.claude-3-sonnet-20240229-v1:0/invoke"
    status, answer, _ = await _post(http, url, body)
    assert status == 200
    assert answer["content"] == [{"type": "text", "text": "Mock response to: hello"}]
    assert answer["role"] == "assistant"
    assert answer["model"] == "anthropic.claude-3-sonnet-20240229-v1:0"


@pytest.mark.parametrize(
    ("model_id", "path_to_text"),
    [
        ("anthropic.claude-v2", ("completion",)),
        ("ai21.j2-mid-v1", ("completions", 0, "data", "text")),
        ("meta.llama3-8b-instruct-v1:0", ("generation",)),
        ("mistral.mistral-7b-instruct-v0:2", ("outputs", 0, "text")),
        ("us.deepseek.r1-v1:0", ("choices", 0, "text")),
    ],
)
async def test_prompt_models(
    provider: MockProvider, http: aiohttp.ClientSession, model_id: str, path_to_text: tuple[Any, ...]
) -> None:
    status, answer, _ = await _post(
        http, f"{provider.url}/model/{model_id}/invoke", {"prompt": "\n\nHuman: hi\n\nAssistant:"}
    )
    assert status == 200
    value = answer
    for step in path_to_text:
        value = value[step]
    assert "Mock response to:" in value


async def test_titan_text_generation(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    status, answer, _ = await _post(
        http, f"{provider.url}/model/amazon.titan-text-express-v1/invoke", {"inputText": "hi"}
    )
    assert status == 200
    assert answer["results"][0]["outputText"] == "Mock response to: hi"


async def test_rerank_through_invoke(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {"query": "capital", "documents": ["no", "the capital"], "api_version": 2}
    status, answer, _ = await _post(http, f"{provider.url}/model/cohere.rerank-v3-5:0/invoke", body)
    assert status == 200
    assert [r["index"] for r in answer["results"]] == [1, 0]
    assert all("relevance_score" in r for r in answer["results"])


async def test_unknown_invoke_body_is_a_validation_exception(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    status, answer, resp = await _post(http, f"{provider.url}/model/x/invoke", {"foo": "bar"})
    assert status == 400
    assert answer["message"].startswith("Malformed input request")
    assert resp.headers["x-amzn-ErrorType"].startswith("ValidationException:")


async def test_converse(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {
        "system": [{"text": "be nice"}],
        "messages": [{"role": "user", "content": [{"text": "meaning of life?"}]}],
        "inferenceConfig": {"maxTokens": 10},
    }
    status, answer, _ = await _post(http, f"{provider.url}/model/anthropic.claude-3-haiku/converse", body)
    assert status == 200
    assert answer["output"]["message"]["content"][0]["text"] == "Mock response to: meaning of life?"
    assert answer["stopReason"] == "end_turn"
    usage = answer["usage"]
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]


async def test_bedrock_rerank_api(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {
        "queries": [{"type": "TEXT", "textQuery": {"text": "capital city"}}],
        "sources": [
            {"type": "INLINE", "inlineDocumentSource": {"type": "TEXT", "textDocument": {"text": d}}}
            for d in ["a dog", "the capital city", "a city"]
        ],
        "rerankingConfiguration": {
            "type": "BEDROCK_RERANKING_MODEL",
            "bedrockRerankingConfiguration": {
                "numberOfResults": 2,
                "modelConfiguration": {"modelArn": "arn"},
            },
        },
    }
    status, answer, _ = await _post(http, f"{provider.url}/rerank", body)
    assert status == 200
    assert [r["index"] for r in answer["results"]] == [1, 2]
    assert set(answer["results"][0]) == {"index", "relevanceScore"}


# --- Comprehend and Textract -------------------------------------------------------------------


async def test_comprehend_detect_dominant_language(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    headers = {"X-Amz-Target": "Comprehend_20171127.DetectDominantLanguage"}
    status, answer, resp = await _post(http, f"{provider.url}/", {"Text": "Bonjour, je suis là"}, headers)
    assert status == 200
    assert resp.content_type == "application/x-amz-json-1.1"
    assert answer["Languages"][0]["LanguageCode"] == "fr"


async def test_comprehend_detect_entities(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    headers = {"X-Amz-Target": "Comprehend_20171127.DetectEntities"}
    body = {"Text": "Bob ordered two sandwiches in Seattle", "LanguageCode": "en"}
    status, answer, _ = await _post(http, f"{provider.url}/", body, headers)
    assert status == 200
    assert [(e["Text"], e["BeginOffset"], e["EndOffset"]) for e in answer["Entities"]] == [
        ("Bob", 0, 3),
        ("Seattle", 30, 37),
    ]


async def test_textract_detect_document_text(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    headers = {"X-Amz-Target": "Textract.DetectDocumentText"}
    body = {"Document": {"Bytes": base64.b64encode(b"Hello World!!").decode()}}
    status, answer, _ = await _post(http, f"{provider.url}/", body, headers)
    assert status == 200
    lines = [b["Text"] for b in answer["Blocks"] if b["BlockType"] == "LINE"]
    assert lines == ["Hello World!!"]


async def test_unknown_target(provider: MockProvider, http: aiohttp.ClientSession) -> None:
    status, answer, _ = await _post(http, f"{provider.url}/", {"Text": "x"}, {"X-Amz-Target": "Nope.Op"})
    assert status == 400
    assert answer["__type"] == "UnknownOperationException"
