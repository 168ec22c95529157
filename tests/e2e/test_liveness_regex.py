"""Liveness under hostile guardrail regexes (issue 11 item 1): other clients are answered meanwhile.

A user with ``ml_full_access`` registers a model whose input guardrail is a user-supplied regex, then
predicts with a long input. Everything is established by events, never by durations:

* a pattern that backtracks exponentially (``(a+)+`` before a failing letter) is answered, and so is the
  admin's ``GET /_cluster/health`` sent while it is in flight;
* a pattern that is linear but costly per character (``.{1000}`` after a ``.*``: RE2 must track a
  thousand positions at once) runs in a worker thread: the test waits until a worker thread is inside
  the match, sends the health request, and checks it was answered while the predict had not finished.
  A match on the event loop could never be seen running from the loop, so this fails on such code.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mlgate.bootstrap import Node
from mlgate.mockprovider import MockProvider
from tests.conftest import assert_error
from tests.e2e.threads import another_thread_runs
from tests.engine.support import chat_connector, chat_path, deploy_model, predict

MODELER = ("modeler", "Copper-Lantern-Orchid-3190")
BOUND_S = 60.0  # generous: only a hang would reach it
INPUT = "guardrails triggered for user input"


def regex_thread_running() -> bool:
    """Whether a thread other than this one is matching in ``mlgate/domain/linear_regex.py`` now."""
    return another_thread_runs(lambda code: code.co_filename.endswith("mlgate/domain/linear_regex.py"))


@pytest.fixture
async def modeler(secure_node: Node, admin: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a user with ML full access (who may register models and their guardrails)."""
    response = await admin.put(
        f"/_plugins/_security/api/internalusers/{MODELER[0]}",
        json={"password": MODELER[1], "opendistro_security_roles": ["ml_full_access"]},
    )
    assert response.status_code in (200, 201), response.text
    transport = httpx.ASGITransport(app=secure_node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mlgate", auth=MODELER) as http:
        yield http


def messages(text: str) -> dict[str, Any]:
    return {"parameters": {"messages": [{"role": "user", "content": text}]}}


async def test_exponential_pattern_is_answered_and_health_too(
    admin: httpx.AsyncClient, modeler: httpx.AsyncClient, provider: MockProvider
) -> None:
    path = chat_path()
    guardrails = {"input_guardrail": {"regex": [".*(a+)+b.*"]}}
    model_id = await deploy_model(modeler, chat_connector(provider.url + path), guardrails=guardrails)
    hostile = asyncio.create_task(predict(modeler, model_id, messages("a" * 100_000 + "!")))
    health = await asyncio.wait_for(admin.get("/_cluster/health"), BOUND_S)
    assert health.status_code == 200, health.text
    response = await asyncio.wait_for(hostile, BOUND_S)
    assert response.status_code == 200, response.text
    assert len(provider.requests(path=path)) == 1


async def test_health_is_answered_while_a_costly_guardrail_runs(
    admin: httpx.AsyncClient, modeler: httpx.AsyncClient, provider: MockProvider
) -> None:
    path = chat_path()
    guardrails = {"input_guardrail": {"regex": ["(?s).*a.{1000}b.*"]}}
    model_id = await deploy_model(modeler, chat_connector(provider.url + path), guardrails=guardrails)
    text = "".join(random.Random(11).choice("ab") for _ in range(200_000))
    hostile = asyncio.create_task(predict(modeler, model_id, messages(text)))

    async def match_started() -> None:
        while not regex_thread_running():
            assert not hostile.done(), "the guardrail finished without ever running in a worker thread"
            await asyncio.sleep(0.001)

    await asyncio.wait_for(match_started(), BOUND_S)
    health = await asyncio.wait_for(admin.get("/_cluster/health"), BOUND_S)
    answered_while_matching = not hostile.done()

    assert health.status_code == 200, health.text
    assert health.json()["cluster_name"]
    assert answered_while_matching, "health was answered only after the guardrail match had finished"

    # The match ends by itself, with the guardrail's verdict; nothing was sent.
    response = await asyncio.wait_for(hostile, BOUND_S)
    assert_error(response, 400, "illegal_argument_exception", INPUT)
    assert provider.requests(path=path) == []
