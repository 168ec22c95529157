"""OpenAI-style answers (also Azure OpenAI, DeepSeek, Ollama and Bedrock's OpenAI-compatible route)."""

from __future__ import annotations

from typing import Any

from mlgate.mockprovider import fake_model
from mlgate.mockprovider.shape import InvalidInput, ShapeRequest, last_user_text, require_str

# Responses carry a fixed creation time so that identical requests give byte-identical answers.
CREATED = 1_700_000_000


def _usage(prompt: str, completion: str) -> dict[str, int]:
    prompt_tokens = fake_model.count_tokens(prompt)
    completion_tokens = fake_model.count_tokens(completion)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _choice_count(body: dict[str, Any]) -> int:
    n = body.get("n", 1)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 128:
        raise InvalidInput(f"{n!r} is not valid under any of the given schemas - 'n'")
    return n


def chat_completion(request: ShapeRequest) -> dict[str, Any]:
    """``POST /v1/chat/completions``: a ``chat.completion`` replying to the last user message."""
    body = request.require_object()
    prompt = last_user_text(body.get("messages"))
    content = fake_model.reply_to(prompt)
    model = body.get("model") or request.path_params.get("deployment", "gpt-4o-mini")
    choices = [
        {
            "index": i,
            "message": {"role": "assistant", "content": content, "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
        for i in range(_choice_count(body))
    ]
    return {
        "id": "chatcmpl-" + fake_model.short_id("chat", prompt),
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": choices,
        "usage": _usage(prompt, content),
        "system_fingerprint": "fp_mlgate_mock",
    }


def completion(request: ShapeRequest) -> dict[str, Any]:
    """``POST /v1/completions``: a legacy ``text_completion``."""
    body = request.require_object()
    prompt = body.get("prompt")
    if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        prompts = prompt
    else:
        prompts = [require_str(prompt, "prompt")]
    texts = [fake_model.reply_to(p) for p in prompts]
    choices = [
        {"text": text, "index": i, "logprobs": None, "finish_reason": "stop"} for i, text in enumerate(texts)
    ]
    joined = " ".join(prompts)
    return {
        "id": "cmpl-" + fake_model.short_id("completion", joined),
        "object": "text_completion",
        "created": CREATED,
        "model": body.get("model", "gpt-3.5-turbo-instruct"),
        "choices": choices,
        "usage": _usage(joined, " ".join(texts)),
    }


def _embedding_inputs(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value:
        # Token arrays (lists of ints) are accepted by OpenAI too; their text form is hashed.
        if all(isinstance(v, str) for v in value):
            return value
        if all(isinstance(v, int) for v in value):
            return [str(value)]
        if all(isinstance(v, list) for v in value):
            return [str(v) for v in value]
    raise InvalidInput("'input' must be a string, an array of strings or an array of token arrays.")


def embeddings(request: ShapeRequest) -> dict[str, Any]:
    """``POST /v1/embeddings``: one ``embedding`` object per input, in input order."""
    body = request.require_object()
    texts = _embedding_inputs(body.get("input"))
    dim = request.dim(body.get("dimensions"))
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    for index, text in enumerate(texts):
        vector = fake_model.embed(text, dim)
        data.append(
            {
                "object": "embedding",
                "index": index,
                "embedding": fake_model.float32_base64(vector) if as_base64 else vector,
            }
        )
    tokens = sum(fake_model.count_tokens(t) for t in texts)
    return {
        "object": "list",
        "data": data,
        "model": body.get("model") or request.path_params.get("deployment", "text-embedding-3-small"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
