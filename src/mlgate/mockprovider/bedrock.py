"""Bedrock runtime answers: ``/model/{model_id}/invoke``, ``/model/{model_id}/converse`` and ``/rerank``.

``invoke`` bodies are model specific; the body's fields (and, where two models share fields, the model
id) pick the shape, the way the real service routes to the model's own API.
"""

from __future__ import annotations

from typing import Any

from mlgate.mockprovider import cohere, fake_model
from mlgate.mockprovider.shape import (
    InvalidInput,
    ShapeRequest,
    last_user_text,
    require_str,
    text_of,
)


def _titan_embedding(request: ShapeRequest, body: dict[str, Any]) -> dict[str, Any]:
    text = body.get("inputText")
    image = body.get("inputImage")
    # Blueprints render absent inputs as the string "null" (``${parameters.inputText:-null}``).
    parts = [p for p in (text, image) if isinstance(p, str) and p not in ("", "null")]
    if not parts:
        raise InvalidInput(
            "Malformed input request: inputText or inputImage is required, "
            "please reformat your input and try again."
        )
    config = body.get("embeddingConfig")
    requested = config.get("outputEmbeddingLength") if isinstance(config, dict) else body.get("dimensions")
    vector = fake_model.embed("\x00".join(parts), request.dim(requested))
    answer: dict[str, Any] = {
        "embedding": vector,
        "inputTextTokenCount": fake_model.count_tokens(text) if isinstance(text, str) else 0,
    }
    types = body.get("embeddingTypes")
    if isinstance(types, list):
        by_type: dict[str, Any] = {}
        if "float" in types:
            by_type["float"] = vector
        if "binary" in types:
            by_type["binary"] = fake_model.sign_bits(vector)
        answer["embeddingsByType"] = by_type
    return answer


def _titan_text(body: dict[str, Any]) -> dict[str, Any]:
    prompt = require_str(body["inputText"], "inputText")
    text = fake_model.reply_to(prompt)
    return {
        "inputTextTokenCount": fake_model.count_tokens(prompt),
        "results": [
            {"tokenCount": fake_model.count_tokens(text), "outputText": text, "completionReason": "FINISH"}
        ],
    }


def _nova_embedding(request: ShapeRequest, body: dict[str, Any]) -> dict[str, Any]:
    params = body.get("singleEmbeddingParams")
    if not isinstance(params, dict):
        raise InvalidInput("Malformed input request: singleEmbeddingParams is required.")
    for kind in ("text", "image", "video", "audio"):
        item = params.get(kind)
        if not isinstance(item, dict):
            continue
        source = item.get("source")
        content = (
            item.get("value") if kind == "text" else source.get("bytes") if isinstance(source, dict) else None
        )
        if isinstance(content, str) and content != "null":
            vector = fake_model.embed(content, request.dim(params.get("embeddingDimension")))
            return {"embeddings": [{"embeddingType": kind.upper(), "embedding": vector}]}
    raise InvalidInput("Malformed input request: one of text, image, video or audio is required.")


def _claude_messages(model_id: str, body: dict[str, Any]) -> dict[str, Any]:
    prompt = last_user_text(body["messages"])
    text = fake_model.reply_to(prompt)
    return {
        "id": "msg_bdrk_" + fake_model.short_id("claude", prompt),
        "type": "message",
        "role": "assistant",
        "model": model_id,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": fake_model.count_tokens(prompt),
            "output_tokens": fake_model.count_tokens(text),
        },
    }


def _prompt_completion(model_id: str, body: dict[str, Any]) -> dict[str, Any]:
    prompt = require_str(body["prompt"], "prompt")
    text = fake_model.reply_to(prompt)
    tokens = fake_model.count_tokens(text)
    if model_id.startswith("ai21."):
        return {
            "id": fake_model.short_id("ai21", prompt),
            "prompt": {"text": prompt},
            "completions": [{"data": {"text": text}, "finishReason": {"reason": "endoftext"}}],
        }
    if model_id.startswith("meta."):
        return {
            "generation": text,
            "prompt_token_count": fake_model.count_tokens(prompt),
            "generation_token_count": tokens,
            "stop_reason": "stop",
        }
    if model_id.startswith("mistral."):
        return {"outputs": [{"text": text, "stop_reason": "stop"}]}
    if model_id.startswith(("deepseek.", "us.deepseek.")):
        return {"choices": [{"text": text, "stop_reason": "stop"}]}
    # Anthropic's legacy text-completions API (Claude v2, Claude Instant).
    return {
        "type": "completion",
        "completion": " " + text,
        "stop_reason": "stop_sequence",
        "stop": "\n\nHuman:",
    }


def _rerank_invoke(body: dict[str, Any]) -> dict[str, Any]:
    # amazon.rerank-v1 and cohere.rerank-v3-5 through InvokeModel both answer Cohere-style results.
    answer = cohere.rerank_payload(body, with_documents=False)
    return {"id": answer["id"], "results": answer["results"]}


def invoke(request: ShapeRequest) -> dict[str, Any]:
    """``POST /model/{model_id}/invoke``: the answer of the model family the body belongs to."""
    body = request.require_object()
    model_id = request.path_params["model_id"]
    if "taskType" in body:
        return _nova_embedding(request, body)
    if "messages" in body:
        return _claude_messages(model_id, body)
    if "inputText" in body and model_id.startswith("amazon.titan-text"):
        return _titan_text(body)
    if "inputText" in body or "inputImage" in body:
        return _titan_embedding(request, body)
    if "texts" in body or "images" in body:
        return cohere.embed_payload(body, request.dim(), always_by_type=False)
    if "query" in body and "documents" in body:
        return _rerank_invoke(body)
    if "prompt" in body:
        return _prompt_completion(model_id, body)
    raise InvalidInput(
        f"Malformed input request: the body does not match any input schema of model {model_id}, "
        "please reformat your input and try again."
    )


def converse(request: ShapeRequest) -> dict[str, Any]:
    """``POST /model/{model_id}/converse``: the Converse API's ``output.message``."""
    body = request.require_object()
    messages = body.get("messages")
    prompt = last_user_text(messages)
    text = fake_model.reply_to(prompt)
    input_tokens = fake_model.count_tokens(prompt)
    system = body.get("system")
    if isinstance(system, list):
        input_tokens += fake_model.count_tokens(text_of(system))
    output_tokens = fake_model.count_tokens(text)
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens,
        },
        "metrics": {"latencyMs": 0},
    }


def rerank(request: ShapeRequest) -> dict[str, Any]:
    """``POST /rerank`` (Bedrock Agent Runtime): ``results`` with ``index`` and ``relevanceScore``."""
    body = request.require_object()
    try:
        query = body["queries"][0]["textQuery"]["text"]
        documents = [s["inlineDocumentSource"]["textDocument"]["text"] for s in body["sources"]]
    except (KeyError, IndexError, TypeError) as exc:
        raise InvalidInput(f"1 validation error detected: missing or malformed {exc}") from exc
    config = body.get("rerankingConfiguration")
    top_n = None
    if isinstance(config, dict):
        top_n = config.get("bedrockRerankingConfiguration", {}).get("numberOfResults")
    scores = cohere.ranked(require_str(query, "query"), [require_str(d, "text") for d in documents], top_n)
    return {"results": [{"index": i, "relevanceScore": s} for i, s in scores]}


# Words that make the mock guardrail intervene, so that demos and tests can trigger it on purpose.
GUARDRAIL_WORDS = ("violence", "weapon", "suicide")
GUARDRAIL_MESSAGE = "Sorry, the model cannot answer this question."


def apply_guardrail(request: ShapeRequest) -> dict[str, Any]:
    """``POST /guardrail/{id}/version/{version}/apply``: intervenes on any of :data:`GUARDRAIL_WORDS`."""
    content = request.require_object().get("content")
    if not isinstance(content, list):
        raise InvalidInput(
            "1 validation error detected: Value null at 'content' failed to satisfy constraint"
        )
    text = " ".join(
        part["text"]["text"]
        for part in content
        if isinstance(part, dict)
        and isinstance(part.get("text"), dict)
        and isinstance(part["text"].get("text"), str)
    )
    words = {w.lower() for w in text.split()}
    matches = [w for w in GUARDRAIL_WORDS if w in words]
    usage = {
        "contentPolicyUnits": 1,
        "wordPolicyUnits": 1,
        "topicPolicyUnits": 0,
        "sensitiveInformationPolicyUnits": 0,
    }
    if not matches:
        return {"usage": usage, "action": "NONE", "outputs": [], "assessments": [{}]}
    return {
        "usage": usage,
        "action": "GUARDRAIL_INTERVENED",
        "outputs": [{"text": GUARDRAIL_MESSAGE}],
        "assessments": [
            {"wordPolicy": {"customWords": [{"match": w, "action": "BLOCKED"} for w in matches]}}
        ],
    }
