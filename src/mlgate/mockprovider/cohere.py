"""Cohere-style answers: embed (v1/v2), rerank (v1/v2) and chat (v1/v2); also Cohere on Bedrock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mlgate.mockprovider import fake_model
from mlgate.mockprovider.shape import (
    InvalidInput,
    ShapeRequest,
    last_user_text,
    require_str,
    require_str_list,
)

_QUANTIZERS: dict[str, Callable[[Sequence[float]], list[Any]]] = {
    "float": list,
    "int8": fake_model.quantize_int8,
    "uint8": fake_model.quantize_uint8,
    "binary": lambda v: fake_model.pack_bits(v, signed=True),
    "ubinary": lambda v: fake_model.pack_bits(v, signed=False),
}


def _meta(input_tokens: int, output_tokens: int = 0) -> dict[str, Any]:
    units = {"input_tokens": input_tokens}
    if output_tokens:
        units["output_tokens"] = output_tokens
    return {"api_version": {"version": "1"}, "billed_units": units}


def _embedding_types(value: object) -> list[str] | None:
    if value is None:
        return None
    types = require_str_list(value, "embedding_types")
    unknown = [t for t in types if t not in _QUANTIZERS]
    if unknown:
        raise InvalidInput(f"invalid embedding type: {unknown[0]}. Valid types are {sorted(_QUANTIZERS)}")
    return types


def embed_payload(body: dict[str, Any], dim: int, *, always_by_type: bool) -> dict[str, Any]:
    """The Cohere embed answer for ``texts`` or ``images``; shared by Cohere v1/v2 and Bedrock."""
    texts = body.get("texts")
    inputs = require_str_list(texts if texts is not None else body.get("images"), "texts")
    types = _embedding_types(body.get("embedding_types"))
    if types is None and always_by_type:
        types = ["float"]
    vectors = [fake_model.embed(text, dim) for text in inputs]
    answer: dict[str, Any] = {"id": fake_model.short_id("embed", *inputs)}
    if types is None:
        answer["embeddings"] = vectors
        answer["response_type"] = "embeddings_floats"
    else:
        answer["embeddings"] = {t: [_QUANTIZERS[t](v) for v in vectors] for t in types}
        answer["response_type"] = "embeddings_by_type"
    answer["texts"] = inputs if texts is not None else []
    if texts is None:
        answer["images"] = [{"width": 1, "height": 1, "format": "png", "bit_depth": 8} for _ in inputs]
    answer["meta"] = _meta(sum(fake_model.count_tokens(t) for t in inputs))
    return answer


def embed_v1(request: ShapeRequest) -> dict[str, Any]:
    """``POST /v1/embed``: a list of float vectors, or vectors by type when ``embedding_types`` is set."""
    body = request.require_object()
    return embed_payload(body, request.dim(body.get("output_dimension")), always_by_type=False)


def embed_v2(request: ShapeRequest) -> dict[str, Any]:
    """``POST /v2/embed``: vectors always keyed by embedding type."""
    body = request.require_object()
    answer = embed_payload(body, request.dim(body.get("output_dimension")), always_by_type=True)
    del answer["response_type"]
    return answer


def ranked(query: str, documents: Sequence[str], top_n: object) -> list[tuple[int, float]]:
    """``(index, score)`` pairs sorted by score, best first, cut to ``top_n`` when it is given."""
    scores = sorted(
        ((i, fake_model.relevance(query, doc)) for i, doc in enumerate(documents)),
        key=lambda pair: (-pair[1], pair[0]),
    )
    if top_n is None:
        return scores
    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
        raise InvalidInput("top_n must be a positive integer.")
    return scores[:top_n]


def _document_texts(value: object) -> list[str]:
    # Cohere v1 also accepts {"text": ...} objects as documents.
    if isinstance(value, list) and all(isinstance(d, dict) and isinstance(d.get("text"), str) for d in value):
        return [d["text"] for d in value]
    return require_str_list(value, "documents")


def rerank_payload(body: dict[str, Any], *, with_documents: bool) -> dict[str, Any]:
    """Cohere rerank: ``results`` of ``index`` and ``relevance_score``, best first."""
    query = require_str(body.get("query"), "query")
    documents = _document_texts(body.get("documents"))
    results: list[dict[str, Any]] = []
    for index, score in ranked(query, documents, body.get("top_n")):
        result: dict[str, Any] = {"index": index, "relevance_score": score}
        if with_documents:
            result["document"] = {"text": documents[index]}
        results.append(result)
    return {
        "id": fake_model.short_id("rerank", query, *documents),
        "results": results,
        "meta": {"api_version": {"version": "1"}, "billed_units": {"search_units": 1}},
    }


def rerank_v1(request: ShapeRequest) -> dict[str, Any]:
    """``POST /v1/rerank``; documents are echoed when ``return_documents`` is true."""
    body = request.require_object()
    return rerank_payload(body, with_documents=body.get("return_documents") is True)


def rerank_v2(request: ShapeRequest) -> dict[str, Any]:
    """``POST /v2/rerank``; v2 never echoes documents."""
    return rerank_payload(request.require_object(), with_documents=False)


def chat_v1(request: ShapeRequest) -> dict[str, Any]:
    """``POST /v1/chat``: a reply ``text`` to ``message``."""
    body = request.require_object()
    message = require_str(body.get("message"), "message")
    text = fake_model.reply_to(message)
    prompt_tokens = fake_model.count_tokens(message)
    response_tokens = fake_model.count_tokens(text)
    history = body.get("chat_history")
    if not isinstance(history, list):
        history = []
    return {
        "response_id": fake_model.short_id("chat-response", message),
        "text": text,
        "generation_id": fake_model.short_id("chat-generation", message),
        "chat_history": [
            *history,
            {"role": "USER", "message": message},
            {"role": "CHATBOT", "message": text},
        ],
        "finish_reason": "COMPLETE",
        "token_count": {
            "prompt_tokens": prompt_tokens,
            "response_tokens": response_tokens,
            "total_tokens": prompt_tokens + response_tokens,
            "billed_tokens": prompt_tokens + response_tokens,
        },
        "meta": _meta(prompt_tokens, response_tokens),
    }


def chat_v2(request: ShapeRequest) -> dict[str, Any]:
    """``POST /v2/chat``: an assistant ``message`` with text content parts."""
    body = request.require_object()
    prompt = last_user_text(body.get("messages"))
    text = fake_model.reply_to(prompt)
    tokens = {
        "input_tokens": fake_model.count_tokens(prompt),
        "output_tokens": fake_model.count_tokens(text),
    }
    return {
        "id": fake_model.short_id("chat-v2", prompt),
        "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
        "finish_reason": "COMPLETE",
        "usage": {"billed_units": tokens, "tokens": tokens},
    }
