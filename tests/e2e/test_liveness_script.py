"""Liveness under a hostile connector script: other requests are answered while it runs (issue 11).

Established by events, never by timing: the hostile predict is started, the test waits until the mock
provider has received its call (the post-process script runs right after the reply), then asks another
client's ``GET /_cluster/health`` again and again until the hostile predict ends. Health must answer
while the hostile predict is still running, and the script must be cut by a sandbox limit.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mlgate.bootstrap import Node
from mlgate.mockprovider import MockProvider
from tests.conftest import assert_error
from tests.engine.support import MESSAGES, chat_connector, chat_path, deploy_model, predict

HOSTILE = {
    # Issue 11's reproduction, stopped by the cost budget.
    "cost": (
        'String s = "ab"; for (int i = 0; i < 21; i++) { s = s + s; } int n = 0; '
        'for (int i = 0; i < 3000; i++) { n += s.replace("a", "cc").length(); } return n;',
        "script exceeded its cost budget (limit: 100000000 units)",
    ),
    # Cheap steps, a million of them, stopped by the step limit.
    "steps": (
        "int n = 0; while (true) { n++ }",
        "The maximum number of statements that can be executed in a loop has been reached. "
        "(limit: 1000000 steps)",
    ),
}


async def until(condition: object, what: str) -> None:
    """Poll ``condition()`` (bounded: 30 s) while the event loop keeps running."""
    assert callable(condition)
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within 30 s: {what}")


@pytest.mark.parametrize("kind", sorted(HOSTILE))
async def test_health_answers_while_a_hostile_script_runs(
    kind: str, node: Node, loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    script, reason = HOSTILE[kind]
    connector = chat_connector(provider.url + chat_path())
    connector["actions"][0]["post_process_function"] = script
    path = connector["actions"][0]["url"].removeprefix(provider.url)
    model_id = await deploy_model(loopback, connector)

    transport = httpx.ASGITransport(app=node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mlgate") as other:
        hostile = asyncio.create_task(predict(loopback, model_id, {"parameters": {"messages": MESSAGES}}))
        await until(lambda: bool(provider.requests(path=path)) or hostile.done(), "the provider call")
        answered_while_running = 0
        while not hostile.done():
            health = await other.get("/_cluster/health")
            assert health.status_code == 200, health.text
            if not hostile.done():
                answered_while_running += 1
            # An in-process request need not suspend: let the loop serve the hostile predict's I/O too.
            await asyncio.sleep(0.01)
        response = hostile.result()

    assert answered_while_running >= 1
    body = assert_error(response, 500, "m_l_exception", "Fail to execute PREDICT in aws connector")
    assert body["error"]["caused_by"] == {"type": "script_exception", "reason": reason}
