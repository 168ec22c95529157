"""``Server-Timing`` on every predict answer, and ``?trace=true`` for a user allowed to dry-run."""

from __future__ import annotations

import asyncio
import time

import httpx

from mlgate.domain.request_trace import STAGES
from mlgate.mockprovider import MockProvider
from tests.conftest import assert_error
from tests.engine.support import (
    CHAT_KEY,
    MESSAGES,
    chat_connector,
    chat_path,
    deploy_model,
    predict,
    titan_connector,
    unique,
)

ML = "/_plugins/_ml"
STAGE_NAMES = [name for name, _ in STAGES]
CHAT = {"parameters": {"messages": MESSAGES}}
PASSWORD = "Marigold-Seaside-Falcon-2291"


async def reached(provider: MockProvider, path: str, within_s: float = 30.0) -> None:
    """Poll until a call to ``path`` reached the provider (bounded)."""
    deadline = time.monotonic() + within_s
    while not provider.requests(path=path):
        if time.monotonic() > deadline:
            raise AssertionError(f"no call reached {path} within {within_s}s")
        await asyncio.sleep(0.01)


def timings(response: httpx.Response) -> list[tuple[str, float, str | None]]:
    """(name, milliseconds, description) of each Server-Timing entry, in order."""
    out = []
    for entry in response.headers["server-timing"].split(", "):
        name, *params = entry.split(";")
        values = dict(p.split("=", 1) for p in params)
        desc = values.get("desc")
        out.append((name, float(values["dur"]), desc.strip('"') if desc else None))
    return out


async def test_every_predict_answer_has_its_stages(admin: httpx.AsyncClient, provider: MockProvider) -> None:
    model_id = await deploy_model(admin, chat_connector(provider.url + chat_path()))
    response = await predict(admin, model_id, CHAT)
    assert response.status_code == 200
    stages = timings(response)
    names = [name for name, _, _ in stages]
    assert names == [*STAGE_NAMES, "overhead", "total"]
    durations = {name: ms for name, ms, _ in stages}
    for ran in ("auth", "access", "pre", "render", "ttfb", "body", "post", "total"):
        assert durations[ran] > 0, (ran, stages)
    for skipped in ("sign", "guardrail", "pool"):
        assert durations[skipped] == 0, (skipped, stages)
    assert durations["overhead"] <= durations["total"]
    assert sum(ms for name, ms, _ in stages if name not in ("overhead", "total")) <= durations["total"] + 0.01
    # Only predicts carry it.
    assert "server-timing" not in (await admin.get("/")).headers
    # Error answers too.
    failing = await deploy_model(admin, chat_connector(f"{provider.url}{chat_path()}?mock_status=500"))
    failed = await predict(admin, failing, CHAT)
    assert failed.status_code == 500
    failed_durations = {name: ms for name, ms, _ in timings(failed)}
    assert failed_durations["ttfb"] > 0 and failed_durations["post"] == 0
    assert_error(await predict(admin, "no-such-model", CHAT), 404, "status_exception")


async def test_retries_signing_and_guardrails_are_shown(
    admin: httpx.AsyncClient, provider: MockProvider
) -> None:
    fast = {"retry_backoff_millis": 1, "retry_timeout_seconds": 30, "max_retry_times": 3}
    retried = await deploy_model(
        admin,
        chat_connector(
            f"{provider.url}{chat_path()}?mock_fail_times=2&mock_status=503&mock_key={unique()}",
            client_config=fast,
        ),
        guardrails={"type": "local_regex", "input_guardrail": {"regex": [".*forbidden.*"]}},
    )
    response = await predict(admin, retried, CHAT)
    assert response.status_code == 200, response.text
    stages = timings(response)
    assert [(name, desc) for name, _, desc in stages if name == "retry"] == [("retry", "503")] * 2
    assert {name: ms for name, ms, _ in stages}["guardrail"] > 0
    titan = await deploy_model(admin, titan_connector(provider.url))
    signed = await predict(admin, titan, {"text_docs": ["hello"]}, algorithm="text_embedding")
    assert signed.status_code == 200, signed.text
    assert {name: ms for name, ms, _ in timings(signed)}["sign"] > 0


async def test_a_pool_wait_is_its_own_stage(admin: httpx.AsyncClient, provider: MockProvider) -> None:
    path = chat_path()
    model_id = await deploy_model(
        admin, chat_connector(f"{provider.url}{path}?mock_delay_ms=400", client_config={"max_connection": 1})
    )
    first = asyncio.ensure_future(predict(admin, model_id, CHAT))
    await reached(provider, path)
    # The only connection is taken: the second call waits for it.
    second = await predict(admin, model_id, CHAT)
    assert (await first).status_code == 200 and second.status_code == 200
    assert {name: ms for name, ms, _ in timings(second)}["pool"] > 0
    assert {name: ms for name, ms, _ in timings(await first)}["pool"] == 0


async def test_trace_returns_the_timeline_and_the_masked_request(
    admin: httpx.AsyncClient, provider: MockProvider
) -> None:
    model_id = await deploy_model(admin, chat_connector(provider.url + chat_path()))
    response = await admin.post(f"{ML}/models/{model_id}/_predict?trace=true", json=CHAT)
    assert response.status_code == 200, response.text
    body = response.json()
    trace = body["ext"]["trace"]
    assert {"render", "ttfb", "body", "overhead", "total", "retries", "attempts"} <= set(trace["timeline"])
    assert trace["timeline"]["attempts"] == 1
    usage = body["inference_results"][0]["output"][0]["dataAsMap"]["usage"]
    assert trace["usage"] == {
        "input_tokens": usage["prompt_tokens"],
        "output_tokens": usage["completion_tokens"],
    }
    (sent,) = trace["requests"]
    assert sent["method"] == "POST" and sent["url"].startswith(provider.url)
    assert sent["headers"]["Authorization"] == "Bearer *****"
    assert '"model": "gpt-4o-mini"' in sent["body"]
    assert CHAT_KEY not in response.text
    # Without the flag the answer is ML Commons' own.
    assert "ext" not in (await predict(admin, model_id, CHAT)).json()


async def test_trace_needs_the_right_to_dry_run(admin: httpx.AsyncClient, provider: MockProvider) -> None:
    path = chat_path()
    model_id = await deploy_model(admin, chat_connector(provider.url + path))
    created = await admin.put(
        "/_plugins/_security/api/internalusers/alice",
        json={"password": PASSWORD, "opendistro_security_roles": ["ml_full_access"]},
    )
    assert created.status_code in (200, 201), created.text
    async with httpx.AsyncClient(
        transport=admin._transport, base_url="http://mlgate", auth=("alice", PASSWORD)
    ) as alice:
        refused = await alice.post(f"{ML}/models/{model_id}/_predict?trace=true", json=CHAT)
        assert (await alice.post(f"{ML}/models/{model_id}/_predict", json=CHAT)).status_code == 200
    assert_error(refused, 403, "security_exception")
    assert "cluster:admin/mlgate/render" in refused.json()["error"]["reason"]
    assert len(provider.requests(path=path)) == 1  # the refused one never reached the provider
