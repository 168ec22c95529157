"""Token usage from a provider's reply, and the optional price table that turns it into spend.

Each provider reports usage in its own shape; :func:`token_usage` knows them (docs/observability.md):

- OpenAI (chat, completions, embeddings): ``usage.prompt_tokens`` / ``usage.completion_tokens``;
- Anthropic (also on Bedrock), OpenAI Responses: ``usage.input_tokens`` / ``usage.output_tokens``;
- Bedrock Converse: ``usage.inputTokens`` / ``usage.outputTokens``;
- Cohere v1: ``meta.billed_units.input_tokens`` / ``output_tokens``; v2: ``usage.billed_units``;
- Bedrock Titan: ``inputTextTokenCount`` and ``results[].tokenCount``; Llama: ``prompt_token_count`` /
  ``generation_token_count``; Gemini: ``usageMetadata.promptTokenCount`` / ``candidatesTokenCount``;
- any Bedrock InvokeModel reply: the ``X-Amzn-Bedrock-Input-Token-Count`` / ``-Output-Token-Count``
  headers, when the body has none of the above.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Connector parameters of the price table (per million tokens, decimal strings).
PRICE_INPUT = "mlgate.price_per_1m_input_tokens"
PRICE_OUTPUT = "mlgate.price_per_1m_output_tokens"
PRICE_CURRENCY = "mlgate.price_currency"
_BEDROCK_INPUT = "x-amzn-bedrock-input-token-count"
_BEDROCK_OUTPUT = "x-amzn-bedrock-output-token-count"


def _count(value: Any) -> int:
    return value if type(value) is int and value >= 0 else 0


def _pair(usage: Mapping[str, Any], input_key: str, output_key: str) -> tuple[int, int] | None:
    if input_key in usage or output_key in usage:
        return _count(usage.get(input_key)), _count(usage.get(output_key))
    return None


def _from_usage(usage: Mapping[str, Any]) -> tuple[int, int] | None:
    billed = usage.get("billed_units")
    if isinstance(billed, dict):
        found = _pair(billed, "input_tokens", "output_tokens")
        if found is not None:
            return found
    return (
        _pair(usage, "prompt_tokens", "completion_tokens")
        or _pair(usage, "input_tokens", "output_tokens")
        or _pair(usage, "inputTokens", "outputTokens")
    )


def _from_body(body: Mapping[str, Any]) -> tuple[int, int] | None:
    usage = body.get("usage")
    if isinstance(usage, dict):
        found = _from_usage(usage)
        if found is not None:
            return found
    meta = body.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("billed_units"), dict):
        found = _pair(meta["billed_units"], "input_tokens", "output_tokens")
        if found is not None:
            return found
    metadata = body.get("usageMetadata")
    if isinstance(metadata, dict):
        found = _pair(metadata, "promptTokenCount", "candidatesTokenCount")
        if found is not None:
            return found
    if "inputTextTokenCount" in body:
        results = body.get("results")
        output = 0
        if isinstance(results, list):
            output = sum(_count(r.get("tokenCount")) for r in results if isinstance(r, dict))
        return _count(body["inputTextTokenCount"]), output
    return _pair(body, "prompt_token_count", "generation_token_count")


def token_usage(body: Any, headers: Mapping[str, str] | None = None) -> tuple[int, int] | None:
    """(input tokens, output tokens) a provider reply reports, or None when it reports none."""
    if isinstance(body, dict):
        found = _from_body(body)
        if found is not None:
            return found
    if headers is not None:
        raw_in = headers.get(_BEDROCK_INPUT)
        raw_out = headers.get(_BEDROCK_OUTPUT)
        if raw_in is not None or raw_out is not None:
            return _header_count(raw_in), _header_count(raw_out)
    return None


def _header_count(raw: str | None) -> int:
    return int(raw) if raw is not None and raw.isdigit() else 0


@dataclass(frozen=True)
class Prices:
    """Per-million-token prices of a connector."""

    input_per_1m: float
    output_per_1m: float
    currency: str = "USD"

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """What these tokens cost."""
        return (input_tokens * self.input_per_1m + output_tokens * self.output_per_1m) / 1_000_000


def _price(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value >= 0 and value != float("inf") else None


def prices_of(parameters: Mapping[str, Any]) -> Prices | None:
    """The connector's price table, None when it sets no (valid) price."""
    raw_in, raw_out = parameters.get(PRICE_INPUT), parameters.get(PRICE_OUTPUT)
    price_in = _price(str(raw_in)) if raw_in is not None else None
    price_out = _price(str(raw_out)) if raw_out is not None else None
    if price_in is None and price_out is None:
        return None
    currency = str(parameters.get(PRICE_CURRENCY) or "USD")[:16]
    return Prices(price_in or 0.0, price_out or 0.0, currency)
