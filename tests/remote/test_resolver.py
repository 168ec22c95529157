"""GuardedResolver: caching, shared lookups, connect-time checks; resolve_and_check verdicts."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence

import pytest

from mlgate.domain.egress import EgressPolicy
from mlgate.domain.errors import InvalidRequestError, RemoteError
from mlgate.remote.resolver import MAX_CACHED_HOSTS, GuardedResolver, lookup_system, resolve_and_check

ANY_URL = (r"^https?://.*$",)


class Lookup:
    """Fixed answers per host; can hold every lookup until released; records calls."""

    def __init__(self, answers: dict[str, Sequence[str]]) -> None:
        self.answers = answers
        self.calls: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, host: str) -> Sequence[str]:
        self.calls.append(host)
        await self.gate.wait()
        if host not in self.answers:
            raise OSError(-2, "Name or service not known")
        return self.answers[host]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def guarded(policy: EgressPolicy, lookup: Lookup, clock: Clock | None = None) -> GuardedResolver:
    return GuardedResolver(lambda: policy, lookup=lookup, ttl=5, clock=clock or Clock())


async def test_resolve_hands_aiohttp_the_checked_addresses() -> None:
    lookup = Lookup({"dual.test": ["8.8.8.8", "2606:4700::1111"]})
    resolver = guarded(EgressPolicy(ANY_URL), lookup)
    results = await resolver.resolve("dual.test", 443, socket.AF_UNSPEC)
    assert [(r["host"], r["port"], r["family"], r["hostname"]) for r in results] == [
        ("8.8.8.8", 443, socket.AF_INET, "dual.test"),
        ("2606:4700::1111", 443, socket.AF_INET6, "dual.test"),
    ]
    assert all(r["flags"] == socket.AI_NUMERICHOST for r in results)
    only_v6 = await resolver.resolve("dual.test", 443, socket.AF_INET6)
    assert [r["host"] for r in only_v6] == ["2606:4700::1111"]
    assert lookup.calls == ["dual.test"]


async def test_resolve_refuses_private_and_restricted_answers_at_connect_time() -> None:
    lookup = Lookup({"inside.test": ["10.0.0.7"], "meta.test": ["169.254.169.254"]})
    resolver = guarded(EgressPolicy(ANY_URL), lookup)
    with pytest.raises(InvalidRequestError) as private:
        await resolver.resolve("inside.test", 80)
    assert private.value.message == "Remote inference host name has private ip address: inside.test"
    with pytest.raises(InvalidRequestError, match=r"private ip address: meta\.test"):
        await resolver.resolve("meta.test", 80)
    restricted = guarded(EgressPolicy(ANY_URL, True, restricted_ip_patterns=(r"10\..*",)), lookup)
    with pytest.raises(InvalidRequestError, match=r"restricted ip address: inside\.test"):
        await restricted.resolve("inside.test", 80)


async def test_a_private_answer_not_checked_with_its_url_is_refused_when_private_endpoints_are_set() -> None:
    policy = EgressPolicy(ANY_URL, True, private_endpoint_patterns=(r"^http://inside\.test/.*$",))
    lookup = Lookup({"inside.test": ["10.0.0.7"]})
    resolver = guarded(policy, lookup)
    with pytest.raises(InvalidRequestError, match="trusted connector private endpoint regex"):
        await resolver.resolve("inside.test", 80)
    verdict = await resolve_and_check("http://inside.test/v1", policy, resolver)
    assert verdict.allowed
    assert [r["host"] for r in await resolver.resolve("inside.test", 80)] == ["10.0.0.7"]


async def test_concurrent_lookups_of_one_host_share_one_query() -> None:
    lookup = Lookup({"busy.test": ["8.8.4.4"]})
    lookup.gate.clear()
    resolver = guarded(EgressPolicy(ANY_URL), lookup)
    waiters = [asyncio.create_task(resolver.addresses("busy.test")) for _ in range(5)]
    await asyncio.sleep(0)
    lookup.gate.set()
    assert await asyncio.gather(*waiters) == [("8.8.4.4",)] * 5
    assert lookup.calls == ["busy.test"]


async def test_a_cancelled_caller_does_not_cancel_the_shared_lookup() -> None:
    lookup = Lookup({"busy.test": ["8.8.4.4"]})
    lookup.gate.clear()
    resolver = guarded(EgressPolicy(ANY_URL), lookup)
    first = asyncio.create_task(resolver.addresses("busy.test"))
    second = asyncio.create_task(resolver.addresses("busy.test"))
    await asyncio.sleep(0)
    first.cancel()
    lookup.gate.set()
    assert await second == ("8.8.4.4",)
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_answers_expire_after_the_ttl() -> None:
    clock = Clock()
    lookup = Lookup({"moving.test": ["8.8.8.8"]})
    resolver = guarded(EgressPolicy(ANY_URL), lookup, clock)
    assert await resolver.addresses("moving.test") == ("8.8.8.8",)
    lookup.answers["moving.test"] = ["1.1.1.1"]
    clock.now = 4.9
    assert await resolver.addresses("moving.test") == ("8.8.8.8",)
    clock.now = 5.0
    assert await resolver.addresses("moving.test") == ("1.1.1.1",)
    await resolver.close()
    lookup.answers["moving.test"] = ["9.9.9.9"]
    assert await resolver.addresses("moving.test") == ("9.9.9.9",)


async def test_the_cache_is_bounded() -> None:
    answers = {f"h{i}.test": ["8.8.8.8"] for i in range(MAX_CACHED_HOSTS + 10)}
    lookup = Lookup(answers)
    resolver = guarded(EgressPolicy(ANY_URL), lookup)
    for host in answers:
        await resolver.addresses(host)
    await resolver.addresses("h0.test")
    # The oldest entries were evicted, so the first host is looked up again.
    assert lookup.calls.count("h0.test") == 2
    assert lookup.calls.count(f"h{MAX_CACHED_HOSTS + 9}.test") == 1


async def test_ip_literals_need_no_lookup() -> None:
    lookup = Lookup({})
    resolver = guarded(EgressPolicy(ANY_URL), lookup)
    verdict = await resolve_and_check("http://[2606:4700::1111]:8080/x", EgressPolicy(ANY_URL), resolver)
    assert verdict.allowed
    assert verdict.addresses == ("2606:4700::1111",)
    refused = await resolve_and_check("http://127.0.0.1/x", EgressPolicy(ANY_URL), resolver)
    assert (refused.allowed, refused.reason) == (
        False,
        "Remote inference host name has private ip address: 127.0.0.1",
    )
    assert lookup.calls == []


async def test_resolve_and_check_stops_before_dns_for_untrusted_or_bad_urls() -> None:
    lookup = Lookup({"api.example.test": ["8.8.8.8"]})
    resolver = guarded(EgressPolicy(ANY_URL), lookup)
    untrusted = await resolve_and_check(
        "https://api.example.test/", EgressPolicy((r"^http://x/$",)), resolver
    )
    assert untrusted.reason == "Connector URL is not matching the trusted connector endpoint regex"
    bad_port = await resolve_and_check("http://api.example.test:70000/", EgressPolicy(ANY_URL), resolver)
    assert bad_port.reason == "Port out of range: 70000"
    assert lookup.calls == []
    fine = await resolve_and_check("https://api.example.test/v1", EgressPolicy(ANY_URL), resolver)
    assert fine.allowed
    assert fine.trusted_pattern == ANY_URL[0]
    assert fine.addresses == ("8.8.8.8",)


async def test_resolve_and_check_reports_dns_failure_as_a_remote_error() -> None:
    resolver = guarded(EgressPolicy(ANY_URL), Lookup({}))
    with pytest.raises(RemoteError) as caught:
        await resolve_and_check("https://gone.test/", EgressPolicy(ANY_URL), resolver)
    assert caught.value.status == 500
    assert (
        caught.value.message == "Error communicating with remote model: gone.test: Name or service not known"
    )


async def test_system_lookup_of_a_numeric_host() -> None:
    assert list(await lookup_system("127.0.0.1")) == ["127.0.0.1"]


class Policies:
    """The policy in force, replaced (a new object) as a settings change does."""

    def __init__(self, policy: EgressPolicy) -> None:
        self.current = policy

    def __call__(self) -> EgressPolicy:
        return self.current


async def test_check_reuses_a_verdict_while_policy_and_addresses_are_unchanged() -> None:
    lookup = Lookup({"api.test": ["8.8.8.8"]})
    clock = Clock()
    policies = Policies(EgressPolicy(ANY_URL))
    resolver = GuardedResolver(policies, lookup=lookup, ttl=5, clock=clock)
    first = await resolver.check("https://api.test/v1")
    assert first.allowed
    assert await resolver.check("https://api.test/v1") is first
    assert lookup.calls == ["api.test"]


async def test_check_follows_a_policy_change_at_once() -> None:
    lookup = Lookup({"api.test": ["8.8.8.8"], "inside.test": ["10.0.0.7"]})
    policies = Policies(EgressPolicy(ANY_URL))
    resolver = GuardedResolver(policies, lookup=lookup, ttl=5, clock=Clock())
    assert (await resolver.check("https://api.test/v1")).allowed
    assert not (await resolver.check("https://inside.test/v1")).allowed
    policies.current = EgressPolicy((r"^https://inside\.test/.*$",), private_ip_enabled=True)
    assert not (await resolver.check("https://api.test/v1")).allowed
    assert (await resolver.check("https://inside.test/v1")).allowed
    policies.current = EgressPolicy(ANY_URL, restricted_ip_patterns=(r"8\.8\.8\.\d+",))
    assert not (await resolver.check("https://api.test/v1")).allowed


async def test_check_follows_a_new_dns_answer_after_the_ttl() -> None:
    lookup = Lookup({"api.test": ["8.8.8.8"]})
    clock = Clock()
    resolver = GuardedResolver(Policies(EgressPolicy(ANY_URL)), lookup=lookup, ttl=5, clock=clock)
    assert (await resolver.check("https://api.test/v1")).addresses == ("8.8.8.8",)
    lookup.answers["api.test"] = ["127.0.0.1"]
    clock.now = 4.9
    assert (await resolver.check("https://api.test/v1")).allowed
    clock.now = 5.1
    rebound = await resolver.check("https://api.test/v1")
    assert rebound.addresses == ("127.0.0.1",) and not rebound.allowed
    assert lookup.calls == ["api.test", "api.test"]


async def test_check_of_an_ip_literal_depends_on_the_policy_only() -> None:
    lookup = Lookup({})
    policies = Policies(EgressPolicy(ANY_URL))
    resolver = GuardedResolver(policies, lookup=lookup, ttl=5, clock=Clock())
    assert not (await resolver.check("http://127.0.0.1:9/")).allowed
    policies.current = EgressPolicy(ANY_URL, private_ip_enabled=True)
    assert (await resolver.check("http://127.0.0.1:9/")).allowed
    assert lookup.calls == []
