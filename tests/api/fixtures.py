"""Connector and model bodies the API tests share (written for these tests, not copied)."""

from __future__ import annotations

from typing import Any


def chat_connector(base_url: str, **overrides: Any) -> dict[str, Any]:
    """An OpenAI-style chat connector pointing at the mock provider."""
    body: dict[str, Any] = {
        "name": "Chat connector",
        "description": "chat for tests",
        "version": "1",
        "protocol": "http",
        "parameters": {"model": "gpt-4o-mini", "temperature": 0.5},
        "credential": {"openAI_key": "sk-test-secret-value-123"},
        "actions": [
            {
                "action_type": "predict",
                "method": "POST",
                "url": f"{base_url}/v1/chat/completions",
                "headers": {"Authorization": "Bearer ${credential.openAI_key}"},
                "request_body": '{ "model": "${parameters.model}", "messages": ${parameters.messages}, '
                '"temperature": ${parameters.temperature} }',
            }
        ],
    }
    body.update(overrides)
    return body


EMBEDDING_SECRET = "sk-embed-secret-456"


def embedding_connector(base_url: str) -> dict[str, Any]:
    """An OpenAI-style embedding connector with the built-in functions."""
    return {
        "name": "Embedding connector",
        "version": 1,
        "protocol": "http",
        "parameters": {"model": "text-embedding-3-small"},
        "credential": {"openAI_key": EMBEDDING_SECRET},
        "actions": [
            {
                "action_type": "predict",
                "method": "POST",
                "url": f"{base_url}/v1/embeddings",
                "headers": {"Authorization": "Bearer ${credential.openAI_key}"},
                "request_body": '{ "input": ${parameters.input}, "model": "${parameters.model}" }',
                "pre_process_function": "connector.pre_process.openai.embedding",
                "post_process_function": "connector.post_process.openai.embedding",
            }
        ],
    }


MESSAGES = [{"role": "user", "content": "Hi there"}]
