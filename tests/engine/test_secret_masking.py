"""A provider that echoes the key in any encoding never gets it into a predict error, a dry run or a task."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from mlgate.mockprovider import MockProvider
from tests.batch.test_batch_predict import openai_batch_connector
from tests.conftest import assert_error
from tests.engine.support import MESSAGES, ML, chat_connector, deploy_model, predict, unique
from tests.secret_forms import FORMS, leaks

# Punctuation that JSON, percent-encoding and base64 all treat differently, and a non-ASCII letter.
KEY = "sk-mask/Te+st=\"0'9é!"
BODY = {"parameters": {"messages": MESSAGES}}


@pytest.fixture
async def echo_provider() -> AsyncIterator[str]:
    """Answers 401 quoting the key of its Authorization header in the form the path names."""

    async def handle(request: web.Request) -> web.Response:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        form = FORMS[request.match_info["form"]](key)
        return web.json_response({"error": {"message": f"Incorrect API key provided: {form}"}}, status=401)

    app = web.Application()
    app.router.add_route("*", "/{form}/{tail:.*}", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


def keyed_connector(url: str) -> dict:
    return chat_connector(url, credential={"openAI_key": KEY})


@pytest.mark.parametrize("form", FORMS)
async def test_predict_error_never_carries_the_key(
    loopback: httpx.AsyncClient, echo_provider: str, form: str
) -> None:
    model_id = await deploy_model(loopback, keyed_connector(f"{echo_provider}/{form}/{unique()}"))
    response = await predict(loopback, model_id, BODY)
    reason = assert_error(response, 401, "status_exception")["error"]["reason"]
    assert reason.startswith("Error from remote service: ") and "*****" in reason
    assert leaks(reason, KEY) == []
    assert leaks(response.text, KEY) == []


async def test_script_failure_cause_is_masked(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    # A post-process script that fails quoting the reply: the reply echoes the key, base64-encoded.
    connector = keyed_connector(f"{provider.url}/v1/chat/completions")
    connector["actions"][0]["post_process_function"] = "throw new IllegalArgumentException(params.echo);"
    model_id = await deploy_model(loopback, connector)
    provider.answer_next({"echo": "key was " + FORMS["base64_bearer"](KEY)})
    response = await predict(loopback, model_id, BODY)
    error = assert_error(response, 500, "m_l_exception")["error"]
    # "QmVhcmVy" is "Bearer": the base64 of the key that follows is masked.
    assert error["caused_by"]["reason"] == "key was QmVhcmVy*****"
    assert leaks(response.text, KEY) == []


async def test_batch_task_never_stores_the_key(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    connector = openai_batch_connector(provider.url + "/openai/v1/batches")
    connector["credential"] = {"openAI_key": KEY}
    model_id = await deploy_model(loopback, connector)
    echoed = FORMS["percent"](KEY)
    provider.answer_next({"id": unique("batch"), "status": "validating", "metadata": {"auth": echoed}})
    started = await loopback.post(
        f"{ML}/models/{model_id}/_batch_predict", json={"parameters": {"input_file_id": "f"}}
    )
    assert started.status_code == 200, started.text
    assert started.json()["remote_job"]["metadata"] == {"auth": "*****"}
    provider.answer_next({"id": "b", "status": "in_progress", "note": FORMS["u_escaped"](KEY)})
    task = await loopback.get(f"{ML}/tasks/{started.json()['task_id']}")
    assert task.status_code == 200, task.text
    assert task.json()["remote_job"]["note"] == "*****"
    assert leaks(started.text + task.text, KEY) == []
