"""ML Commons' tags of a remote model and the GenAI names, from its connector."""

from __future__ import annotations

from mlgate.domain.model_tags import ModelTags, remote_model_tags

CHAT_BODY = '{ "model": "${parameters.model}", "messages": ${parameters.messages} }'


def test_openai_chat() -> None:
    tags = remote_model_tags(
        "https://api.openai.com/v1/chat/completions", CHAT_BODY, {"model": "gpt-4o-mini"}
    )
    assert tags == ModelTags("openai", "gpt-4o-mini", "llm", operation="chat")
    assert tags.genai_provider == "openai"


def test_bedrock_model_from_the_url() -> None:
    tags = remote_model_tags(
        "https://bedrock-runtime.${parameters.region}.amazonaws.com/model/${parameters.model}/invoke",
        '{ "inputText": "${parameters.inputText}" }',
        {"region": "us-east-1", "model": "amazon.titan-embed-text-v2:0"},
    )
    assert (tags.service_provider, tags.model, tags.type) == (
        "bedrock",
        "amazon.titan-embed-text-v2:0",
        "embedding",
    )
    assert (tags.genai_provider, tags.operation) == ("aws.bedrock", "embeddings")


def test_model_in_a_literal_body_and_unknowns() -> None:
    tags = remote_model_tags("https://api.cohere.ai/v1/chat", '{"model": "command-r", "message": "x"}', {})
    assert (tags.service_provider, tags.model, tags.type, tags.operation) == (
        "cohere",
        "command-r",
        "llm",
        "chat",
    )
    tags = remote_model_tags("http://10.0.0.1/score", None, {})
    assert (tags.service_provider, tags.model, tags.type, tags.operation) == ("unknown",) * 3 + ("predict",)
    assert remote_model_tags(None, None, {}) == ModelTags()
