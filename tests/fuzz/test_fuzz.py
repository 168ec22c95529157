"""The bounded fuzz layer: requests built from mlgate's own OpenAPI document, sent to the real app.

Fails on any 5xx, any error answer that is not OpenSearch's, any logged traceback and any request that
does not answer (runner.py). Four passes on one secure node: admin, a user with only ``ml_read_access``,
no credentials, garbage credentials. The requests are the same on every run (a fixed Hypothesis seed),
so the layer is never flaky; ``make fuzz`` runs a long budget (FUZZ_REQUESTS, FUZZ_STORE, FUZZ_SEED).
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from hypothesis import strategies as st

from mlgate.api.openapi import openapi_document
from mlgate.api.routes import ROUTES
from mlgate.bootstrap import Node, build_node
from mlgate.config import Config
from mlgate.mockprovider import MockProvider
from tests.api.fixtures import MESSAGES, chat_connector
from tests.conftest import ADMIN_PASSWORD, LOOPBACK_TRUSTED, TEST_MASTER_KEY, ManualClock
from tests.fuzz.runner import FuzzReport, batches, generate, send_all
from tests.fuzz.strategies import requests
from tests.storage.conftest import pg_cluster_url, pg_url

__all__ = ["pg_cluster_url", "pg_url"]  # the PostgreSQL fixtures, shared with the storage suite

# The make-test budget: a few thousand requests in about half a minute on a busy 2-core machine.
TOTAL = int(os.environ.get("FUZZ_REQUESTS", "3000"))
# A fixed seed: the suite sends the same requests on every run, so it is never flaky.
SEED = int(os.environ.get("FUZZ_SEED") or "1")
READER = ("fuzz_reader", "Copper-Willow-Harbor-5521")
# Share of the budget per pass: the admin reaches everything, the others mostly meet 401/403.
PASSES = (("admin", 0.6), ("reader", 0.2), ("anonymous", 0.1), ("garbage", 0.1))


def basic(user: str, password: str) -> bytes:
    return b"Basic " + base64.b64encode(f"{user}:{password}".encode())


GARBAGE_AUTH = st.one_of(
    st.sampled_from(
        [
            b"Basic",
            b"Basic ",
            b"Basic !!!!",
            b"Basic =",
            b"Bearer abc",
            b"Digest username=admin",
            basic("admin", "wrong"),
            basic("", ""),
            basic("nobody", ADMIN_PASSWORD),
            b"Basic " + base64.b64encode(b"no-colon"),
            b"Basic " + base64.b64encode(b"\xff\xfe:\x00"),
        ]
    ),
    # Any bytes but a line break, which no HTTP header can carry.
    st.binary(max_size=40).map(lambda token: b"Basic " + token.replace(b"\r", b"").replace(b"\n", b"")),
)


@pytest.fixture
def fuzz_store_url(request: pytest.FixtureRequest) -> str | None:
    """FUZZ_STORE=postgresql runs on a fresh PostgreSQL schema; SQLite otherwise."""
    if os.environ.get("FUZZ_STORE", "sqlite") == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return None


@pytest.fixture
async def fuzz_node(fuzz_store_url: str | None, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Node]:
    config = Config(
        data_dir=tmp_path / "data",
        master_key=TEST_MASTER_KEY,
        initial_admin_password=ADMIN_PASSWORD,
        store_url=fuzz_store_url,
    )
    node = await build_node(config, security_clock=clock, bcrypt_rounds=4)
    await node.start()
    yield node
    await node.stop()


async def seed_resources(admin: httpx.AsyncClient, provider: MockProvider) -> dict[str, list[str]]:
    """Objects the requests can reach by id, and the low-privilege user; returns the ids by parameter."""

    async def ok(method: str, path: str, body: object = None) -> dict:
        response = await admin.request(method, path, json=body)
        assert response.status_code in (200, 201), (path, response.text)
        return response.json()

    await ok(
        "PUT",
        "/_cluster/settings",
        {
            "persistent": {
                "plugins.ml_commons.trusted_connector_endpoints_regex": [LOOPBACK_TRUSTED],
                "plugins.ml_commons.connector.private_ip_enabled": True,
            }
        },
    )
    await reset_reader(admin)
    group = (await ok("POST", "/_plugins/_ml/model_groups/_register", {"name": "fuzz group"}))[
        "model_group_id"
    ]
    connector = (await ok("POST", "/_plugins/_ml/connectors/_create", chat_connector(provider.url)))[
        "connector_id"
    ]
    registered = await ok(
        "POST",
        "/_plugins/_ml/models/_register?deploy=true",
        {"name": "fuzz model", "function_name": "remote", "connector_id": connector, "model_group_id": group},
    )
    model = registered["model_id"]
    await ok("POST", f"/_plugins/_ml/models/{model}/_predict", {"parameters": {"messages": MESSAGES}})
    node_id = next(iter((await ok("GET", "/_nodes"))["nodes"]))
    return {
        "model_id": [model],
        "connector_id": [connector],
        "model_group_id": [group],
        "task_id": [registered["task_id"]],
        "node_id": [node_id],
        "algorithm": ["remote", "text_embedding"],
        "stat": ["ml_model_count", "ml_request_count"],
        # Never `admin` or `all_access`: the admin pass must not lock itself out (issue 11, item 5).
        "name": [READER[0], "fuzz_role", "ml_read_access"],
        "role": ["fuzz_role", "ml_read_access"],
    }


async def reset_reader(admin: httpx.AsyncClient) -> None:
    """(Re)create the low-privilege user: an earlier pass may have changed or deleted it."""
    response = await admin.put(
        f"/_plugins/_security/api/internalusers/{READER[0]}",
        json={
            "password": READER[1],
            "backend_roles": ["fuzz_team"],
            "opendistro_security_roles": ["ml_read_access"],
        },
    )
    assert response.status_code in (200, 201), response.text


async def test_fuzz_the_api(fuzz_node: Node, provider: MockProvider, clock: ManualClock) -> None:
    report = FuzzReport()
    transport = httpx.ASGITransport(app=fuzz_node.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mlgate", timeout=None) as http:
        admin_auth = [(b"authorization", basic("admin", ADMIN_PASSWORD))]
        async with httpx.AsyncClient(
            transport=transport, base_url="http://mlgate", auth=("admin", ADMIN_PASSWORD)
        ) as admin:
            ids = await seed_resources(admin, provider)
            strategy = requests(openapi_document(ROUTES, "fuzz"), ids)
            for number, (name, share) in enumerate(PASSES):
                await reset_reader(admin)
                auth = {"admin": admin_auth, "reader": [(b"authorization", basic(*READER))], "anonymous": []}
                pass_seed = SEED * len(PASSES) + number
                for batch in batches(strategy, max(1, int(TOTAL * share)), pass_seed):
                    if name != "garbage":
                        await send_all(http, batch, auth[name], report)
                        continue
                    tokens = generate(GARBAGE_AUTH, len(batch), pass_seed)
                    for request, token in zip(batch, tokens, strict=False):
                        await send_all(http, [request], [(b"authorization", token)], report)
                clock.advance(3600)  # past any login throttle the pass caused, so the next pass logs in
    print(f"\nfuzz ({os.environ.get('FUZZ_STORE', 'sqlite')}, seed {SEED}): {report.summary()}")
    assert report.requests >= TOTAL * 0.9
    assert report.problems == [], f"{report.summary()}\n" + "\n".join(report.problems)
