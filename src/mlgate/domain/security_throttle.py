"""The login throttle: how many password guesses a caller gets before every attempt is refused.

Two budgets, so that an attacker cannot lock anybody else out:

- per (user name, client address): ``max_failures`` (10) failed logins in a row block that user *from
  that address*; the same user from another address is not affected;
- per client address, across user names: ``max_address_failures`` (100) failures block the address, to
  stop one address spraying guesses over many names.

An attempt takes a slot of both budgets *before* its password check runs and gives it back when the check
ends: a failure turns the slot into a counted failure, a success frees it and ends the user's run. So
however many guesses arrive at once, at most a budget's worth is ever checked. IPv6 addresses are
counted by their /64 (one host often holds a whole /64). ``now`` is always passed in.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass, field
from functools import lru_cache

MAX_FAILURES = 10
MAX_ADDRESS_FAILURES = 100
BLOCK_SECONDS = 60.0
# Failures further apart than this do not add up (a typo a week does not end in a block).
FORGET_SECONDS = 3600.0

_Key = tuple[str, ...]


@lru_cache(maxsize=4096)
def address_key(address: str) -> str:
    """The throttle's name for a client address: IPv4 as is, IPv6 as its /64, anything else verbatim."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


@dataclass
class _Run:
    failures: int = 0
    in_flight: int = 0
    blocked_until: float = 0.0
    last: float = 0.0

    def is_empty(self) -> bool:
        return not self.failures and not self.in_flight and not self.blocked_until


@dataclass
class LoginThrottle:
    """Failed and in-flight login attempts per (user, address) and per address."""

    max_failures: int = MAX_FAILURES
    max_address_failures: int = MAX_ADDRESS_FAILURES
    block_seconds: float = BLOCK_SECONDS
    forget_seconds: float = FORGET_SECONDS
    max_entries: int = 100_000
    _runs: dict[_Key, _Run] = field(default_factory=dict)

    def retry_after(self, user: str, address: str, now: float) -> int | None:
        """Seconds to wait when the user's budget at this address or the address's budget is used up
        (by failures or by attempts still being checked), else None."""
        if not self._runs:
            return None
        waits = [self._wait(key, limit, now) for key, limit in self._budgets(user, address)]
        blocked = [w for w in waits if w is not None]
        return max(blocked) if blocked else None

    def begin(self, user: str, address: str, now: float) -> None:
        """Take a slot of both budgets for an attempt whose password check starts now."""
        if len(self._runs) >= self.max_entries:
            self._forget_idle(now)
        for key, _ in self._budgets(user, address):
            run = self._runs.setdefault(key, _Run())
            self._expire(run, now)
            run.in_flight += 1
            run.last = now

    def end(self, user: str, address: str, now: float, *, success: bool) -> None:
        """The attempt begun for ``user`` from ``address`` ended: count a failure, or end the run."""
        for key, limit in self._budgets(user, address):
            run = self._runs.get(key)
            if run is None:  # forgotten under memory pressure meanwhile
                run = self._runs.setdefault(key, _Run())
            self._expire(run, now)
            run.in_flight = max(0, run.in_flight - 1)
            run.last = now
            if not success:
                run.failures += 1
                if run.failures >= limit and not run.blocked_until:
                    run.blocked_until = now + self.block_seconds
            elif key[0] == "user" and not run.blocked_until:
                run.failures = 0
            if run.is_empty():
                del self._runs[key]

    def record_success(self, user: str, address: str) -> None:
        """A login that needed no password check (already verified) ends the user's run at the address.

        The address's count is left alone: a caller's own valid account must not reset the budget it
        spends guessing other names.
        """
        if not self._runs:
            return
        key = ("user", user, address_key(address))
        run = self._runs.get(key)
        if run is not None and not run.blocked_until:
            run.failures = 0
            if run.is_empty():
                del self._runs[key]

    def _budgets(self, user: str, address: str) -> tuple[tuple[_Key, int], tuple[_Key, int]]:
        where = address_key(address)
        return (("user", user, where), self.max_failures), (("addr", where), self.max_address_failures)

    def _expire(self, run: _Run, now: float) -> None:
        if run.blocked_until and now >= run.blocked_until:
            run.failures, run.blocked_until = 0, 0.0  # the block is over: a fresh run starts
        elif run.failures and not run.blocked_until and now - run.last >= self.forget_seconds:
            run.failures = 0

    def _wait(self, key: _Key, limit: int, now: float) -> int | None:
        run = self._runs.get(key)
        if run is None:
            return None
        self._expire(run, now)
        if run.is_empty():
            del self._runs[key]
            return None
        if run.blocked_until:
            return max(1, math.ceil(run.blocked_until - now))
        if run.failures + run.in_flight >= limit:
            # Checks still running fill the budget; if they fail the block starts at once.
            return max(1, math.ceil(self.block_seconds))
        return None

    def _forget_idle(self, now: float) -> None:
        # Bound memory under a spray of made-up user names: drop runs idle for a whole block period.
        for key in [
            k
            for k, r in self._runs.items()
            if not r.in_flight and now - r.last >= self.block_seconds and now >= r.blocked_until
        ]:
            del self._runs[key]
