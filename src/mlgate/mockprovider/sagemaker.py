"""SageMaker runtime answers: ``POST /endpoints/{endpoint}/invocations``.

A SageMaker endpoint answers whatever its container answers, so the body decides: the shapes below
are those of the Hugging Face / DJL containers the ML Commons blueprints use.
"""

from __future__ import annotations

import re
from typing import Any

from mlgate.mockprovider import fake_model
from mlgate.mockprovider.cohere import ranked
from mlgate.mockprovider.shape import InvalidInput, ShapeRequest, require_str, require_str_list

# Object fields that carry the text of an embedding request, in the order they are looked for.
_TEXT_FIELDS = ("text_inputs", "inputs", "input", "inputText", "texts", "text")


def _pairs(value: object) -> list[tuple[str, str]] | None:
    """``(text, text_pair)`` tuples when ``value`` is a cross-encoder input list, else ``None``."""
    if not isinstance(value, list) or not value:
        return None
    if not all(isinstance(v, dict) and "text" in v and "text_pair" in v for v in value):
        return None
    return [(str(v["text"]), str(v["text_pair"])) for v in value]


_SENTENCE = re.compile(r"[^.!?]+[.!?]?")


def _highlights(question: str, context: str) -> dict[str, Any]:
    """The OpenSearch semantic-highlighter container: the context sentence that best answers the question."""
    best: tuple[float, int, int] | None = None
    for match in _SENTENCE.finditer(context):
        start = match.start() + len(match.group()) - len(match.group().lstrip())
        end = match.start() + len(match.group().rstrip())
        if end <= start:
            continue
        score = fake_model.relevance(question, context[start:end])
        if best is None or score > best[0]:
            best = (score, start, end)
    if best is None:
        return {"highlights": []}
    return {
        "highlights": [{"start": best[1], "end": best[2], "text": context[best[1] : best[2]], "position": 0}]
    }


def _highlight_pair(value: Any) -> tuple[str, str] | None:
    if (
        isinstance(value, dict)
        and isinstance(value.get("question"), str)
        and isinstance(value.get("context"), str)
    ):
        return value["question"], value["context"]
    return None


# ColPali (late interaction): a few patch vectors per image on a fixed grid.
_PATCHES = 4
_PATCH_SIZE = 14


def _colpali(body: dict[str, Any], dim: int) -> dict[str, Any]:
    """Multi-vector embeddings of ``queries`` (one vector per token) and/or base64 ``images``, and the
    late-interaction ``scores`` of every query against every image when both are given."""
    answer: dict[str, Any] = {}
    queries = require_str_list(body["queries"], "queries") if "queries" in body else []
    images = require_str_list(body["images"], "images") if "images" in body else []
    query_vectors = []
    if queries:
        tokens = [["<bos>", "Query", ":", *("\u2581" + w for w in q.split())] for q in queries]
        query_vectors = [[fake_model.embed(t, dim) for t in ts] for ts in tokens]
        answer["query_embeddings"] = query_vectors
        answer["query_tokens"] = [
            {"raw": "<bos>Query: " + q, "tokens": ts} for q, ts in zip(queries, tokens, strict=True)
        ]
    image_vectors = []
    if images:
        image_vectors = [[fake_model.embed(f"{i}:{image}", dim) for i in range(_PATCHES)] for image in images]
        answer["image_embeddings"] = image_vectors
        answer["image_mask"] = [[1.0] * _PATCHES for _ in images]
        side = _PATCHES**0.5
        answer["patch_shape"] = {
            "height": side,
            "width": side,
            "total": float(_PATCHES),
            "image_size": [side * _PATCH_SIZE, side * _PATCH_SIZE],
            "patch_size": float(_PATCH_SIZE),
        }
    if query_vectors and image_vectors:
        answer["scores"] = [[_max_sim(q, i) for i in image_vectors] for q in query_vectors]
    return answer


def _max_sim(query: list[list[float]], image: list[list[float]]) -> float:
    return sum(max(sum(a * b for a, b in zip(t, p, strict=True)) for p in image) for t in query)


def invocations(request: ShapeRequest) -> Any:
    """Dispatch on the body: texts ⇒ vectors, ``inputs`` text ⇒ generation, query+texts ⇒ scores,
    question+context (one, or a list under ``inputs``) ⇒ highlights, queries/images ⇒ ColPali."""
    body = request.body
    pair = _highlight_pair(body)
    if pair is not None:
        return _highlights(*pair)
    if isinstance(body, dict) and isinstance(body.get("inputs"), list) and body["inputs"]:
        asked = [_highlight_pair(item) for item in body["inputs"]]
        if all(a is not None for a in asked):
            return [_highlights(*a) for a in asked if a is not None]
    dim = request.dim()
    if isinstance(body, dict) and ("queries" in body or "images" in body):
        return _colpali(body, dim)
    if isinstance(body, list):
        return [fake_model.embed(text, dim) for text in require_str_list(body, "body")]
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON array of strings or a JSON object.")
    inputs = body.get("inputs")
    if isinstance(inputs, str):
        return [{"generated_text": fake_model.reply_to(inputs)}]
    pairs = _pairs(inputs)
    if pairs is not None:
        # Cross-encoder (text-classification on pairs): one score per pair, in input order.
        return [{"label": "LABEL_0", "score": fake_model.relevance(q, d)} for q, d in pairs]
    if "query" in body and "texts" in body:
        query = require_str(body["query"], "query")
        texts = require_str_list(body["texts"], "texts")
        return [{"index": i, "score": s} for i, s in ranked(query, texts, None)]
    for name in _TEXT_FIELDS:
        value = body.get(name)
        if isinstance(value, str):
            return {"embeddings": [fake_model.embed(value, dim)]}
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return {"embeddings": [fake_model.embed(v, dim) for v in value]}
    raise InvalidInput(f"No text found in the request; expected one of the fields {', '.join(_TEXT_FIELDS)}.")
