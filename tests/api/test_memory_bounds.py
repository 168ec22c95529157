"""Memory is bounded: request bodies and provider replies share one in-flight byte budget (429 past it),
a request body has a maximum (413), a provider reply has a maximum."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from mlgate.bootstrap import Node, build_node
from mlgate.config import Config, config_from
from mlgate.mockprovider import MockProvider
from tests.conftest import ADMIN_PASSWORD, LOOPBACK_TRUSTED, TEST_MASTER_KEY, assert_error
from tests.engine.support import ML, deploy_model, predict, unique

BUDGET = 1024 * 1024
BIG = 600 * 1024  # two of these do not fit in BUDGET
BREAKER = "circuit_breaking_exception"


async def started_node(data_dir: Path, **config: Any) -> Node:
    node = await build_node(Config(data_dir=data_dir, master_key=TEST_MASTER_KEY, **config))
    await node.start()
    return node


@pytest.fixture
async def bounded(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A node (security off) with a 1 MiB in-flight budget, 2 MiB request bodies and 64 KiB replies."""
    node = await started_node(
        tmp_path / "data",
        security=False,
        max_in_flight_bytes=BUDGET,
        max_body_bytes=2 * BUDGET,
        max_reply_bytes=64 * 1024,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=node.app), base_url="http://mlgate"
    ) as http:
        settings = {
            "plugins.ml_commons.trusted_connector_endpoints_regex": [LOOPBACK_TRUSTED],
            "plugins.ml_commons.connector.private_ip_enabled": True,
        }
        assert (await http.put("/_cluster/settings", json={"persistent": settings})).status_code == 200
        yield http
    await node.stop()


def embedding_connector(url: str) -> dict[str, Any]:
    return {
        "name": "embeddings",
        "version": "1",
        "protocol": "http",
        "parameters": {},
        "credential": {"key": "sk-bounds-0123456789"},
        "actions": [
            {
                "action_type": "predict",
                "method": "POST",
                "url": url,
                "headers": {"Authorization": "Bearer ${credential.key}"},
                "request_body": '{ "input": "${parameters.input}" }',
            }
        ],
    }


def big_predict_body() -> bytes:
    return orjson.dumps({"parameters": {"input": "x" * BIG}})


class HeldBody:
    """A request body sent in two parts, the last byte waiting for ``release``. ``first_read`` is set once
    the server has asked for the first part (a declared length is charged before that)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.first_read = asyncio.Event()
        self.second_read = asyncio.Event()
        self.release = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.first_read.set()
        yield self.body[:-1]
        self.second_read.set()
        await self.release.wait()
        yield self.body[-1:]


def assert_breaker(response: httpx.Response, label: str) -> None:
    error = assert_error(response, 429, BREAKER)["error"]
    assert error["reason"].startswith(f"[in_flight_requests] Data too large, data for [{label}] would be [")
    assert error["reason"].endswith(f"which is larger than the limit of [{BUDGET}/1mb]")
    assert error["bytes_limit"] == BUDGET and error["bytes_wanted"] > BUDGET
    assert error["durability"] == "TRANSIENT"


@pytest.mark.parametrize("declared", [True, False])
async def test_concurrent_big_bodies_get_429_while_the_budget_is_held(
    bounded: httpx.AsyncClient, provider: MockProvider, declared: bool
) -> None:
    model_id = await deploy_model(bounded, embedding_connector(f"{provider.url}/v1/embeddings"))
    url = f"{ML}/models/{model_id}/_predict"
    body = big_predict_body()
    held = HeldBody(body)
    headers = {"content-type": "application/json"}
    if declared:
        headers["content-length"] = str(len(body))
    first = asyncio.ensure_future(bounded.post(url, content=held, headers=headers))
    # A declared length is charged before the first read; an undeclared one as each part arrives.
    await asyncio.wait_for((held.first_read if declared else held.second_read).wait(), 30)
    second = await bounded.post(url, content=body, headers={"content-type": "application/json"})
    third = await bounded.post(url, content=body, headers={"content-type": "application/json"})
    assert_breaker(second, "<http_request>")
    assert_breaker(third, "<http_request>")
    # Small requests still fit beside the held one.
    assert (await bounded.get("/_cluster/health")).status_code == 200
    held.release.set()
    assert (await asyncio.wait_for(first, 30)).status_code == 200
    # Released when the first answered: the same big request now goes through.
    assert (
        await bounded.post(url, content=body, headers={"content-type": "application/json"})
    ).status_code == 200


async def test_a_body_over_the_maximum_is_413(bounded: httpx.AsyncClient) -> None:
    body = b'{"query": {"match_all": {}}, "pad": "' + b"x" * (2 * BUDGET) + b'"}'
    reason = f"Request body is larger than the limit of [{2 * BUDGET}] bytes"
    declared = await bounded.post(f"{ML}/connectors/_search", content=body)
    assert_error(declared, 413, "content_too_long_exception", reason)

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    streamed = await bounded.post(f"{ML}/connectors/_search", content=chunked())
    # Past the 1 MiB budget before the 2 MiB maximum: the budget answers first.
    assert_breaker(streamed, "<http_request>")


async def test_a_reply_over_the_node_maximum_is_refused(
    bounded: httpx.AsyncClient, provider: MockProvider
) -> None:
    url = f"{provider.url}/v1/embeddings?mock_body=huge&mock_huge_bytes={128 * 1024}"
    model_id = await deploy_model(bounded, embedding_connector(url))
    response = await predict(bounded, model_id, {"parameters": {"input": "hi"}})
    reason = f"JSON string size exceeds maximum allowed size ({64 * 1024} bytes)"
    assert_error(response, 400, "illegal_argument_exception", reason)


async def test_provider_replies_are_charged_while_held(tmp_path: Path, provider: MockProvider) -> None:
    # Replies of 600 KiB: one fits in the budget, two do not.
    node = await started_node(tmp_path / "data", security=False, max_in_flight_bytes=BUDGET)
    transport = httpx.ASGITransport(app=node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mlgate") as http:
        settings = {
            "plugins.ml_commons.trusted_connector_endpoints_regex": [LOOPBACK_TRUSTED],
            "plugins.ml_commons.connector.private_ip_enabled": True,
        }
        assert (await http.put("/_cluster/settings", json={"persistent": settings})).status_code == 200
        huge = f"mock_body=huge&mock_huge_bytes={BIG}"
        # The held reply: headers (with its length, charged at once) now, the body over a minute.
        slow = await deploy_model(
            http, embedding_connector(f"{provider.url}/v1/embeddings?{huge}&mock_slow_body_ms=60000")
        )
        fast = await deploy_model(http, embedding_connector(f"{provider.url}/v1/embeddings?{huge}"))
        held = asyncio.ensure_future(predict(http, slow, {"parameters": {"input": "hi"}}))
        # Whichever reply is charged second is refused: a fast one once the held reply's length is
        # charged (at its headers), or the held one if its headers come while a fast one is charged.
        refused = None
        for _ in range(300):
            response = await predict(http, fast, {"parameters": {"input": "hi"}})
            if response.status_code == 429:
                refused = response
                break
            assert response.status_code == 200, response.text
            if held.done():
                refused = held.result()
                break
        assert refused is not None
        assert_breaker(refused, "<remote_model_response>")
        held.cancel()
    await node.stop()


async def test_unauthenticated_bodies_are_never_read(tmp_path: Path) -> None:
    node = await started_node(
        tmp_path / "data", security=True, initial_admin_password=ADMIN_PASSWORD, max_in_flight_bytes=BUDGET
    )
    never = asyncio.Event()

    async def endless() -> AsyncIterator[bytes]:
        yield b"x" * BIG
        await never.wait()
        yield b""

    transport = httpx.ASGITransport(app=node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mlgate") as http:
        for _ in range(3):  # 3 × 600 KiB would pass the budget if they were read
            response = await http.post(
                f"{ML}/connectors/_search", content=endless(), auth=("admin", unique())
            )
            assert_error(response, 401, "security_exception")
    await node.stop()


def test_sizes_from_flags_and_environment() -> None:
    defaults = config_from({})
    assert (defaults.max_body_bytes, defaults.max_in_flight_bytes, defaults.max_reply_bytes) == (
        100 << 20,
        256 << 20,
        100 << 20,
    )
    env = {"MLGATE_MAX_IN_FLIGHT_BYTES": "512kb", "MLGATE_MAX_BODY_BYTES": "1048576"}
    config = config_from(env, max_reply_bytes="2MB")
    assert (config.max_in_flight_bytes, config.max_body_bytes, config.max_reply_bytes) == (
        512 << 10,
        1 << 20,
        2 << 20,
    )
    assert config_from(env, max_in_flight_bytes="1gb").max_in_flight_bytes == 1 << 30
    for bad in ("0", "-5", "12qb", "lots", "1.5mb"):
        with pytest.raises(ValueError, match="max in-flight bytes must be a positive number of bytes"):
            config_from({"MLGATE_MAX_IN_FLIGHT_BYTES": bad})
