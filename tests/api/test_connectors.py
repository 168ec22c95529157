"""Connectors: create, get, search, update, delete — good and bad input."""

from __future__ import annotations

import httpx
import pytest

from mlgate.mockprovider import MockProvider
from tests.api.fixtures import chat_connector
from tests.conftest import assert_error

C = "/_plugins/_ml/connectors"


async def create(client: httpx.AsyncClient, body: dict) -> str:
    response = await client.post(f"{C}/_create", json=body)
    assert response.status_code == 200, response.text
    return response.json()["connector_id"]


async def test_create_get_never_returns_credential(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    connector_id = await create(loopback, chat_connector(provider.url))
    body = (await loopback.get(f"{C}/{connector_id}")).json()
    assert "credential" not in body
    assert body["parameters"] == {"model": "gpt-4o-mini", "temperature": "0.5"}
    assert body["actions"][0]["action_type"] == "PREDICT"
    assert body["created_time"] == body["last_updated_time"]
    assert "sk-test-secret-value-123" not in str(body)


async def test_credential_encrypted_at_rest(
    loopback: httpx.AsyncClient, provider: MockProvider, node
) -> None:
    connector_id = await create(loopback, chat_connector(provider.url))
    stored = await node.store.load(".plugins-ml-connector", connector_id)
    assert stored is not None
    assert stored.source["credential"]["openAI_key"] != "sk-test-secret-value-123"
    database = (node.store._path).read_bytes() + (
        node.store._path.with_name("mlgate.sqlite3-wal")
    ).read_bytes()
    assert b"sk-test-secret-value-123" not in database


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"name": None}, "Connector name is null"),
        ({"version": None}, "Connector version is null"),
        ({"protocol": None}, "Connector protocol is null"),
        ({"credential": {}}, "Connector credential is null or empty list"),
        (
            {"protocol": "grpc"},
            "Unsupported connector protocol. Please use one of [aws_sigv4, http, mcp_sse, mcp_streamable_http]",
        ),
        ({"actions": [{"method": "POST", "url": "http://x"}]}, "action type can't be null"),
        ({"actions": [{"action_type": "predict", "url": "http://x"}]}, "method can't be null"),
        ({"actions": [{"action_type": "predict", "method": "POST"}]}, "url can't be null"),
        (
            {"actions": [{"action_type": "fly", "method": "POST", "url": "http://x"}]},
            "No enum constant org.opensearch.ml.common.connector.ConnectorAction.ActionType.FLY",
        ),
        ({"actions": None}, "No actions configured for this connector"),
        (
            {"actions": [{"action_type": "predict", "method": "POST", "url": "https://evil.example.com/x"}]},
            "Connector URL is not matching the trusted connector endpoint regex",
        ),
        ({"protocol": "aws_sigv4"}, "Missing credential"),
        ({"access_mode": "public"}, None),
    ],
)
async def test_create_refusals(
    loopback: httpx.AsyncClient, provider: MockProvider, change: dict, reason: str | None
) -> None:
    body = chat_connector(provider.url)
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    response = await loopback.post(f"{C}/_create", json=body)
    error = assert_error(response, 400, "illegal_argument_exception", reason)
    assert "sk-test-secret-value-123" not in str(error)


async def test_access_params_refused_without_access_control(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    response = await loopback.post(f"{C}/_create", json=chat_connector(provider.url, backend_roles=["x"]))
    assert_error(
        response,
        400,
        "illegal_argument_exception",
        "You cannot specify connector access control parameters because the Security plugin or connector access "
        "control is disabled on your cluster.",
    )


async def test_unsafe_name(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    response = await loopback.post(
        f"{C}/_create", json=chat_connector(provider.url, name="<YOUR CONNECTOR NAME>")
    )
    assert_error(
        response,
        400,
        "action_request_validation_exception",
        "Validation Failed: 1: Model connector name can only contain letters, numbers, spaces, and basic "
        "punctuation (.,!?():@-_'/\");",
    )


async def test_empty_body(client: httpx.AsyncClient) -> None:
    assert_error(
        await client.post(f"{C}/_create"), 400, "i_o_exception", "Create Connector request has empty body"
    )


async def test_default_trusted_list_refuses_loopback(
    client: httpx.AsyncClient, provider: MockProvider
) -> None:
    response = await client.post(f"{C}/_create", json=chat_connector(provider.url))
    assert_error(
        response,
        400,
        "illegal_argument_exception",
        "Connector URL is not matching the trusted connector endpoint regex",
    )


async def test_dry_run(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{C}/_create", json={"dry_run": True})
    assert response.json() == {"connector_id": "dryRunConnector"}


async def test_client_config_filled_with_defaults(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    connector_id = await create(loopback, chat_connector(provider.url, client_config={"max_connection": 5}))
    config = (await loopback.get(f"{C}/{connector_id}")).json()["client_config"]
    assert config["max_connection"] == 5
    assert config["read_timeout"] == 30 and config["retry_backoff_policy"] == "constant"
    bad = await loopback.post(
        f"{C}/_create", json=chat_connector(provider.url, client_config={"retry_backoff_policy": "linear"})
    )
    assert_error(bad, 400, "illegal_argument_exception", "Unsupported retry backoff policy")


async def test_get_unknown(client: httpx.AsyncClient) -> None:
    assert_error(
        await client.get(f"{C}/nope"),
        404,
        "status_exception",
        "Failed to find connector with the provided connector id: nope",
    )


async def test_search_hides_and_cannot_match_credential(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    await create(loopback, chat_connector(provider.url))
    hits = (await loopback.post(f"{C}/_search", json={"query": {"match_all": {}}})).json()["hits"]
    assert hits["total"]["value"] == 1 and "credential" not in hits["hits"][0]["_source"]
    included = await loopback.post(f"{C}/_search", json={"_source": {"includes": ["credential*"]}})
    assert all("credential" not in h["_source"] for h in included.json()["hits"]["hits"])
    probe = await loopback.post(
        f"{C}/_search", json={"query": {"exists": {"field": "credential.openAI_key"}}}
    )
    assert probe.json()["hits"]["total"]["value"] == 0
    paged = await loopback.get(f"{C}/_search", params={"size": "0"})
    assert paged.json()["hits"]["hits"] == [] and paged.json()["hits"]["total"]["value"] == 1


async def test_update_merges_parameters_and_rotates_credential(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    connector_id = await create(loopback, chat_connector(provider.url))
    response = await loopback.put(
        f"{C}/{connector_id}", json={"parameters": {"temperature": 0.9}, "description": "new"}
    )
    assert response.status_code == 200 and response.json()["result"] == "updated"
    body = (await loopback.get(f"{C}/{connector_id}")).json()
    assert body["parameters"] == {"model": "gpt-4o-mini", "temperature": "0.9"}
    assert body["description"] == "new"
    assert_error(
        await loopback.put(f"{C}/{connector_id}"),
        400,
        "parse_exception",
        "Failed to update connector: Request body is empty",
    )
    assert_error(await loopback.put(f"{C}/nope", json={"description": "x"}), 404, "status_exception")
    untrusted = await loopback.put(
        f"{C}/{connector_id}",
        json={
            "actions": [{"action_type": "predict", "method": "POST", "url": "https://elsewhere.example/v1"}]
        },
    )
    assert_error(
        untrusted,
        400,
        "illegal_argument_exception",
        "Connector URL is not matching the trusted connector endpoint regex",
    )


async def test_delete(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    connector_id = await create(loopback, chat_connector(provider.url))
    deleted = await loopback.delete(f"{C}/{connector_id}")
    assert deleted.status_code == 200 and deleted.json()["result"] == "deleted"
    again = await loopback.delete(f"{C}/{connector_id}")
    assert again.status_code == 200 and again.json()["result"] == "not_found"


async def test_delete_refused_while_a_model_uses_it(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    connector_id = await create(loopback, chat_connector(provider.url))
    model = await loopback.post(
        "/_plugins/_ml/models/_register",
        json={"name": "m", "function_name": "remote", "connector_id": connector_id},
    )
    model_id = model.json()["model_id"]
    assert_error(
        await loopback.delete(f"{C}/{connector_id}"),
        409,
        "status_exception",
        f"1 models are still using this connector, please delete or update the models first: [{model_id}]",
    )
