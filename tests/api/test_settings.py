"""PUT/GET /_cluster/settings."""

from __future__ import annotations

import httpx
import pytest

from mlgate.bootstrap import build_node
from mlgate.config import Config
from tests.conftest import TEST_MASTER_KEY, assert_error

P = "plugins.ml_commons."


async def test_defaults_listed_and_nested(client: httpx.AsyncClient) -> None:
    response = await client.get("/_cluster/settings?include_defaults=true")
    assert response.status_code == 200
    body = response.json()
    assert body["persistent"] == {} and body["transient"] == {}
    ml = body["defaults"]["plugins"]["ml_commons"]
    assert ml["only_run_on_ml_node"] == "true"
    assert ml["connector_access_control_enabled"] == "false"
    assert ml["connector"]["private_ip_enabled"] == "false"
    assert r"^https://api\.openai\.com/.*$" in ml["trusted_connector_endpoints_regex"]
    assert len(ml["trusted_connector_endpoints_regex"]) == 12


async def test_flat_and_nested_input_echoed_as_strings(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/_cluster/settings",
        json={
            "persistent": {"plugins": {"ml_commons": {"model_access_control_enabled": True}}},
            "transient": {f"{P}max_ml_task_per_node": 7},
        },
    )
    assert response.status_code == 200
    assert response.json() == {
        "acknowledged": True,
        "persistent": {"plugins": {"ml_commons": {"model_access_control_enabled": "true"}}},
        "transient": {"plugins": {"ml_commons": {"max_ml_task_per_node": "7"}}},
    }
    flat = (await client.get("/_cluster/settings?flat_settings=true")).json()
    assert flat == {
        "persistent": {f"{P}model_access_control_enabled": "true"},
        "transient": {f"{P}max_ml_task_per_node": "7"},
    }


async def test_null_resets(client: httpx.AsyncClient) -> None:
    await client.put("/_cluster/settings", json={"persistent": {f"{P}stream_enabled": True}})
    response = await client.put("/_cluster/settings", json={"persistent": {f"{P}stream_enabled": None}})
    assert response.status_code == 200
    assert (await client.get("/_cluster/settings")).json()["persistent"] == {}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            {"persistent": {"plugins.ml_commons.nope": 1}},
            "persistent setting [plugins.ml_commons.nope], not recognized",
        ),
        ({"transient": {"cluster.foo": "x"}}, "transient setting [cluster.foo], not recognized"),
        (
            {"persistent": {f"{P}only_run_on_ml_node": "yes"}},
            f"illegal value can't update [{P}only_run_on_ml_node] from [true] to [yes]",
        ),
        (
            {"persistent": {f"{P}max_ml_task_per_node": "many"}},
            f"illegal value can't update [{P}max_ml_task_per_node] from [10] to [many]",
        ),
    ],
)
async def test_refusals(client: httpx.AsyncClient, body: dict, reason: str) -> None:
    response = await client.put("/_cluster/settings", json=body)
    assert_error(response, 400, "illegal_argument_exception", reason)


async def test_boolean_cause_is_reported(client: httpx.AsyncClient) -> None:
    response = await client.put("/_cluster/settings", json={"persistent": {f"{P}only_run_on_ml_node": "yes"}})
    cause = response.json()["error"]["caused_by"]
    assert cause["reason"] == "Failed to parse value [yes] as only [true] or [false] are allowed."


async def test_bad_regex_refused_and_nothing_applied(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/_cluster/settings",
        json={
            "persistent": {
                f"{P}stream_enabled": True,
                f"{P}trusted_connector_endpoints_regex": ["^(a+)+$"],
            }
        },
    )
    body = assert_error(response, 400, "illegal_argument_exception")
    assert "ReDoS" in body["error"]["caused_by"]["reason"]
    assert (await client.get("/_cluster/settings")).json()["persistent"] == {}


async def test_final_setting_refused(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/_cluster/settings", json={"persistent": {f"{P}connector.restricted_ip_patterns": ["^10\\..*"]}}
    )
    assert_error(response, 400, "illegal_argument_exception")


async def test_persistent_survives_restart_transient_does_not(client: httpx.AsyncClient, data_dir) -> None:
    await client.put(
        "/_cluster/settings",
        json={
            "persistent": {f"{P}connector.private_ip_enabled": True},
            "transient": {f"{P}stream_enabled": True},
        },
    )
    again = await build_node(Config(data_dir=data_dir, master_key=TEST_MASTER_KEY))
    await again.start()
    try:
        assert again.services.settings.current.flag("connector.private_ip_enabled") is True
        assert again.services.settings.current.flag("stream_enabled") is False
    finally:
        await again.stop()
