"""A request parameter full of ``${parameters.`` openings costs a predict nothing (issue 11 item 1): the
``.toString()`` references in parameter values are found in linear time."""

from __future__ import annotations

import httpx
import pytest

from mlgate.mockprovider import MockProvider
from tests.engine.support import chat_connector, chat_path, deploy_model, predict

pytestmark = pytest.mark.asyncio


async def test_many_openings_without_a_close(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    # A backtracking search for `${parameters.(.+?).toString()}` rescans the rest from each of the
    # 100,000 openings: about 6e10 steps.
    path = chat_path()
    model_id = await deploy_model(loopback, chat_connector(provider.url + path))
    note = "${parameters." * 100_000 + ".toString()"
    body = {"parameters": {"messages": [{"role": "user", "content": "hi"}], "note": note}}
    response = await predict(loopback, model_id, body)
    assert response.status_code == 200, response.text
    assert len(provider.requests(path=path)) == 1
