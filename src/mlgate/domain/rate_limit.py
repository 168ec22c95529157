"""The model-level ``rate_limiter``: a token bucket per model per worker node.

ml-commons: plugin/.../model/MLModelManager.java (createTokenBucket), common/.../controller/MLRateLimiter.java.

ML Commons gives every worker node a bucket refilling at ``limit / unit / worker_nodes`` tokens per unit
of time, holding at most ``max(limit / worker_nodes, 1)`` tokens, full when built. Each remote call
takes one token; an empty bucket refuses the call. The clock is injected (seconds, monotonic), so the
bucket is pure and tests drive time by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlgate.domain.errors import RateLimitedError

THROTTLED_AT_MODEL_LEVEL = "Request is throttled at model level."
THROTTLED_AT_USER_LEVEL = (
    "Request is throttled at user level. If you think there's an issue, please contact your cluster admin."
)

# java.util.concurrent.TimeUnit names → seconds per unit.
TIME_UNIT_SECONDS: Mapping[str, float] = {
    "NANOSECONDS": 1e-9,
    "MICROSECONDS": 1e-6,
    "MILLISECONDS": 1e-3,
    "SECONDS": 1.0,
    "MINUTES": 60.0,
    "HOURS": 3600.0,
    "DAYS": 86400.0,
}


@dataclass
class TokenBucket:
    """Tokens refill continuously at ``rate`` per second up to ``capacity``; the bucket starts full."""

    rate: float
    capacity: float
    clock: Callable[[], float]
    _tokens: float = field(init=False)
    _updated: float = field(init=False)

    def __post_init__(self) -> None:
        self._tokens = self.capacity
        self._updated = self.clock()

    def try_acquire(self) -> bool:
        """Take one token if there is one; whether the call may proceed."""
        now = self.clock()
        # A clock that steps back (it should not) must not drain the bucket.
        elapsed = max(0.0, now - self._updated)
        self._updated = now
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def acquire(self, refusal: str = THROTTLED_AT_MODEL_LEVEL) -> None:
        """Take one token or raise ML Commons' 429 with ``refusal``."""
        if not self.try_acquire():
            raise RateLimitedError(refusal)


def build_rate_limiter(
    rate_limiter: Mapping[str, Any] | None, *, worker_nodes: int, clock: Callable[[], float]
) -> TokenBucket | None:
    """The bucket a node installs for a model's ``rate_limiter``, or None when it is incomplete.

    Both ``limit`` and ``unit`` must be set (the stored document holds them validated, as strings);
    ``worker_nodes`` is how many nodes serve the model, each taking its share of the limit.
    """
    if not rate_limiter:
        return None
    limit_text = rate_limiter.get("limit")
    unit = rate_limiter.get("unit")
    if limit_text is None or unit is None:
        return None
    limit = float(limit_text)
    seconds = TIME_UNIT_SECONDS[str(unit).upper()]
    nodes = max(1, worker_nodes)
    return TokenBucket(rate=limit / seconds / nodes, capacity=max(limit / nodes, 1.0), clock=clock)


def build_user_limiters(
    user_rate_limiter: Mapping[str, Mapping[str, Any]], *, worker_nodes: int, clock: Callable[[], float]
) -> dict[str, TokenBucket]:
    """A model controller's buckets by user name: each user gets what a model-level limiter would."""
    buckets: dict[str, TokenBucket] = {}
    for user, limiter in user_rate_limiter.items():
        bucket = build_rate_limiter(limiter, worker_nodes=worker_nodes, clock=clock)
        if bucket is not None:
            buckets[user] = bucket
    return buckets
