"""The model rate_limiter: the token bucket itself, and through predict.

ml-commons: MLModelManager (createTokenBucket), MLRateLimiter.
"""

from __future__ import annotations

import httpx
import pytest

from mlgate.domain.rate_limit import TokenBucket, build_rate_limiter
from mlgate.mockprovider import MockProvider
from tests.conftest import assert_error
from tests.engine.support import (
    MESSAGES,
    ML,
    chat_connector,
    chat_path,
    deploy_model,
    predict,
    titan_connector,
)

THROTTLED = "Request is throttled at model level."


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_starts_full_and_refills_at_the_rate() -> None:
    clock = FakeClock()
    bucket = build_rate_limiter({"limit": "3", "unit": "SECONDS"}, worker_nodes=1, clock=clock)
    assert bucket is not None
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]
    clock.now += 1 / 3
    assert bucket.try_acquire() is True
    assert bucket.try_acquire() is False
    clock.now += 100
    # Never more than the capacity, however long it waited.
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]


def test_limit_is_split_across_worker_nodes() -> None:
    clock = FakeClock()
    bucket = build_rate_limiter({"limit": "10", "unit": "MINUTES"}, worker_nodes=2, clock=clock)
    assert bucket is not None
    assert (bucket.capacity, bucket.rate) == (5.0, pytest.approx(10 / 60 / 2))


def test_small_limits_still_allow_one_request() -> None:
    clock = FakeClock()
    bucket = build_rate_limiter({"limit": "0.5", "unit": "HOURS"}, worker_nodes=1, clock=clock)
    assert bucket is not None and bucket.capacity == 1.0
    assert [bucket.try_acquire(), bucket.try_acquire()] == [True, False]
    clock.now += 7200
    assert bucket.try_acquire() is True


@pytest.mark.parametrize("spec", [None, {}, {"limit": "3"}, {"unit": "SECONDS"}])
def test_incomplete_rate_limiter_takes_no_effect(spec: dict | None) -> None:
    assert build_rate_limiter(spec, worker_nodes=1, clock=FakeClock()) is None


def test_clock_stepping_back_does_not_drain() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=1.0, capacity=2.0, clock=clock)
    assert bucket.try_acquire()
    clock.now -= 50
    assert bucket.try_acquire()
    assert not bucket.try_acquire()


async def test_predict_is_throttled_then_update_reinstalls_the_bucket(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    path = chat_path()
    model_id = await deploy_model(
        loopback, chat_connector(provider.url + path), rate_limiter={"limit": "2", "unit": "DAYS"}
    )
    body = {"parameters": {"messages": MESSAGES}}
    for _ in range(2):
        assert (await predict(loopback, model_id, body)).status_code == 200
    assert_error(await predict(loopback, model_id, body), 429, "status_exception", THROTTLED)
    # The refused call never reached the provider.
    assert len(provider.requests(path=path)) == 2
    # Raising the limit re-deploys in place with a fresh bucket (the unit is merged from before).
    update = await loopback.put(f"{ML}/models/{model_id}", json={"rate_limiter": {"limit": "3"}})
    assert update.status_code == 200, update.text
    model = (await loopback.get(f"{ML}/models/{model_id}")).json()
    assert model["rate_limiter"] == {"limit": "3", "unit": "DAYS"}
    for _ in range(3):
        assert (await predict(loopback, model_id, body)).status_code == 200
    assert_error(await predict(loopback, model_id, body), 429, "status_exception", THROTTLED)
    assert len(provider.requests(path=path)) == 5


async def test_each_remote_call_takes_a_token(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    # Bedrock Titan embeds one document per call: two documents take two tokens.
    model_id = await deploy_model(
        loopback, titan_connector(provider.url), rate_limiter={"limit": "3", "unit": "DAYS"}
    )
    two_docs = {"text_docs": ["a", "b"]}
    assert (await predict(loopback, model_id, two_docs, "text_embedding")).status_code == 200
    assert (await predict(loopback, model_id, {"text_docs": ["c"]}, "text_embedding")).status_code == 200
    assert_error(
        await predict(loopback, model_id, {"text_docs": ["d"]}, "text_embedding"),
        429,
        "status_exception",
        THROTTLED,
    )


async def test_model_without_rate_limiter_is_not_throttled(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    model_id = await deploy_model(loopback, chat_connector(provider.url + chat_path()))
    body = {"parameters": {"messages": MESSAGES}}
    statuses = [(await predict(loopback, model_id, body)).status_code for _ in range(5)]
    assert statuses == [200] * 5
