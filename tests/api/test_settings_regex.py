"""Regex settings (trusted endpoints, batch job status) are checked for linear-time matching when written
(issue 11 item 1); ML Commons' own refusals keep their wording."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mlgate.domain.linear_regex import NOT_LINEAR
from mlgate.mockprovider import MockProvider
from tests.batch.test_batch_predict import openai_batch_connector, start
from tests.conftest import assert_error
from tests.engine.support import ML, deploy_model, unique

P = "plugins.ml_commons."
BOUND_S = 60.0  # generous: only a hang would reach it


async def refused_cause(client: httpx.AsyncClient, key: str, value: object) -> str:
    response = await client.put("/_cluster/settings", json={"persistent": {P + key: value}})
    body = assert_error(response, 400, "illegal_argument_exception")
    assert (await client.get("/_cluster/settings")).json()["persistent"] == {}
    return str(body["error"]["caused_by"]["reason"])


@pytest.mark.parametrize(
    ("pattern", "cause"),
    [
        # ML Commons' heuristic and messages first, unchanged.
        (
            "^(a+)+$",
            "Regex pattern contains nested quantifiers or backreferences that may cause ReDoS: ^(a+)+$",
        ),
        ("^https://(unclosed", "Invalid regex pattern: ^https://(unclosed"),
        # Then what only a backtracking engine can run, named.
        (
            r"^https://(?!internal\.).*$",
            rf'Invalid regex pattern: ^https://(?!internal\.).*$; the lookahead "(?!" {NOT_LINEAR}',
        ),
        (
            r"^https://api\.openai\.com/.*+$",
            f'Invalid regex pattern: ^https://api\\.openai\\.com/.*+$; the possessive quantifier "*+" {NOT_LINEAR}',
        ),
    ],
)
async def test_trusted_endpoint_patterns(client: httpx.AsyncClient, pattern: str, cause: str) -> None:
    assert await refused_cause(client, "trusted_connector_endpoints_regex", [pattern]) == cause


async def test_the_redos_heuristic_is_linear_itself(client: httpx.AsyncClient) -> None:
    # The nested-quantifier check runs before the length check; backtracking, it is quadratic here.
    pattern = "(" * 200_000
    key = "trusted_connector_private_endpoints_regex"
    cause = await asyncio.wait_for(refused_cause(client, key, [pattern]), BOUND_S)
    assert cause == f"Regex pattern too long (max 256 chars): {pattern}"


@pytest.mark.parametrize(
    ("pattern", "cause"),
    [
        (r"(done)\1", rf'Invalid regex pattern: (done)\1; the backreference "\1" {NOT_LINEAR}'),
        ("(done", "Invalid regex pattern: (done; missing ): (done"),
    ],
)
async def test_batch_status_patterns(client: httpx.AsyncClient, pattern: str, cause: str) -> None:
    assert await refused_cause(client, "remote_job.status_regex.completed", pattern) == cause


async def test_batch_status_is_searched_case_insensitively(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    provider.reset()
    response = await loopback.put(
        "/_cluster/settings",
        json={"persistent": {P + "remote_job.status_regex.completed": "^(DONE|finished)$"}},
    )
    assert response.status_code == 200, response.text
    model_id = await deploy_model(loopback, openai_batch_connector(provider.url + "/openai/v1/batches"))
    started = await start(loopback, model_id, {"parameters": {"input_file_id": unique("file")}})
    provider.answer_next({"id": started.json()["remote_job"]["id"], "status": "done"})
    doc = (await loopback.get(f"{ML}/tasks/{started.json()['task_id']}")).json()
    assert doc["state"] == "COMPLETED"
