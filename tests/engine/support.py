"""Connector bodies and API steps the engine tests share (written for these tests)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import AWS_KEYS

ML = "/_plugins/_ml"
MLGATE = "/_plugins/_mlgate"
ACCESS_KEY, SECRET_KEY = next(iter(AWS_KEYS.items()))
CHAT_KEY = "sk-engine-secret-0123456789"


def unique(prefix: str = "p") -> str:
    """A path segment no other test uses, so the mock provider's log can be read per test."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def chat_path() -> str:
    """A chat-completions path of the mock provider that no other test uses (an Azure deployment)."""
    return f"/openai/deployments/{unique('chat')}/chat/completions"


def chat_connector(url: str, **overrides: Any) -> dict[str, Any]:
    """An OpenAI-style chat connector whose predict action posts to ``url``."""
    body: dict[str, Any] = {
        "name": "engine chat",
        "version": "1",
        "protocol": "http",
        "parameters": {"model": "gpt-4o-mini"},
        "credential": {"openAI_key": CHAT_KEY},
        "actions": [
            {
                "action_type": "predict",
                "method": "POST",
                "url": url,
                "headers": {"Authorization": "Bearer ${credential.openAI_key}"},
                "request_body": '{ "model": "${parameters.model}", "messages": ${parameters.messages} }',
            }
        ],
    }
    body.update(overrides)
    return body


def titan_connector(base_url: str, model: str = "amazon.titan-embed-text-v1") -> dict[str, Any]:
    """A Bedrock Titan embedding connector (SigV4, built-in bedrock embedding functions)."""
    return {
        "name": "titan",
        "version": "1",
        "protocol": "aws_sigv4",
        "parameters": {"region": "us-east-1", "service_name": "bedrock", "model": model},
        "credential": {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY},
        "actions": [
            {
                "action_type": "predict",
                "method": "POST",
                "url": base_url + "/model/${parameters.model}/invoke",
                "headers": {"content-type": "application/json", "x-amz-content-sha256": "required"},
                "request_body": '{ "inputText": "${parameters.inputText}" }',
                "pre_process_function": "connector.pre_process.bedrock.embedding",
                "post_process_function": "connector.post_process.bedrock.embedding",
            }
        ],
    }


MESSAGES = [{"role": "user", "content": "Hello engine"}]


async def create_connector(client: httpx.AsyncClient, body: dict[str, Any]) -> str:
    """Create a standalone connector; its id."""
    response = await client.post(f"{ML}/connectors/_create", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["connector_id"])


async def deploy_model(client: httpx.AsyncClient, connector: dict[str, Any], **extra: Any) -> str:
    """Register a model with an inline connector and deploy it; its id."""
    body = {"name": unique("model"), "function_name": "remote", "connector": connector, **extra}
    response = await client.post(f"{ML}/models/_register?deploy=true", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["model_id"])


async def predict(
    client: httpx.AsyncClient, model_id: str, body: dict[str, Any], algorithm: str | None = None
) -> httpx.Response:
    """Call predict (the remote shape, or ``/_predict/{algorithm}/{id}``)."""
    if algorithm is None:
        return await client.post(f"{ML}/models/{model_id}/_predict", json=body)
    return await client.post(f"{ML}/_predict/{algorithm}/{model_id}", json=body)
