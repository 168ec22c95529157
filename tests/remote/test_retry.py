"""client_config retries with injected sleep, randomness and clock (no real waiting).

ml-commons: RemoteConnectorExecutor (invokeRemoteServiceWithRetry), RetryBackoffPolicy.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web

from mlgate.domain.errors import InvalidRequestError, RemoteError
from mlgate.remote.client import ConnectorClient, RemoteResponse, raise_for_remote_status
from mlgate.remote.client_config import ClientConfig
from mlgate.remote.retry import backoff_delay, send_with_retry

OK = RemoteResponse(200, {}, b"{}")
THROTTLED = RemoteResponse(400, {"x-amzn-ErrorType": "ThrottlingException"}, b"{}")


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def scripted(
    *outcomes: RemoteResponse | Exception,
) -> tuple[Callable[[], Awaitable[RemoteResponse]], list[int]]:
    """A send() that plays ``outcomes`` in order (the last one repeats) and counts its calls."""
    calls = [0]

    async def send() -> RemoteResponse:
        outcome = outcomes[min(calls[0], len(outcomes) - 1)]
        calls[0] += 1
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return send, calls


async def run(
    config: ClientConfig, *outcomes: RemoteResponse | Exception
) -> tuple[RemoteResponse, int, FakeTime]:
    time = FakeTime()
    send, calls = scripted(*outcomes)
    resp = await send_with_retry(send, config, sleep=time.sleep, rand=lambda: 0.5, clock=time.clock)
    return resp, calls[0], time


async def test_no_retry_by_default() -> None:
    resp, calls, time = await run(ClientConfig(), RemoteResponse(503, {}, b"busy"), OK)
    assert (resp.status, calls, time.sleeps) == (503, 1, [])


@pytest.mark.parametrize(
    "failure",
    [
        THROTTLED,
        RemoteResponse(429, {}, b"slow"),
        RemoteResponse(500, {}, b"oops"),
        RemoteResponse(503, {}, b""),
        RemoteResponse(200, {}, b""),
        RemoteError("Error communicating with remote model: reset", status=500, retryable=True),
    ],
)
async def test_retryable_failures_are_retried(failure: RemoteResponse | Exception) -> None:
    resp, calls, time = await run(ClientConfig(max_retry_times=3), failure, failure, OK)
    assert resp is OK
    assert calls == 3
    assert time.sleeps == [0.2, 0.2]


@pytest.mark.parametrize(
    "failure",
    [RemoteResponse(400, {}, b"bad"), RemoteResponse(401, {}, b"no"), RemoteResponse(404, {}, b"")],
)
async def test_client_errors_are_not_retried(failure: RemoteResponse) -> None:
    resp, calls, _ = await run(ClientConfig(max_retry_times=3), failure, OK)
    assert (resp, calls) == (failure, 1)


async def test_non_retryable_exceptions_end_at_once() -> None:
    with pytest.raises(InvalidRequestError):
        await run(ClientConfig(max_retry_times=3), InvalidRequestError("refused"), OK)
    with pytest.raises(RemoteError, match="nope"):
        await run(ClientConfig(max_retry_times=3), RemoteError("nope", status=400), OK)


async def test_max_retry_times_counts_retries_not_attempts() -> None:
    resp, calls, time = await run(ClientConfig(max_retry_times=2), RemoteResponse(500, {}, b"x"))
    assert resp.status == 500
    assert calls == 3
    assert len(time.sleeps) == 2
    with pytest.raises(RemoteError) as caught:
        raise_for_remote_status(resp)
    assert caught.value.message == "Error from remote service: x"


async def test_last_exception_is_raised_when_retries_run_out() -> None:
    errors = [
        RemoteError(f"Error communicating with remote model: {i}", status=500, retryable=True)
        for i in range(3)
    ]
    with pytest.raises(RemoteError) as caught:
        await run(ClientConfig(max_retry_times=2), *errors)
    assert caught.value is errors[2]


async def test_unbounded_retries_stop_at_the_retry_timeout() -> None:
    config = ClientConfig(max_retry_times=-1, retry_backoff_millis=1000, retry_timeout_seconds=5)
    resp, calls, time = await run(config, RemoteResponse(502, {}, b"x"))
    assert resp.status == 502
    # Attempts at t=0,1,2,3,4,5; at t=5 the budget is spent.
    assert calls == 6
    assert time.now == 5


async def test_a_wait_never_runs_past_the_budget() -> None:
    config = ClientConfig(max_retry_times=-1, retry_backoff_millis=4000, retry_timeout_seconds=10)
    _, calls, time = await run(config, THROTTLED)
    assert time.sleeps == [4.0, 4.0, 2.0]
    assert calls == 4


def test_backoff_policies() -> None:
    constant = ClientConfig(retry_backoff_millis=300)
    assert [backoff_delay(constant, n, lambda: 0.9) for n in range(3)] == [0.3, 0.3, 0.3]
    equal = ClientConfig(
        retry_backoff_millis=100, retry_backoff_policy="exponential_equal_jitter", retry_timeout_seconds=1
    )
    assert [backoff_delay(equal, n, lambda: 0.0) for n in range(5)] == [0.05, 0.1, 0.2, 0.4, 0.5]
    assert [backoff_delay(equal, n, lambda: 1.0) for n in range(5)] == [0.1, 0.2, 0.4, 0.8, 1.0]
    full = ClientConfig(retry_backoff_millis=100, retry_backoff_policy="exponential_full_jitter")
    assert [backoff_delay(full, n, lambda: 0.0) for n in range(4)] == [0.1, 0.2, 0.4, 0.8]
    assert backoff_delay(full, 3, lambda: 0.75) == pytest.approx(0.2)
    assert 0 < backoff_delay(full, 10_000, lambda: 0.999999) < float("inf")


async def test_exponential_policy_drives_the_waits() -> None:
    config = ClientConfig(
        max_retry_times=3, retry_backoff_millis=100, retry_backoff_policy="exponential_full_jitter"
    )
    _, calls, time = await run(config, THROTTLED)
    assert calls == 4
    assert time.sleeps == pytest.approx([0.05, 0.1, 0.2])


async def test_retries_against_a_real_server(
    serve: Callable[[web.Application], Awaitable[str]], make_client: Callable[..., ConnectorClient]
) -> None:
    statuses = [503, 429]

    async def handler(request: web.Request) -> web.Response:
        if statuses:
            return web.Response(status=statuses.pop(0), text="busy")
        return web.Response(text='{"ok": true}')

    app = web.Application()
    app.router.add_post("/", handler)
    base = await serve(app)
    config = ClientConfig(max_retry_times=5)
    client = make_client(config)
    time = FakeTime()
    resp = await send_with_retry(
        lambda: client.send("POST", f"{base}/", {}, b"{}"), config, sleep=time.sleep, clock=time.clock
    )
    assert resp.status == 200
    assert resp.body == b'{"ok": true}'
    assert time.sleeps == [0.2, 0.2]
