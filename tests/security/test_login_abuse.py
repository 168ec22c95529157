"""Guessing passwords through the REST API: parallel guesses stay within the budget, an attacker cannot
lock others out, X-Forwarded-For counts only from trusted proxies, malformed Basic headers are 401s."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mlgate.bootstrap import Node, build_node
from mlgate.config import Config, config_from
from mlgate.domain.client_address import client_address, parse_trusted_proxies
from tests.conftest import ADMIN_PASSWORD, TEST_MASTER_KEY, ManualClock, assert_error
from tests.security.test_auth import SEARCH, basic

STRONG = "Juniper-Cobalt-Meadow-4471"


def client_at(node: Node, address: str, **kwargs: object) -> httpx.AsyncClient:
    """A client of the node whose requests come from ``address``."""
    transport = httpx.ASGITransport(app=node.app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://mlgate", **kwargs)  # type: ignore[arg-type]


async def statuses(http: httpx.AsyncClient, headers: list[dict[str, str]]) -> list[int]:
    """Send one request per header set, all at once; their statuses in the same order."""
    responses = await asyncio.gather(*(http.post(SEARCH, headers=h) for h in headers))
    return [r.status_code for r in responses]


async def test_parallel_guesses_get_no_more_than_the_budget(secure_node: Node, clock: ManualClock) -> None:
    guesses = [basic("admin", f"guess-{i}") for i in range(59)] + [basic("admin", ADMIN_PASSWORD)]
    async with client_at(secure_node, "203.0.113.7") as attacker:
        got = await statuses(attacker, guesses)
        # Ten guesses were checked (and failed); every other attempt, the right password too, was refused.
        assert got.count(401) == 10 and got.count(429) == 50 and got[-1] == 429
        blocked = await attacker.post(SEARCH, headers=basic("admin", ADMIN_PASSWORD))
        assert_error(blocked, 429, "security_exception", "Too many failed login attempts; try again later")
        assert 0 < int(blocked.headers["retry-after"]) <= 60
        clock.advance(60)
        assert (await attacker.post(SEARCH, headers=basic("admin", ADMIN_PASSWORD))).status_code == 200


async def test_parallel_guesses_over_many_names_get_no_more_than_the_address_budget(
    secure_node: Node,
) -> None:
    async with client_at(secure_node, "203.0.113.8") as attacker:
        got = await statuses(attacker, [basic(f"user{i}", "guess") for i in range(150)])
        assert got.count(401) == 100 and got.count(429) == 50


async def test_many_parallel_logins_with_the_right_password_all_pass(
    admin: httpx.AsyncClient, secure_node: Node
) -> None:
    # A cold login cache: all of them wait for one password check, none is throttled.
    assert (
        await admin.put("/_plugins/_security/api/internalusers/ines", json={"password": STRONG})
    ).status_code == 201
    async with client_at(secure_node, "198.51.100.4") as ines:
        got = await statuses(ines, [basic("ines", STRONG)] * 40)
        assert set(got) == {403}  # authenticated (no ML role): neither 401 nor 429


async def test_an_attacker_cannot_lock_others_out(secure_node: Node, admin: httpx.AsyncClient) -> None:
    async with client_at(secure_node, "203.0.113.9") as attacker:
        await statuses(attacker, [basic("admin", f"guess-{i}") for i in range(30)])
        await statuses(attacker, [basic(f"user{i}", "guess") for i in range(120)])
        assert (await attacker.post(SEARCH, headers=basic("admin", ADMIN_PASSWORD))).status_code == 429
    # admin from its own address, and anybody from any other address, are not affected.
    assert (await admin.post(SEARCH)).status_code == 200
    async with client_at(secure_node, "198.51.100.5", auth=("admin", ADMIN_PASSWORD)) as elsewhere:
        assert (await elsewhere.post(SEARCH)).status_code == 200


@pytest.fixture
async def proxied_node(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Node]:
    """A secure node behind a load balancer in 10.0.0.0/8 (``--trusted-proxies 10.0.0.0/8``)."""
    config = Config(
        data_dir=tmp_path / "proxied",
        master_key=TEST_MASTER_KEY,
        security=True,
        initial_admin_password=ADMIN_PASSWORD,
        trusted_proxies=parse_trusted_proxies("10.0.0.0/8"),
    )
    node = await build_node(config, security_clock=clock, bcrypt_rounds=4)
    await node.start()
    yield node
    await node.stop()


async def test_behind_a_trusted_proxy_the_client_is_the_forwarded_address(proxied_node: Node) -> None:
    async with client_at(proxied_node, "10.0.0.2") as balancer:
        # The attacker's own X-Forwarded-For is kept left of what the balancer appends: it changes nothing.
        attacker = {"X-Forwarded-For": "198.51.100.77, 203.0.113.50"}
        for i in range(10):
            response = await balancer.post(SEARCH, headers={**basic("admin", f"guess-{i}"), **attacker})
            assert response.status_code == 401
        spoofed = {"X-Forwarded-For": "198.51.100.1, 203.0.113.50"}
        assert (
            await balancer.post(SEARCH, headers={**basic("admin", ADMIN_PASSWORD), **spoofed})
        ).status_code == 429
        # admin through the same balancer from another address is served, and sees its own address.
        me = {**basic("admin", ADMIN_PASSWORD), "X-Forwarded-For": "198.51.100.1"}
        info = await balancer.get("/_plugins/_security/authinfo", headers=me)
        assert info.status_code == 200 and info.json()["remote_address"] == "198.51.100.1"
    # From a peer that is not a trusted proxy the header is ignored.
    async with client_at(proxied_node, "192.0.2.10") as direct:
        me = {**basic("admin", ADMIN_PASSWORD), "X-Forwarded-For": "203.0.113.50"}
        info = await direct.get("/_plugins/_security/authinfo", headers=me)
        assert info.json()["remote_address"] == "192.0.2.10"


def test_client_address_walks_x_forwarded_for_from_the_right() -> None:
    trusted = parse_trusted_proxies("10.0.0.0/8, 2001:db8::/32")
    assert client_address("10.0.0.2", ["1.1.1.1, 2.2.2.2"], trusted) == "2.2.2.2"
    assert client_address("10.0.0.2", ["1.1.1.1", "2.2.2.2, 10.9.9.9"], trusted) == "2.2.2.2"
    assert client_address("10.0.0.2", ["2.2.2.2:5123"], trusted) == "2.2.2.2"
    assert client_address("10.0.0.2", ["[2001:db9::1]:443"], trusted) == "2001:db9::1"
    assert client_address("::ffff:10.0.0.2", ["3.3.3.3"], trusted) == "3.3.3.3"
    assert client_address("10.0.0.2", ["10.1.1.1, 10.2.2.2"], trusted) == "10.1.1.1"  # all trusted
    assert client_address("10.0.0.2", ["1.1.1.1, unknown"], trusted) == "10.0.0.2"  # not an address
    assert client_address("192.0.2.1", ["1.1.1.1"], trusted) == "192.0.2.1"  # untrusted peer
    assert client_address("10.0.0.2", [], trusted) == "10.0.0.2"
    assert client_address("10.0.0.2", ["1.1.1.1"], ()) == "10.0.0.2"  # no trusted proxies


def test_trusted_proxies_come_from_the_flag_or_the_environment() -> None:
    assert config_from({"MLGATE_TRUSTED_PROXIES": "10.0.0.0/8,192.0.2.7"}).trusted_proxies == (
        parse_trusted_proxies("10.0.0.0/8")[0],
        parse_trusted_proxies("192.0.2.7/32")[0],
    )
    assert config_from({}, trusted_proxies="::1").trusted_proxies == parse_trusted_proxies("::1")
    assert config_from({}).trusted_proxies == ()
    with pytest.raises(ValueError, match=r"'10\.0\.0\.0/33' is not an address or CIDR"):
        config_from({"MLGATE_TRUSTED_PROXIES": "10.0.0.0/33"})


MALFORMED: list[bytes] = [
    "Basic é".encode(),  # non-ASCII, as UTF-8 bytes
    b"Basic \xe9",  # non-ASCII, one latin-1 byte
    b"Basic !!!not-base64",
    b"Basic abc",  # bad padding
    b"Basic " + base64.b64encode(b"no-colon"),
    b"Basic " + base64.b64encode(b":password-without-user"),
    b"Basic " + base64.b64encode(b"\xff\xfe\xfd:password"),  # not UTF-8 once decoded
    b"Basic " + base64.b64encode(b"x" * 300 + b":password"),  # a name longer than any user can have
    b"Basic " + b"A" * 200_000,  # huge
    b"Basic",
    b"basic    ",
]


async def test_malformed_basic_headers_are_401_without_a_traceback(
    anonymous: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for header in MALFORMED:
        response = await anonymous.post(SEARCH, headers={"Authorization": header})
        assert_error(response, 401, "security_exception", "Unauthorized")
        assert response.headers["www-authenticate"] == 'Basic realm="OpenSearch Security"'
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info], caplog.text
    # None of them counted as a guess: admin is not throttled from this address.
    assert (await anonymous.post(SEARCH, headers=basic("admin", ADMIN_PASSWORD))).status_code == 200
