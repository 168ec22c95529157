"""``GET /_prometheus/metrics`` after real traffic against the mock provider: names, labels and values."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mlgate.bootstrap import Node
from mlgate.mockprovider import MockProvider
from tests.conftest import ADMIN_PASSWORD, LOOPBACK_TRUSTED, ManualClock, assert_error
from tests.engine.support import MESSAGES, chat_connector, chat_path, deploy_model, predict, unique
from tests.observability.support import (
    CLAUDE_BODY,
    CONVERSE_BODY,
    METRICS,
    bedrock_connector,
    cohere_embed_connector,
    scrape,
)

ML = "/_plugins/_ml"
CHAT = {"parameters": {"messages": MESSAGES}}
PASSWORD = "Marigold-Seaside-Falcon-2291"


def data(response: httpx.Response) -> dict[str, Any]:
    """The provider's reply as predict passed it through (``dataAsMap``)."""
    assert response.status_code == 200, response.text
    return dict(response.json()["inference_results"][0]["output"][0]["dataAsMap"])


async def test_predict_metrics_count_requests_and_tokens(
    admin: httpx.AsyncClient, provider: MockProvider
) -> None:
    chat = await deploy_model(admin, chat_connector(provider.url + chat_path()))
    cohere = await deploy_model(admin, cohere_embed_connector(provider.url))
    converse = await deploy_model(
        admin, bedrock_connector(provider.url, "anthropic.claude-3-haiku", "converse", CONVERSE_BODY)
    )
    claude = await deploy_model(
        admin, bedrock_connector(provider.url, "anthropic.claude-3-haiku", "invoke", CLAUDE_BODY)
    )
    chat_usage = [data(await predict(admin, chat, CHAT))["usage"] for _ in range(3)]
    cohere_usage = [
        data(await predict(admin, cohere, {"parameters": {"texts": ["one doc", "and another one"]}}))["meta"]
        for _ in range(2)
    ]
    converse_usage = [
        data(await predict(admin, converse, {"parameters": {"inputs": "What is a vector?"}}))["usage"]
        for _ in range(2)
    ]
    claude_usage = data(await predict(admin, claude, {"parameters": {"inputs": "Hello there"}}))["usage"]

    metrics = await scrape(admin)
    # ML Commons' counter and histogram, with its tags.
    count = "ml_commons_model_predict_count_total"
    assert metrics.labels(count, model_id=chat) == [
        {
            "model_id": chat,
            "deployment": "remote",
            "service_provider": "openai",
            "algorithm": "REMOTE",
            "model": "gpt-4o-mini",
            "type": "llm",
        }
    ]
    assert metrics.value(count, model_id=chat) == 3
    # No provider keyword in a loopback URL: ML Commons' "unknown"; the model name gives the type.
    assert metrics.value(count, model_id=cohere, service_provider="unknown", type="embedding") == 2
    assert metrics.value(count, model_id=converse, model="anthropic.claude-3-haiku") == 2
    assert metrics.value("ml_commons_model_predict_latency_milliseconds_count", model_id=chat) == 3
    # OpenTelemetry GenAI: duration per operation and the tokens the provider reported.
    duration = "gen_ai_client_operation_duration_seconds_count"
    genai_chat = {"gen_ai_operation_name": "chat", "gen_ai_provider_name": "openai"}
    assert metrics.value(duration, gen_ai_request_model="gpt-4o-mini", **genai_chat) == 3
    embed = {"gen_ai_operation_name": "embeddings", "gen_ai_request_model": "embed-english-v3.0"}
    assert metrics.value(duration, **embed) == 2
    tokens = "gen_ai_client_token_usage_sum"
    chat_in = sum(u["prompt_tokens"] for u in chat_usage)
    chat_out = sum(u["completion_tokens"] for u in chat_usage)
    assert chat_in > 0 and chat_out > 0
    assert metrics.value(tokens, gen_ai_request_model="gpt-4o-mini", gen_ai_token_type="input") == chat_in
    assert metrics.value(tokens, gen_ai_request_model="gpt-4o-mini", gen_ai_token_type="output") == chat_out
    assert metrics.value("gen_ai_client_token_usage_count", gen_ai_request_model="gpt-4o-mini") == 6
    # mlgate's token counters, per model and user, from each provider's shape.
    mlgate_tokens = "mlgate_tokens_total"
    assert metrics.value(mlgate_tokens, model_id=chat, user="admin", type="input") == chat_in
    assert metrics.value(mlgate_tokens, model_id=chat, user="admin", type="output") == chat_out
    cohere_in = sum(m["billed_units"]["input_tokens"] for m in cohere_usage)
    assert cohere_in > 0
    assert metrics.value(mlgate_tokens, model_id=cohere, type="input") == cohere_in
    assert metrics.value(mlgate_tokens, model_id=cohere, type="output") == 0
    assert metrics.value(mlgate_tokens, model_id=converse, type="input") == sum(
        u["inputTokens"] for u in converse_usage
    )
    assert metrics.value(mlgate_tokens, model_id=converse, type="output") == sum(
        u["outputTokens"] for u in converse_usage
    )
    assert metrics.value(mlgate_tokens, model_id=claude, type="input") == claude_usage["input_tokens"]
    assert metrics.value(mlgate_tokens, model_id=claude, type="output") == claude_usage["output_tokens"]
    # Overhead and the model call alone, once per predict.
    assert metrics.value("mlgate_predict_overhead_seconds_count", model_id=chat) == 3
    provider_count = "mlgate_provider_latency_seconds_count"
    assert metrics.value(provider_count, model_id=chat, provider="openai", status_class="2xx") == 3
    # Gauges: the pool of each connector, models and tasks of the cluster, the build.
    assert metrics.value("mlgate_pool_connections_max", connector=f"model:{chat}") == 512
    assert metrics.value("mlgate_pool_connections_in_use", connector=f"model:{chat}") == 0
    assert metrics.value("mlgate_pool_requests_waiting", connector=f"model:{chat}") == 0
    assert metrics.value("mlgate_models", state="DEPLOYED") == 4
    assert metrics.value("mlgate_tasks", type="DEPLOY_MODEL", state="COMPLETED") == 4
    assert metrics.value("mlgate_build_info", version="0.1.0") == 1
    # The same tokens per user in the model's profile.
    profile = (await admin.get(f"{ML}/profile/models/{chat}")).json()
    (node_profile,) = profile["nodes"].values()
    assert node_profile["models"][chat]["token_usage"] == {
        "input_tokens": chat_in,
        "output_tokens": chat_out,
        "users": {"admin": {"input_tokens": chat_in, "output_tokens": chat_out}},
    }


async def test_failures_retries_and_refusals(admin: httpx.AsyncClient, provider: MockProvider) -> None:
    fast = {"retry_backoff_millis": 1, "retry_timeout_seconds": 30, "max_retry_times": 3}
    retried = await deploy_model(
        admin,
        chat_connector(
            f"{provider.url}{chat_path()}?mock_fail_times=2&mock_key={unique()}", client_config=fast
        ),
    )
    response = await predict(admin, retried, CHAT)
    assert response.status_code == 200, response.text
    failing = await deploy_model(admin, chat_connector(f"{provider.url}{chat_path()}?mock_status=500"))
    assert_error(await predict(admin, failing, CHAT), 500, "status_exception")
    limited = await deploy_model(
        admin, chat_connector(provider.url + chat_path()), rate_limiter={"limit": "1", "unit": "MINUTES"}
    )
    assert (await predict(admin, limited, CHAT)).status_code == 200
    assert_error(await predict(admin, limited, CHAT), 429, "status_exception")
    guarded = await deploy_model(
        admin,
        chat_connector(provider.url + chat_path()),
        guardrails={"type": "local_regex", "input_guardrail": {"regex": [".*forbidden.*"]}},
    )
    forbidden = {"parameters": {"messages": [{"role": "user", "content": "say forbidden things"}]}}
    assert_error(await predict(admin, guarded, forbidden), 400, "illegal_argument_exception")
    # Loopback stops being an allowed destination after deploy: the send is refused.
    closed = await admin.put(
        "/_cluster/settings",
        json={"persistent": {"plugins.ml_commons.connector.private_ip_enabled": False}},
    )
    assert closed.status_code == 200
    assert_error(await predict(admin, guarded, CHAT), 400, "illegal_argument_exception")

    metrics = await scrape(admin)
    assert metrics.value("mlgate_provider_retries_total", model_id=retried, reason="503") == 2
    assert metrics.value("ml_commons_model_predict_count_total", model_id=retried) == 1
    # A failed call: counted by the GenAI histogram with its error.type, not by ML Commons' counter.
    assert metrics.value("ml_commons_model_predict_count_total", model_id=failing) == 0
    duration = "gen_ai_client_operation_duration_seconds_count"
    assert metrics.value(duration, gen_ai_request_model="gpt-4o-mini", error_type="500") == 1
    provider_count = "mlgate_provider_latency_seconds_count"
    assert metrics.value(provider_count, model_id=failing, status_class="5xx") == 1
    assert metrics.value("mlgate_throttled_requests_total", model_id=limited, level="model") == 1
    assert metrics.value("mlgate_guardrail_refusals_total", model_id=guarded, stage="input") == 1
    assert metrics.value("mlgate_egress_refusals_total", reason="private_address") == 1


async def _user(admin: httpx.AsyncClient, name: str, role: str) -> httpx.AsyncClient:
    response = await admin.put(
        f"/_plugins/_security/api/internalusers/{name}",
        json={"password": PASSWORD, "opendistro_security_roles": [role]},
    )
    assert response.status_code in (200, 201), response.text
    return httpx.AsyncClient(transport=admin._transport, base_url="http://mlgate", auth=(name, PASSWORD))


async def test_metrics_need_cluster_monitor(admin: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    async with await _user(admin, "alice", "ml_full_access") as alice:
        assert (await alice.get(METRICS)).status_code == 200
    async with await _user(admin, "bob", "ml_read_access") as bob:
        refused = await bob.get(METRICS)
    assert_error(refused, 403, "security_exception")
    assert "cluster:monitor/prometheus/metrics" in refused.json()["error"]["reason"]
    assert_error(await anonymous.get(METRICS), 401, "security_exception")


async def test_login_failures_and_lockouts(
    admin: httpx.AsyncClient, secure_node: Node, clock: ManualClock
) -> None:
    transport = admin._transport
    async with httpx.AsyncClient(
        transport=transport, base_url="http://mlgate", auth=("admin", "not-the-password")
    ) as wrong:
        statuses = [(await wrong.get("/")).status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    clock.advance(120)  # the throttle lifts; admin may scrape again
    metrics = await scrape(admin)
    assert metrics.value("mlgate_login_failures_total") == 10
    assert metrics.value("mlgate_login_lockouts_total") == 1
    assert ADMIN_PASSWORD not in metrics.text and "not-the-password" not in metrics.text


async def test_metrics_without_security(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    # Security off: predicts count under the empty user; scraping needs no login.
    model_id = await deploy_model(loopback, chat_connector(provider.url + chat_path()))
    usage = data(await predict(loopback, model_id, CHAT))["usage"]
    metrics = await scrape(loopback)
    assert (
        metrics.value("mlgate_tokens_total", model_id=model_id, user="", type="input")
        == usage["prompt_tokens"]
    )
    assert LOOPBACK_TRUSTED not in metrics.text


async def test_spend_from_the_connector_price_table(admin: httpx.AsyncClient, provider: MockProvider) -> None:
    connector = chat_connector(provider.url + chat_path())
    connector["parameters"] |= {
        "mlgate.price_per_1m_input_tokens": "3",
        "mlgate.price_per_1m_output_tokens": "15",
        "mlgate.price_currency": "EUR",
    }
    model_id = await deploy_model(admin, connector)
    usages = [data(await predict(admin, model_id, CHAT))["usage"] for _ in range(2)]
    metrics = await scrape(admin)
    expected = sum(u["prompt_tokens"] * 3 + u["completion_tokens"] * 15 for u in usages) / 1_000_000
    spent = metrics.value("mlgate_spend_total", model_id=model_id, user="admin", currency="EUR")
    assert spent == pytest.approx(expected)
    assert spent > 0
