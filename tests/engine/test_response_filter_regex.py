"""Regexes in a ``response_filter`` run in linear time (issue 11 item 1): the connector's filter runs on
the provider's reply."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mlgate.domain.linear_regex import NOT_LINEAR
from mlgate.mockprovider import MockProvider
from tests.conftest import assert_error
from tests.engine.support import chat_connector, chat_path, deploy_model, predict

pytestmark = pytest.mark.asyncio

REPLY = {"items": [{"name": "a" * 40 + "!"}, {"name": "Bob"}]}
BODY: dict[str, Any] = {"parameters": {"messages": [{"role": "user", "content": "hi"}]}}


def output(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["inference_results"][0]["output"][0]["dataAsMap"]


async def test_filter_regexes_answer_at_once(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    # Each of these backtracks about 2^40 times on the first name with Python's re.
    for response_filter, expected in (
        ("$.items[?(@.name =~ /(a+)+$/)].name", []),
        ("$.items[?(@.name =~ /(a+)+!|bob/i)].name", [REPLY["items"][0]["name"], "Bob"]),
        ('$.items[?match(@.name, "(a+)+")].name', []),
        ('$.items[?search(@.name, "(a+)+b")].name', []),
    ):
        connector = chat_connector(provider.url + chat_path())
        connector["parameters"]["response_filter"] = response_filter
        model_id = await deploy_model(loopback, connector)
        provider.answer_next(REPLY)
        assert output(await predict(loopback, model_id, BODY)) == {"response": expected}, response_filter


async def test_a_filter_regex_that_cannot_run_is_an_invalid_path(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    connector = chat_connector(provider.url + chat_path())
    connector["parameters"]["response_filter"] = r"$.items[?(@.name =~ /(a)\1/)]"
    model_id = await deploy_model(loopback, connector)
    provider.answer_next(REPLY)
    # An unparsable response_filter is ML Commons' invalid_path_exception (a connector defect: 500).
    body = assert_error(await predict(loopback, model_id, BODY), 500, "invalid_path_exception")
    assert f'Invalid regex pattern: (a)\\1; the backreference "\\1" {NOT_LINEAR}' in body["error"]["reason"]
