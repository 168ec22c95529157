"""Liveness under a hostile connector script (issue 11 item 2): other clients are answered while it runs.

Established by events, never by durations: the hostile predict is started, the test waits until a worker
thread is executing the Painless interpreter (the post-process script has started and left the event
loop), then another client asks ``GET /_cluster/health`` until the hostile predict ends. Health must be
answered while the script still runs, and the script must end at a sandbox limit. A script run on the
event loop is never seen in another thread, so this test fails on such an implementation.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mlgate.bootstrap import Node
from mlgate.mockprovider import MockProvider
from tests.conftest import assert_error
from tests.e2e.threads import another_thread_runs
from tests.engine.support import MESSAGES, chat_connector, chat_path, deploy_model, predict

BOUND_S = 60.0  # generous: only a hang would reach it
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


def script_thread_running() -> bool:
    """Whether a thread other than this one is executing the Painless interpreter right now."""
    return another_thread_runs(lambda code: "/mlgate/painless/" in code.co_filename)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
async def test_health_is_answered_while_a_hostile_script_runs(
    kind: str, node: Node, loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    script, reason = HOSTILE[kind]
    connector = chat_connector(provider.url + chat_path())
    connector["actions"][0]["post_process_function"] = script
    model_id = await deploy_model(loopback, connector)  # compiled here, before anything is watched

    transport = httpx.ASGITransport(app=node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mlgate") as other:
        hostile = asyncio.create_task(predict(loopback, model_id, {"parameters": {"messages": MESSAGES}}))

        async def script_started() -> None:
            while not script_thread_running():
                assert not hostile.done(), "the script finished without ever running in a worker thread"
                await asyncio.sleep(0.001)

        await asyncio.wait_for(script_started(), BOUND_S)
        answered_while_running = 0
        while not hostile.done():
            health = await asyncio.wait_for(other.get("/_cluster/health"), BOUND_S)
            assert health.status_code == 200, health.text
            answered_while_running += not hostile.done()
            # An in-process request need not suspend: let the loop serve the hostile predict's I/O too.
            await asyncio.sleep(0.01)
        response = await asyncio.wait_for(hostile, BOUND_S)

    assert answered_while_running >= 1, "health was answered only after the hostile script had ended"
    body = assert_error(response, 500, "m_l_exception", "Fail to execute PREDICT in aws connector")
    assert body["error"]["caused_by"] == {"type": "script_exception", "reason": reason}
