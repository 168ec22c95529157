"""The provider side of a replay: the mock provider, and provider bodies derived from sample responses.

The mock answers every route in its provider's documented shape, with deterministic fake content.
Where the published sample response can be traced back to the provider body that produced it (the
inverse of ML Commons' post-processing: built-in function, ``response_filter``, ModelTensor wrapping),
the runner queues that body as the mock's next answer, so mlgate's output can be compared value by
value; otherwise only the shape of the output is compared.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mlgate.domain.processing import is_builtin_post_process
from mlgate.mockprovider import MockProvider, start_mock_provider
from tests.conformance.normalise import is_bare_content
from tests.conformance.prepare import AWS_CREDENTIALS

# Default JSONPaths of the built-ins (ML Commons' MLPostProcessFunction) grouped by how they build tensors.
_EMBEDDINGS = {
    "connector.post_process.openai.embedding": "$.data[*].embedding",
    "connector.post_process.cohere.embedding": "$.embeddings",
    "connector.post_process.cohere_v2.embedding.float": "$.embeddings.float",
    "connector.post_process.cohere_v2.embedding.int8": "$.embeddings.int8",
    "connector.post_process.cohere_v2.embedding.uint8": "$.embeddings.uint8",
    "connector.post_process.cohere_v2.embedding.binary": "$.embeddings.binary",
    "connector.post_process.cohere_v2.embedding.ubinary": "$.embeddings.ubinary",
    "connector.post_process.default.embedding": "$[*]",
    "connector.post_process.bedrock.nova.embedding": "$.embeddings[*].embedding",
}
_SINGLE_EMBEDDING = {
    "connector.post_process.bedrock.embedding": "$.embedding",
    "connector.post_process.bedrock_v2.embedding.float": "$.embeddingsByType.float",
    "connector.post_process.bedrock_v2.embedding.binary": "$.embeddingsByType.binary",
}
_RERANK = {
    "connector.post_process.cohere.rerank": ("$.results", "relevance_score"),
    "connector.post_process.default.rerank": ("$[*]", "relevance_score"),
    "connector.post_process.bedrock.rerank": ("$.results", "relevanceScore"),
}
_STEP = re.compile(r"""\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[\*\]|\[['"]([^'"]+)['"]\]""")


async def start_provider() -> MockProvider:
    """A mock provider on 127.0.0.1 that verifies SigV4 with the runner's AWS keys."""
    return await start_mock_provider(aws_credentials=AWS_CREDENTIALS)


def _steps(path: str) -> list[str | int | None] | None:
    """``$.a[0]['b'][*]`` as ``["a", 0, "b", None]`` (None = wildcard); None for anything fancier."""
    if not path.startswith("$"):
        return None
    steps: list[str | int | None] = []
    position = 1
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None:
            return None
        name, index, quoted = match.groups()
        if name is not None or quoted is not None:
            steps.append(name if name is not None else quoted)
        elif index is not None:
            steps.append(int(index))
        else:
            steps.append(None)
        position = match.end()
    return steps


def _place(steps: list[str | int | None], value: Any) -> Any:
    """The smallest JSON document in which ``steps`` selects ``value``."""
    if not steps:
        return value
    step, rest = steps[0], steps[1:]
    if step is None:
        if not isinstance(value, list):
            raise ValueError("a wildcard needs a list")
        return [_place(rest, item) for item in value]
    if isinstance(step, int):
        return [{} for _ in range(step)] + [_place(rest, value)]
    return {step: _place(rest, value)}


def _at_path(path: str, value: Any) -> Any | None:
    steps = _steps(path)
    if steps is None:
        return None
    try:
        return _place(steps, value)
    except ValueError:
        return None


def _vectors(outputs: list[Mapping[str, Any]]) -> list[Any] | None:
    if not outputs or any(not isinstance(o.get("data"), list) for o in outputs):
        return None
    return [o["data"] for o in outputs]


def _from_builtin(name: str, response_filter: str | None, outputs: list[Mapping[str, Any]]) -> Any | None:
    if name in _EMBEDDINGS:
        vectors = _vectors(outputs)
        return None if vectors is None else _at_path(response_filter or _EMBEDDINGS[name], vectors)
    if name in _SINGLE_EMBEDDING:
        vectors = _vectors(outputs)
        if vectors is None or len(vectors) != 1:
            return None
        return _at_path(response_filter or _SINGLE_EMBEDDING[name], vectors[0])
    if name in _RERANK:
        default, score_key = _RERANK[name]
        scores = [o.get("data") for o in outputs]
        if any(not isinstance(s, list) or len(s) != 1 for s in scores):
            return None
        results = [{"index": i, score_key: s[0]} for i, s in enumerate(scores) if isinstance(s, list)]
        return _at_path(response_filter or default, results)
    return None


def _as_sent(value: Any) -> Any:
    """Whole numbers as a provider sends them: samples from before 3.5 show every number as a double."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, Mapping):
        return {key: _as_sent(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_sent(item) for item in value]
    return value


def _from_tensors(response_filter: str | None, outputs: list[Mapping[str, Any]]) -> Any | None:
    """Inverse of the generic wrapping: a map is ``dataAsMap``, anything else ``{"response": value}``."""
    if len(outputs) != 1 or not isinstance(outputs[0].get("dataAsMap"), Mapping):
        return None
    data = _as_sent(outputs[0]["dataAsMap"])
    selected: Any = data["response"] if set(data) == {"response"} else data
    if response_filter:
        return _at_path(response_filter, selected)
    # Without a filter only a non-object body is wrapped (a top-level list, for instance).
    return selected if not isinstance(selected, Mapping) else data


def provider_bodies(post_process: str | None, response_filter: str | None, expected: Any) -> list[Any] | None:
    """The provider bodies (one per remote call) that make ML Commons answer ``expected``.

    None when they cannot be derived: no or an error sample, a Painless post-process script, a filter
    beyond plain paths, or several calls (mlgate may send those concurrently, in any order).
    """
    if not isinstance(expected, Mapping):
        return None
    results = expected.get("inference_results")
    if not isinstance(results, list) or len(results) != 1 or not isinstance(results[0], Mapping):
        return None
    outputs = results[0].get("output")
    if not isinstance(outputs, list) or not all(isinstance(o, Mapping) for o in outputs):
        return None
    if outputs and all(is_bare_content(o) for o in outputs):
        return [dict(outputs[0]) if len(outputs) == 1 else [dict(o) for o in outputs]]
    if post_process is not None:
        if not is_builtin_post_process(post_process):
            return None
        body = _from_builtin(post_process, response_filter, outputs)
    else:
        body = _from_tensors(response_filter, outputs)
    return None if body is None else [body]
