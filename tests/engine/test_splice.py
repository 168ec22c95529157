"""The spliced predict reply: the provider's bytes inside the envelope mean the same JSON as parsing them
and encoding the tensors again (the path every reply took before, and still takes when a post-process
function, a response filter or an output schema applies)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest
from aiohttp import web

from mlgate.domain.connector import ConnectorAction
from mlgate.domain.egress import EgressPolicy
from mlgate.remote.client import ClientPool
from mlgate.remote.executor import ConnectorExecutor
from mlgate.remote.resolver import GuardedResolver
from mlgate.remote.scripting import ScriptRunner
from tests.conftest import assert_error
from tests.engine.support import chat_connector, deploy_model, predict

BODIES: list[bytes] = [
    b'{"id":"chatcmpl-1","choices":[{"message":{"role":"assistant","content":"Hi"}}]}',
    # Unicode raw and escaped, astral characters, escapes of every kind.
    '{"text":"héllo wörld — 你好 🙂","escaped":"\\u00e9\\ud83d\\ude42\\n\\t\\"\\\\\\/"}'.encode(),
    # Integers stay integers (also beyond 2^53), floats and exponents keep their value, -0.0, nesting.
    b'{"i":1,"big":9007199254740993,"neg":-42,"f":0.1,"e":1e-7,"E":2.5E+10,"z":-0.0,'
    b'"n":null,"b":[true,false],"o":{"deep":[[],{}]},"u64":18446744073709551615}',
    # Whitespace around and inside, as providers pretty-print.
    b'  {\n  "object": "list",\n  "data": [ {"embedding": [0.1, -0.2, 3]} ]\n}\n',
    b"{}",
    # Duplicate keys: any JSON reader keeps the last, on both paths.
    b'{"a":1,"a":2}',
]


def executor() -> ConnectorExecutor:
    resolver = GuardedResolver(lambda: EgressPolicy(trusted_endpoints=()))
    return ConnectorExecutor(ClientPool(resolver), ScriptRunner(), lambda: 1_000_000, resolver)


ACTION = ConnectorAction(action_type="PREDICT", method="POST", url="http://127.0.0.1/")


def envelope(output: list[dict[str, Any]]) -> Any:
    return orjson.loads(orjson.dumps({"inference_results": [{"output": output, "status_code": 200}]}))


@pytest.mark.parametrize("raw", BODIES)
async def test_splice_means_the_same_json_as_parse_and_encode(raw: bytes) -> None:
    ex = executor()
    assert envelope(ex.splice_output(raw)) == envelope(await ex.post_process(ACTION, {}, raw))


def test_splice_keeps_the_providers_bytes() -> None:
    raw = b'{"n":1.50,"i":10}'
    encoded = orjson.dumps(executor().splice_output(raw))
    assert raw in encoded


@pytest.mark.parametrize(
    "raw", [b"[1, 2]", b'"text"', b"42", b"{not json", b'{"a":1', b'{"a":1}{"b":2}', b"\xff{}"]
)
async def test_non_objects_and_invalid_bodies_answer_as_before(raw: bytes) -> None:
    ex = executor()
    try:
        expected: Any = envelope(await ex.post_process(ACTION, {}, raw))
    except Exception as exc:
        expected = (type(exc), str(exc))
    try:
        actual: Any = envelope(ex.splice_output(raw))
    except Exception as exc:
        actual = (type(exc), str(exc))
    assert actual == expected


Serve = Callable[[bytes], Awaitable[str]]


@pytest.fixture
async def serve_body() -> AsyncIterator[Serve]:
    """A provider on 127.0.0.1 that answers every POST with the given bytes."""
    runners: list[web.AppRunner] = []

    async def start(raw: bytes) -> str:
        async def answer(request: web.Request) -> web.Response:
            await request.read()
            return web.Response(body=raw, content_type="application/json")

        app = web.Application()
        app.router.add_post("/{tail:.*}", answer)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}/v1/chat/completions"

    yield start
    for runner in runners:
        await runner.cleanup()


BODY = {"parameters": {"messages": [{"role": "user", "content": "hi"}]}}


@pytest.mark.parametrize("raw", BODIES)
async def test_predict_reply_is_the_provider_json_in_the_envelope(
    loopback: httpx.AsyncClient, serve_body: Serve, raw: bytes
) -> None:
    model_id = await deploy_model(loopback, chat_connector(await serve_body(raw)))
    response = await predict(loopback, model_id, BODY)
    assert response.status_code == 200, response.text
    expected = {
        "inference_results": [
            {"output": [{"name": "response", "dataAsMap": orjson.loads(raw)}], "status_code": 200}
        ]
    }
    assert response.json() == expected
    assert orjson.loads(response.content) == expected


async def test_response_filter_and_post_process_still_apply(
    loopback: httpx.AsyncClient, serve_body: Serve
) -> None:
    url = await serve_body(b'{"data":[{"embedding":[1,2.5]}],"usage":{"total_tokens":3}}')
    connector = chat_connector(url)
    connector["parameters"]["response_filter"] = "$.usage"
    filtered = await deploy_model(loopback, connector)
    response = await predict(loopback, filtered, BODY)
    assert response.json()["inference_results"][0]["output"] == [
        {"name": "response", "dataAsMap": {"total_tokens": 3}}
    ]
    connector = chat_connector(url)
    connector["actions"][0]["post_process_function"] = "connector.post_process.openai.embedding"
    processed = await deploy_model(loopback, connector)
    response = await predict(loopback, processed, BODY)
    output = response.json()["inference_results"][0]["output"]
    assert output[0]["data"] == [1.0, 2.5], output


async def test_invalid_provider_json_is_still_refused(loopback: httpx.AsyncClient, serve_body: Serve) -> None:
    model_id = await deploy_model(loopback, chat_connector(await serve_body(b'{"a": [1, 2,')))
    response = await predict(loopback, model_id, BODY)
    assert_error(response, 400, "illegal_argument_exception")
    assert response.json()["error"]["reason"].startswith("Invalid JSON format")
