"""Google answers: Gemini ``generateContent`` / ``embedContent`` and Vertex AI ``predict``."""

from __future__ import annotations

from typing import Any

from mlgate.mockprovider import fake_model
from mlgate.mockprovider.shape import InvalidInput, ShapeRequest, require_str, text_of


def _model_and_method(request: ShapeRequest) -> tuple[str, str]:
    model, _, method = request.path_params["model_method"].partition(":")
    return model, method


def _last_user_parts_text(contents: object) -> str:
    if not isinstance(contents, list) or not contents:
        raise InvalidInput("* GenerateContentRequest.contents: contents is not specified")
    for content in reversed(contents):
        if isinstance(content, dict) and content.get("role", "user") == "user":
            return text_of(content.get("parts"))
    return ""


def _generate_content(model: str, body: dict[str, Any]) -> dict[str, Any]:
    prompt = _last_user_parts_text(body.get("contents"))
    text = fake_model.reply_to(prompt)
    prompt_tokens = fake_model.count_tokens(prompt)
    output_tokens = fake_model.count_tokens(text)
    return {
        "candidates": [
            {"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": prompt_tokens + output_tokens,
        },
        "modelVersion": model,
    }


def _embed_content(request: ShapeRequest, body: dict[str, Any]) -> dict[str, Any]:
    content = body.get("content")
    text = text_of(content.get("parts")) if isinstance(content, dict) else ""
    if not text:
        raise InvalidInput("* EmbedContentRequest.content: contains an empty Part.")
    return {"embedding": {"values": fake_model.embed(text, request.dim(body.get("outputDimensionality")))}}


def gemini(request: ShapeRequest) -> dict[str, Any]:
    """``POST /v1beta/models/{model}:generateContent`` and ``…:embedContent``."""
    body = request.require_object()
    model, method = _model_and_method(request)
    if method == "generateContent":
        return _generate_content(model, body)
    if method == "embedContent":
        return _embed_content(request, body)
    raise InvalidInput(f"Method {method!r} is not supported by the mock provider.", status=404)


def vertex_predict(request: ShapeRequest) -> dict[str, Any]:
    """``POST …/publishers/google/models/{model}:predict``: embeddings for ``content``, text for ``prompt``."""
    instances = request.require_object().get("instances")
    if not isinstance(instances, list) or not instances or not all(isinstance(i, dict) for i in instances):
        raise InvalidInput("instances must be a non-empty list of objects.")
    predictions: list[dict[str, Any]] = []
    for instance in instances:
        if "content" in instance:
            text = require_str(instance["content"], "content")
            statistics = {"truncated": False, "token_count": fake_model.count_tokens(text)}
            embedding = {"values": fake_model.embed(text, request.dim()), "statistics": statistics}
            predictions.append({"embeddings": embedding})
        else:
            predictions.append(
                {"content": fake_model.reply_to(require_str(instance.get("prompt"), "prompt"))}
            )
    return {"predictions": predictions, "deployedModelId": "", "model": _model_and_method(request)[0]}
