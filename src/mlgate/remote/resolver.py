"""DNS for outbound calls that cannot be rebound between the egress check and the connect.

One :class:`GuardedResolver` serves every connector client. It resolves a host once per short TTL,
and aiohttp connects only to addresses it hands out, each re-checked against the egress policy in force
at connect time. :func:`resolve_and_check` runs the full egress check for a URL before each send, using
the same cache, so the address that was checked is the address that is dialled.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver, ResolveResult

from mlgate.domain.egress import (
    NOT_TRUSTED_PRIVATE,
    EgressPolicy,
    EgressVerdict,
    address_refusal,
    check_addresses,
    is_private_address,
    preflight,
)
from mlgate.domain.errors import InvalidRequestError, RemoteError

Lookup = Callable[[str], Awaitable[Sequence[str]]]

DEFAULT_TTL_SECONDS = 5.0
MAX_CACHED_HOSTS = 1024
MAX_CACHED_VERDICTS = 1024


async def lookup_system(host: str) -> Sequence[str]:
    """Resolve ``host`` with the system resolver; every distinct address, in the order returned."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class _Verdict:
    """A URL's egress verdict and what it was computed from: valid while both are unchanged."""

    policy: EgressPolicy
    # The resolver entry of the URL's host (None: the verdict needs no DNS, e.g. an IP literal).
    entry: _Entry | None
    host: str
    verdict: EgressVerdict


@dataclass
class _Entry:
    addresses: tuple[str, ...]
    expires: float
    # Set once resolve_and_check approved these addresses for a URL (needed for the private-endpoint
    # rule, which depends on the URL that aiohttp does not pass to the resolver).
    url_checked: bool = False


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class GuardedResolver(AbstractResolver):
    """Resolves once (small TTL cache), checks every address against the current EgressPolicy (a callable
    returning it, so settings changes apply at once), and hands aiohttp exactly the checked addresses, so
    the connection goes to the address that was checked.

    ``lookup`` turns a host name into addresses (the system resolver by default; tests pass a fixed
    answer); ``clock`` drives the TTL.
    """

    def __init__(
        self,
        policy: Callable[[], EgressPolicy],
        *,
        lookup: Lookup = lookup_system,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self._lookup = lookup
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, _Entry] = {}
        self._pending: dict[str, asyncio.Future[_Entry]] = {}
        self._verdicts: dict[str, _Verdict] = {}
        # Told of each refused send (the metrics count them); set by bootstrap.
        self.on_refusal: Callable[[EgressVerdict], object] | None = None

    async def check(self, url: str) -> EgressVerdict:
        """:func:`resolve_and_check` for ``url`` under the policy in force, memoised: a verdict is reused
        only while the policy object is the same (settings unchanged) and the host's cached addresses are
        the very ones it was computed from (not expired, not re-resolved). ``on_refusal`` hears of every
        refused one."""
        verdict = await self._check(url)
        if not verdict.allowed and self.on_refusal is not None:
            self.on_refusal(verdict)
        return verdict

    async def _check(self, url: str) -> EgressVerdict:
        policy = self.policy()
        known = self._verdicts.get(url)
        if known is not None and known.policy is policy:
            entry = known.entry
            if entry is None or (entry.expires > self._clock() and self._cache.get(known.host) is entry):
                return known.verdict
        verdict = await resolve_and_check(url, policy, self)
        destination = verdict.destination
        host = destination.host if destination is not None else ""
        entry = None
        if destination is not None and not _is_ip_literal(host):
            entry = self._cache.get(host)
            if entry is None:
                # Resolved but not cached (e.g. evicted meanwhile): nothing to tie the verdict to.
                return verdict
        if len(self._verdicts) >= MAX_CACHED_VERDICTS:
            self._verdicts.clear()
        self._verdicts[url] = _Verdict(policy, entry, host, verdict)
        return verdict

    async def addresses(self, host: str) -> tuple[str, ...]:
        """The addresses of ``host`` (an IP literal is its own answer); OSError when it does not resolve."""
        if _is_ip_literal(host):
            return (host,)
        return (await self._entry(host)).addresses

    async def _entry(self, host: str) -> _Entry:
        entry = self._cache.get(host)
        if entry is not None and entry.expires > self._clock():
            return entry
        pending = self._pending.get(host)
        if pending is None:
            # One lookup per host, shared by concurrent callers and not cancelled with any one of them.
            pending = asyncio.ensure_future(self._lookup_and_store(host))
            self._pending[host] = pending
            pending.add_done_callback(lambda done: self._forget_pending(host, done))
        return await asyncio.shield(pending)

    async def _lookup_and_store(self, host: str) -> _Entry:
        entry = _Entry(tuple(await self._lookup(host)), self._clock() + self._ttl)
        self._store(host, entry)
        return entry

    def _forget_pending(self, host: str, done: asyncio.Future[_Entry]) -> None:
        if self._pending.get(host) is done:
            del self._pending[host]
        if not done.cancelled():
            # Mark the error retrieved: every waiter may have been cancelled meanwhile.
            done.exception()

    def _store(self, host: str, entry: _Entry) -> None:
        if len(self._cache) >= MAX_CACHED_HOSTS:
            now = self._clock()
            for stale in [name for name, old in self._cache.items() if old.expires <= now]:
                del self._cache[stale]
            while len(self._cache) >= MAX_CACHED_HOSTS:
                del self._cache[next(iter(self._cache))]
        self._cache[host] = entry

    def mark_checked(self, host: str, addresses: tuple[str, ...]) -> None:
        """Record that ``addresses`` of ``host`` passed the full, URL-aware egress check."""
        entry = self._cache.get(host)
        if entry is not None and entry.addresses == addresses:
            entry.url_checked = True

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """aiohttp's hook at connect time: the cached, policy-checked addresses of ``host``."""
        entry = await self._entry(host)
        policy = self.policy()
        reason = address_refusal(host, entry.addresses, policy)
        if (
            reason is None
            and policy.private_endpoint_patterns
            and not entry.url_checked
            and any(is_private_address(ip) for ip in entry.addresses)
        ):
            # The answer changed since the URL was checked; without the URL, refuse to be safe.
            reason = NOT_TRUSTED_PRIVATE
        if reason is not None:
            raise InvalidRequestError(reason)
        results: list[ResolveResult] = []
        for ip in entry.addresses:
            ip_family = socket.AF_INET6 if ":" in ip else socket.AF_INET
            if family in (socket.AF_INET, socket.AF_INET6) and family != ip_family:
                continue
            results.append(
                ResolveResult(
                    hostname=host,
                    host=ip,
                    port=port,
                    family=ip_family,
                    proto=0,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        if not results:
            raise OSError(f"{host} has no address of the requested family")
        return results

    async def close(self) -> None:
        """Forget every cached answer."""
        self._cache.clear()
        self._verdicts.clear()


async def resolve_and_check(url: str, policy: EgressPolicy, resolver: GuardedResolver) -> EgressVerdict:
    """Run every egress check for ``url`` (trusted regex, URI, resolved addresses) and return the verdict.

    Needs no DNS for IP-literal hosts and at most one lookup per host per TTL otherwise. Raises
    RemoteError (500, ``Error communicating with remote model: …``) only when the host does not resolve;
    a policy "no" comes back as a verdict for :func:`mlgate.domain.egress.enforce`.
    """
    verdict = preflight(url, policy)
    if verdict.destination is None:
        return verdict
    host = verdict.destination.host
    try:
        addresses = await resolver.addresses(host)
    except OSError as error:
        raise RemoteError(
            f"Error communicating with remote model: {host}: {error.strerror or error}", status=500
        ) from None
    verdict = check_addresses(
        url, verdict.destination, addresses, policy, trusted_pattern=verdict.trusted_pattern
    )
    if verdict.allowed:
        resolver.mark_checked(host, addresses)
    return verdict
