"""Reading a Prometheus exposition in tests, and connectors of several provider shapes (written for these
tests)."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.engine.support import ACCESS_KEY, SECRET_KEY

METRICS = "/_prometheus/metrics"


class Scrape:
    """One scrape: every sample by name, with its labels."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: list[tuple[str, dict[str, str], float]] = [
            (s.name, dict(s.labels), s.value)
            for family in text_string_to_metric_families(text)
            for s in family.samples
        ]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples of ``name`` whose labels include ``labels`` (0 when none)."""
        return sum(v for n, lab, v in self.samples if n == name and labels.items() <= lab.items())

    def labels(self, name: str, **labels: str) -> list[dict[str, str]]:
        """The label sets of the matching samples."""
        return [lab for n, lab, _ in self.samples if n == name and labels.items() <= lab.items()]


async def scrape(client: httpx.AsyncClient) -> Scrape:
    """GET the metrics (must answer 200 in Prometheus text format)."""
    response = await client.get(METRICS)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Scrape(response.text)


def cohere_embed_connector(base_url: str) -> dict[str, Any]:
    """Cohere v1 embed (usage in ``meta.billed_units``)."""
    return {
        "name": "cohere embed",
        "version": "1",
        "protocol": "http",
        "parameters": {"model": "embed-english-v3.0"},
        "credential": {"cohere_key": "co-secret-key-123456"},
        "actions": [
            {
                "action_type": "predict",
                "method": "POST",
                "url": base_url + "/v1/embed",
                "headers": {"Authorization": "Bearer ${credential.cohere_key}"},
                "request_body": '{ "texts": ${parameters.texts}, "model": "${parameters.model}", '
                '"input_type": "search_document" }',
            }
        ],
    }


def bedrock_connector(base_url: str, model: str, path: str, body: str) -> dict[str, Any]:
    """A Bedrock runtime connector (SigV4) posting ``body`` to ``/model/{model}/{path}``."""
    return {
        "name": "bedrock",
        "version": "1",
        "protocol": "aws_sigv4",
        "parameters": {"region": "us-east-1", "service_name": "bedrock", "model": model},
        "credential": {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY},
        "actions": [
            {
                "action_type": "predict",
                "method": "POST",
                "url": base_url + "/model/${parameters.model}/" + path,
                "headers": {"content-type": "application/json"},
                "request_body": body,
            }
        ],
    }


CONVERSE_BODY = '{ "messages": [{"role": "user", "content": [{"text": "${parameters.inputs}"}]}] }'
CLAUDE_BODY = (
    '{ "anthropic_version": "bedrock-2023-05-31", "max_tokens": 100, '
    '"messages": [{"role": "user", "content": "${parameters.inputs}"}] }'
)
