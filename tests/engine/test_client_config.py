"""client_config through a real predict: the pool per connector, retries by policy, what retries."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mlgate.mockprovider import MockProvider
from mlgate.remote.client import POOL_EXHAUSTED
from tests.conftest import assert_error
from tests.engine.support import (
    MESSAGES,
    ML,
    chat_connector,
    chat_path,
    create_connector,
    deploy_model,
    predict,
    unique,
)

BODY = {"parameters": {"messages": MESSAGES}}
FAST_RETRY = {"retry_backoff_millis": 1, "retry_timeout_seconds": 30}


async def model_for(client: httpx.AsyncClient, url: str, **client_config: object) -> str:
    return await deploy_model(client, chat_connector(url, client_config=client_config))


@pytest.mark.parametrize("policy", ["constant", "exponential_equal_jitter", "exponential_full_jitter"])
async def test_retries_until_success_under_each_policy(
    loopback: httpx.AsyncClient, provider: MockProvider, policy: str
) -> None:
    path = chat_path()
    model_id = await model_for(
        loopback,
        f"{provider.url}{path}?mock_fail_times=2",
        max_retry_times=3,
        retry_backoff_policy=policy,
        **FAST_RETRY,
    )
    response = await predict(loopback, model_id, BODY)
    assert response.status_code == 200, response.text
    assert len(provider.requests(path=path)) == 3


async def test_no_retry_by_default(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    path = chat_path()
    model_id = await model_for(loopback, f"{provider.url}{path}?mock_fail_times=1")
    assert_error(await predict(loopback, model_id, BODY), 503, "status_exception")
    assert len(provider.requests(path=path)) == 1


async def test_retries_stop_after_max_retry_times(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    path = chat_path()
    model_id = await model_for(
        loopback, f"{provider.url}{path}?mock_fail_times=10", max_retry_times=2, **FAST_RETRY
    )
    assert_error(await predict(loopback, model_id, BODY), 503, "status_exception")
    assert len(provider.requests(path=path)) == 3


async def test_unbounded_retries(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    path = chat_path()
    model_id = await model_for(
        loopback, f"{provider.url}{path}?mock_fail_times=5", max_retry_times=-1, **FAST_RETRY
    )
    assert (await predict(loopback, model_id, BODY)).status_code == 200
    assert len(provider.requests(path=path)) == 6


async def test_unbounded_retries_end_with_the_retry_timeout(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    path = chat_path()
    model_id = await model_for(
        loopback,
        f"{provider.url}{path}?mock_status=500",
        max_retry_times=-1,
        retry_backoff_millis=100,
        retry_timeout_seconds=1,
    )
    assert_error(await predict(loopback, model_id, BODY), 500, "status_exception")
    assert len(provider.requests(path=path)) >= 2


@pytest.mark.parametrize(
    ("query", "retried"),
    [
        ("mock_status=429", True),
        ("mock_status=502", True),
        ("mock_throttle=1", True),  # AWS throttling: a 400 with x-amzn-ErrorType ThrottlingException
        ("mock_reset=1", True),  # a transport failure
        ("mock_status=400", False),
        ("mock_status=401", False),
        ("mock_status=404", False),
    ],
)
async def test_which_failures_retry(
    loopback: httpx.AsyncClient, provider: MockProvider, query: str, retried: bool
) -> None:
    path = chat_path()
    model_id = await model_for(
        loopback, f"{provider.url}{path}?{query}&mock_fail_times=1", max_retry_times=1, **FAST_RETRY
    )
    response = await predict(loopback, model_id, BODY)
    assert (response.status_code == 200) is retried, response.text
    assert len(provider.requests(path=path)) == (2 if retried else 1)


async def test_pool_exhaustion_is_429(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    # One connection, shared by the two models of one standalone connector; the provider holds it
    # longer than connection_timeout (also the wait for a free pooled connection).
    url = f"{provider.url}{chat_path()}?mock_delay_ms=2500"
    connector_id = await create_connector(
        loopback, chat_connector(url, client_config={"max_connection": 1, "connection_timeout": 1})
    )
    model_ids = []
    for _ in range(2):
        registered = await loopback.post(
            f"{ML}/models/_register?deploy=true",
            json={"name": unique(), "function_name": "remote", "connector_id": connector_id},
        )
        model_ids.append(registered.json()["model_id"])
    first, second = await asyncio.gather(*(predict(loopback, m, BODY) for m in model_ids))
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 429], (first.text, second.text)
    refused = first if first.status_code == 429 else second
    assert_error(refused, 429, "status_exception", "Error communicating with remote model: " + POOL_EXHAUSTED)


async def test_separate_connectors_have_separate_pools(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    config = {"max_connection": 1, "connection_timeout": 1}
    model_ids = [
        await deploy_model(
            loopback, chat_connector(f"{provider.url}{chat_path()}?mock_delay_ms=1500", client_config=config)
        )
        for _ in range(2)
    ]
    responses = await asyncio.gather(*(predict(loopback, m, BODY) for m in model_ids))
    assert [r.status_code for r in responses] == [200, 200]
