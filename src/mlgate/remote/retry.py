"""Retrying a remote call per the connector ``client_config``.

ml-commons: ml-algorithms/.../algorithms/remote/RemoteConnectorExecutor.java (invokeRemoteServiceWithRetry).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

from mlgate.domain.errors import RemoteError, RemoteTimeoutError
from mlgate.remote.client import COMMUNICATION_ERROR, THROTTLED, RemoteResponse, remote_failure
from mlgate.remote.client_config import ClientConfig

# 2**32 × any sane backoff already exceeds every retry budget; the cap only keeps the float finite.
_MAX_EXPONENT = 32


def backoff_delay(config: ClientConfig, retry: int, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number ``retry`` (0 for the first retry) under ``config``'s policy.

    ``constant``: ``retry_backoff_millis``. ``exponential_equal_jitter``: with
    ``d = min(retry_backoff_millis·2^retry, retry_timeout_seconds·1000)``, ``d/2 + random(0..d/2)``.
    ``exponential_full_jitter``: random in ``(0, retry_backoff_millis·2^retry]``.
    """
    base = config.retry_backoff_millis
    if config.retry_backoff_policy == "constant":
        return base / 1000
    grown = base * 2.0 ** min(retry, _MAX_EXPONENT)
    if config.retry_backoff_policy == "exponential_equal_jitter":
        capped = min(grown, config.retry_timeout_seconds * 1000)
        return (capped / 2 + rand() * capped / 2) / 1000
    return grown * (1.0 - rand()) / 1000


def retry_reason(last: RemoteResponse | RemoteError) -> str:
    """Why a call is retried, as a metric label: ``timeout``, ``connection``, ``throttling``,
    ``empty_body`` or the provider's status code."""
    if isinstance(last, RemoteError):
        if isinstance(last, RemoteTimeoutError):
            return "timeout"
        if last.message.startswith(THROTTLED):
            return "throttling"
        if last.message.startswith(COMMUNICATION_ERROR):
            return "pool_exhausted" if last.status == 429 else "connection"
        return str(last.status)
    failure = remote_failure(last)
    if failure is not None and failure.message.startswith(THROTTLED):
        return "throttling"
    if 200 <= last.status <= 300:
        return "empty_body"
    return str(last.status)


async def send_with_retry(
    send: Callable[[], Awaitable[RemoteResponse]],
    config: ClientConfig,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    rand: Callable[[], float] = random.random,
    clock: Callable[[], float] = time.monotonic,
    on_retry: Callable[[str, int], object] | None = None,
) -> RemoteResponse:
    """Call ``send`` until it succeeds or a retry rule says stop; return the last response.

    Retried (only when ``max_retry_times`` != 0): responses and RemoteErrors that are AWS throttling,
    status 429 or ≥ 500 (including a 2xx with an empty body, which becomes 502). Stops after
    ``max_retry_times`` retries (-1: no count limit) or once ``retry_timeout_seconds`` have passed since
    the first attempt; a wait never runs past that budget. A final failing response is returned for
    :func:`~mlgate.remote.client.raise_for_remote_status`; a final RemoteError is raised. Anything else
    (egress refusals, 4xx) ends the loop at once. ``on_retry(reason, wait_ns)`` hears of each retry.
    """
    if config.max_retry_times == 0:
        return await send()
    started = clock()
    retries = 0
    while True:
        last: RemoteResponse | RemoteError
        try:
            last = await send()
        except RemoteError as error:
            if not error.retryable:
                raise
            last = error
        else:
            failure = remote_failure(last)
            if failure is None or not failure.retryable:
                return last
        retries += 1
        elapsed = clock() - started
        out_of_retries = config.max_retry_times != -1 and retries > config.max_retry_times
        if out_of_retries or elapsed >= config.retry_timeout_seconds:
            if isinstance(last, RemoteError):
                raise last
            return last
        delay = min(backoff_delay(config, retries - 1, rand), config.retry_timeout_seconds - elapsed)
        if on_retry is not None:
            on_retry(retry_reason(last), int(delay * 1e9))
        await sleep(delay)
