"""Token usage from each provider's reply shape, and the price table."""

from __future__ import annotations

from typing import Any

import pytest

from mlgate.domain.token_usage import (
    PRICE_CURRENCY,
    PRICE_INPUT,
    PRICE_OUTPUT,
    Prices,
    prices_of,
    token_usage,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}, (7, 3)),  # OpenAI chat
        ({"usage": {"prompt_tokens": 4, "total_tokens": 4}}, (4, 0)),  # OpenAI embeddings
        ({"usage": {"input_tokens": 5, "output_tokens": 9}}, (5, 9)),  # Anthropic, on Bedrock too
        ({"usage": {"inputTokens": 6, "outputTokens": 2, "totalTokens": 8}}, (6, 2)),  # Bedrock Converse
        ({"meta": {"billed_units": {"input_tokens": 11}}}, (11, 0)),  # Cohere v1 embed
        ({"meta": {"billed_units": {"input_tokens": 2, "output_tokens": 8}}}, (2, 8)),  # Cohere v1 chat
        ({"usage": {"billed_units": {"input_tokens": 3, "output_tokens": 4}, "tokens": {}}}, (3, 4)),  # v2
        ({"inputTextTokenCount": 12, "results": [{"tokenCount": 5}, {"tokenCount": 1}]}, (12, 6)),  # Titan
        ({"embedding": [0.1], "inputTextTokenCount": 4}, (4, 0)),  # Titan embedding
        ({"generation": "x", "prompt_token_count": 9, "generation_token_count": 1}, (9, 1)),  # Llama
        ({"usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2}}, (3, 2)),  # Gemini
        ({"usage": {"prompt_tokens": -1, "completion_tokens": "2"}}, (0, 0)),  # nonsense counts as 0
        ({"choices": []}, None),
        ([1, 2], None),
    ],
)
def test_each_provider_shape(body: Any, expected: tuple[int, int] | None) -> None:
    assert token_usage(body) == expected


def test_bedrock_headers_when_the_body_has_none() -> None:
    headers = {"x-amzn-bedrock-input-token-count": "21", "x-amzn-bedrock-output-token-count": "4"}
    assert token_usage({"outputs": [{"text": "hi"}]}, headers) == (21, 4)
    assert token_usage({"usage": {"input_tokens": 1, "output_tokens": 2}}, headers) == (1, 2)
    assert token_usage({"outputs": []}, {}) is None


def test_prices_from_connector_parameters() -> None:
    prices = prices_of({PRICE_INPUT: "0.15", PRICE_OUTPUT: "0.6", PRICE_CURRENCY: "EUR"})
    assert prices == Prices(0.15, 0.6, "EUR")
    assert prices.cost(1_000_000, 500_000) == pytest.approx(0.45)
    assert prices_of({PRICE_INPUT: "2"}) == Prices(2.0, 0.0, "USD")
    assert prices_of({"model": "gpt"}) is None
    assert prices_of({PRICE_INPUT: "free", PRICE_OUTPUT: "-1"}) is None
    assert prices_of({PRICE_INPUT: "nan"}) is None
