"""Connector scripts run within a cost budget, and off the event loop when they are not cheap (issue 11)."""

from __future__ import annotations

import httpx

from mlgate.mockprovider import MockProvider
from tests.conftest import assert_error
from tests.engine.support import MESSAGES, ML, chat_connector, chat_path, deploy_model, predict

# Issue 11's reproduction: 66-80 s on the event loop before scripts had a cost budget.
HOSTILE = (
    'String s = "ab"; for (int i = 0; i < 21; i++) { s = s + s; } int n = 0; '
    'for (int i = 0; i < 3000; i++) { n += s.replace("a", "cc").length(); } return n;'
)
BUDGET = "script exceeded its cost budget (limit: 100000000 units)"
# Longer than a run may take on the event loop (2,000 steps), and it modifies its params on the way:
# the run that counts starts again from fresh params on a worker thread.
LONG = (
    "def l = params.choices; for (int i = 0; i < 3000; i++) { l.add(i) } "
    'return \'{"name": "response", "dataAsMap": {"n": \' + l.size() + \'}}\''
)


def connector_with(provider: MockProvider, **scripts: str) -> dict:
    connector = chat_connector(provider.url + chat_path())
    connector["actions"][0].update(scripts)
    return connector


async def test_the_issue_script_as_post_process_is_cut_by_the_budget(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    connector = connector_with(provider, post_process_function=HOSTILE)
    path = connector["actions"][0]["url"].removeprefix(provider.url)
    model_id = await deploy_model(loopback, connector)
    response = await predict(loopback, model_id, {"parameters": {"messages": MESSAGES}})
    body = assert_error(response, 500, "m_l_exception", "Fail to execute PREDICT in aws connector")
    assert body["error"]["caused_by"] == {"type": "script_exception", "reason": BUDGET}
    assert len(provider.requests(path=path)) == 1  # the provider answered; the script was then cut


async def test_the_issue_script_as_pre_process_is_a_400_before_any_call(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    connector = connector_with(provider, pre_process_function=HOSTILE)
    connector["parameters"]["pre_process_function.process_remote_inference_input"] = "true"
    path = connector["actions"][0]["url"].removeprefix(provider.url)
    model_id = await deploy_model(loopback, connector)
    response = await predict(loopback, model_id, {"parameters": {"messages": MESSAGES}})
    assert_error(response, 400, "script_exception", BUDGET)
    assert provider.requests(path=path) == []


async def test_a_script_too_long_for_the_loop_runs_again_from_fresh_params(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    model_id = await deploy_model(loopback, connector_with(provider, post_process_function=LONG))
    for _ in range(2):  # the second run goes to a worker thread directly
        response = await predict(loopback, model_id, {"parameters": {"messages": MESSAGES}})
        assert response.status_code == 200, response.text
        output = response.json()["inference_results"][0]["output"]
        assert output == [{"name": "response", "dataAsMap": {"n": 3001}}]  # one choice + 3,000


async def test_a_script_over_opensearchs_inline_size_is_refused_at_create(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    script = "return 1;" + " " * 65_535
    response = await loopback.post(
        f"{ML}/connectors/_create", json=connector_with(provider, post_process_function=script)
    )
    assert_error(
        response,
        400,
        "illegal_argument_exception",
        "exceeded max allowed inline script size in bytes [65535] with size [65544]",
    )
