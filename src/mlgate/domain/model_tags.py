"""What a remote model is, as metric labels: ML Commons' tags and the OpenTelemetry GenAI names.

The tags follow ml-commons: common/src/main/java/org/opensearch/ml/common/MLModel.java
(``getRemoteModelTags``, ``identifyServiceProvider``, ``identifyModel``, ``identifyModelType``): the
provider is the first known keyword in the predict URL, the model comes from a Bedrock URL, the
request body's ``model``/``ModelName`` or the ``model`` parameter, the type from keywords in the model
name. Everything is computed once per deploy from the connector, never from a request, so the label
values are bounded by the connectors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

UNKNOWN = "unknown"
# ML Commons' order: generic providers before specific ones.
_PROVIDER_KEYWORDS = (
    "bedrock",
    "sagemaker",
    "azure",
    "google",
    "anthropic",
    "openai",
    "deepseek",
    "cohere",
    "vertexai",
    "aleph-alpha",
    "comprehend",
    "textract",
    "mistral",
    "x.ai",
)
_LLM = (
    "gpt",
    "o3",
    "o4-mini",
    "claude",
    "llama",
    "mistral",
    "mixtral",
    "gemini",
    "palm",
    "bard",
    "j1-",
    "j2-",
    "jurassic",
    "command",
    "grok",
    "chat",
    "llm",
)
_EMBEDDING = ("embedding", "embed", "ada", "text-similarity-")
_IMAGE = ("diffusion", "dall-e", "imagen", "midjourney", "image")
_AUDIO = ("whisper", "audio", "speech")
_BEDROCK_MODEL = re.compile(r"/model/([^/]+)/")
_PARAMETER = re.compile(r"\$\{parameters\.([^}]+)}")
# gen_ai.provider.name well-known values for ML Commons' providers.
_GENAI_PROVIDERS = {
    "bedrock": "aws.bedrock",
    "sagemaker": "aws.sagemaker",
    "azure": "azure.ai.openai",
    "google": "gcp.gen_ai",
    "vertexai": "gcp.vertex_ai",
    "openai": "openai",
    "anthropic": "anthropic",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "mistral": "mistral_ai",
    "x.ai": "x_ai",
    "comprehend": "aws.comprehend",
    "textract": "aws.textract",
    "aleph-alpha": "aleph_alpha",
}


@dataclass(frozen=True)
class ModelTags:
    """A remote model's labels: ML Commons' tags and the GenAI operation, provider and model."""

    service_provider: str = UNKNOWN
    model: str = UNKNOWN
    type: str = UNKNOWN
    algorithm: str = "REMOTE"
    deployment: str = "remote"
    operation: str = "predict"

    @property
    def genai_provider(self) -> str:
        """``gen_ai.provider.name``."""
        return _GENAI_PROVIDERS.get(self.service_provider, self.service_provider)


def _fill(text: str, parameters: Mapping[str, str]) -> str:
    # Like ML Commons' StringSubstitutor: known parameters are replaced, the rest stays as written.
    return _PARAMETER.sub(lambda m: parameters.get(m.group(1), m.group(0)), text)


def remote_model_tags(
    url: str | None, request_body: str | None, parameters: Mapping[str, str], algorithm: str = "REMOTE"
) -> ModelTags:
    """The tags of a remote model whose predict action posts ``request_body`` to ``url``."""
    if url is None:
        return ModelTags(algorithm=algorithm)
    filled = _fill(url, parameters).lower()
    provider = next((p for p in _PROVIDER_KEYWORDS if p in filled), UNKNOWN)
    model = _model(provider, filled, request_body, parameters)
    return ModelTags(
        service_provider=provider,
        model=model,
        type=_model_type(model),
        algorithm=algorithm,
        operation=_operation(filled, model, request_body),
    )


def _model(provider: str, url: str, request_body: str | None, parameters: Mapping[str, str]) -> str:
    if provider == "bedrock":
        found = _BEDROCK_MODEL.search(url)
        if found:
            return found.group(1)
    if request_body is not None:
        try:
            body = json.loads(_fill(request_body, parameters))
        except ValueError:
            body = None
        if isinstance(body, dict):
            for key in ("model", "ModelName"):
                if isinstance(body.get(key), str):
                    return str(body[key])
    return parameters.get("model") or UNKNOWN


def _model_type(model: str) -> str:
    if model == UNKNOWN:
        return UNKNOWN
    lowered = model.lower()
    for kind, words in (("llm", _LLM), ("embedding", _EMBEDDING), ("image_generation", _IMAGE)):
        if any(word in lowered for word in words):
            return kind
    if any(word in lowered for word in _AUDIO):
        return "speech_audio"
    return UNKNOWN


def _operation(url: str, model: str, request_body: str | None) -> str:
    """``gen_ai.operation.name`` from the endpoint (and model): chat, embeddings, text_completion…"""
    lowered = model.lower()
    if "embed" in url or any(word in lowered for word in _EMBEDDING):
        return "embeddings"
    if "rerank" in url:
        return "rerank"
    if "generatecontent" in url:
        return "generate_content"
    if any(word in url for word in ("chat", "converse", "messages")) or (
        request_body is not None and "messages" in request_body
    ):
        return "chat"
    if "completion" in url or "/invoke" in url or "generate" in url:
        return "text_completion"
    return "predict"
