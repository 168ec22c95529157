"""Model controllers (``/_plugins/_ml/controllers/{model_id}``): per-user rate limits of a model.

ml-commons: MLController, the transport actions of plugin/.../action/controller/.

CRUD shapes and messages on a node without security; the limits themselves with security on, where
predict knows who is calling.
"""

from __future__ import annotations

import httpx

from mlgate.bootstrap import Node
from mlgate.mockprovider import MockProvider
from tests.api.fixtures import chat_connector
from tests.conftest import assert_error
from tests.engine.support import deploy_model
from tests.security.test_security_api import API, STRONG, login

ML = "/_plugins/_ml"
BODY = {"parameters": {"messages": [{"role": "user", "content": "hi"}]}}
THROTTLED = (
    "Request is throttled at user level. If you think there's an issue, please contact your cluster admin."
)


async def test_create_get_update_delete(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    model_id = await deploy_model(loopback, chat_connector(provider.url))
    url = f"{ML}/controllers/{model_id}"
    limits = {"alice": {"limit": 4, "unit": "MINUTES"}, "nobody": {}}
    created = await loopback.post(url, json={"user_rate_limiter": limits})
    assert created.status_code == 200, created.text
    assert created.json() == {"model_id": model_id, "status": "CREATED"}
    assert (await loopback.get(f"{ML}/models/{model_id}")).json()["is_controller_enabled"] is True
    assert (await loopback.get(url)).json() == {
        "model_id": model_id,
        "user_rate_limiter": {"alice": {"limit": "4", "unit": "MINUTES"}},
    }
    # Create again replaces the controller.
    replaced = await loopback.post(
        url, json={"user_rate_limiter": {"bob": {"limit": "2", "unit": "SECONDS"}}}
    )
    assert replaced.json() == {"model_id": model_id, "status": "UPDATED"}

    # Update merges per user and per field.
    updated = await loopback.put(
        url, json={"user_rate_limiter": {"bob": {"limit": "9"}, "carol": {"unit": "HOURS"}}}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["result"] == "updated" and updated.json()["_id"] == model_id
    assert (await loopback.get(url)).json()["user_rate_limiter"] == {
        "bob": {"limit": "9", "unit": "SECONDS"},
        "carol": {"unit": "HOURS"},
    }
    same = await loopback.put(url, json={"user_rate_limiter": {"bob": {"limit": "9"}}})
    assert same.json()["result"] == "noop"

    deleted = await loopback.delete(url)
    assert deleted.status_code == 200 and deleted.json()["result"] == "deleted"
    assert (await loopback.get(f"{ML}/models/{model_id}")).json()["is_controller_enabled"] is False
    assert_error(
        await loopback.get(url),
        404,
        "status_exception",
        "Failed to find model controller with the provided model ID",
    )
    assert_error(await loopback.delete(url), 404, "status_exception", "Failed to find model controller")
    assert_error(
        await loopback.put(url, json={"user_rate_limiter": {}}),
        409,
        "status_exception",
        "Model controller haven't been created for the model. Consider calling create model controller api instead. "
        f"Model ID: {model_id}",
    )


async def test_bad_requests(loopback: httpx.AsyncClient, provider: MockProvider) -> None:
    unknown = f"{ML}/controllers/no-such-model"
    assert_error(
        await loopback.post(unknown, json={"user_rate_limiter": {}}),
        404,
        "status_exception",
        "Failed to find model to create the corresponding model controller with the provided model ID",
    )
    model_id = await deploy_model(loopback, chat_connector(provider.url))
    url = f"{ML}/controllers/{model_id}"
    assert_error(
        await loopback.post(url), 400, "parse_exception", "Create model controller request has empty body"
    )
    assert_error(
        await loopback.put(url), 400, "parse_exception", "Update model controller request has empty body"
    )
    bad_limit = {"user_rate_limiter": {"alice": {"limit": "lots", "unit": "SECONDS"}}}
    assert_error(
        await loopback.post(url, json=bad_limit),
        400,
        "parse_exception",
        "Limit field must be a positive number.",
    )
    bad_unit = {"user_rate_limiter": {"alice": {"limit": "1", "unit": "FORTNIGHTS"}}}
    assert_error(
        await loopback.post(url, json=bad_unit),
        400,
        "illegal_argument_exception",
        "No enum constant java.util.concurrent.TimeUnit.FORTNIGHTS",
    )
    not_an_object = {"user_rate_limiter": {"alice": 5}}
    assert_error(
        await loopback.post(url, json=not_an_object),
        400,
        "parsing_exception",
        "expecting token of type [START_OBJECT] but found [VALUE_NUMBER]",
    )
    # Nothing was written by the refused requests.
    assert (await loopback.get(url)).status_code == 404

    disable = {"persistent": {"plugins.ml_commons.controller_enabled": False}}
    assert (await loopback.put("/_cluster/settings", json=disable)).status_code == 200
    assert_error(
        await loopback.get(url),
        400,
        "illegal_state_exception",
        'Controller is currently disabled. To enable it, update the setting "plugins.ml_commons.controller_enabled" to true.',
    )


async def test_deleting_the_model_deletes_its_controller(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    model_id = await deploy_model(loopback, chat_connector(provider.url))
    url = f"{ML}/controllers/{model_id}"
    assert (
        await loopback.post(url, json={"user_rate_limiter": {"a": {"limit": "1", "unit": "DAYS"}}})
    ).status_code == 200
    await loopback.post(f"{ML}/models/{model_id}/_undeploy")
    assert (await loopback.delete(f"{ML}/models/{model_id}")).status_code == 200
    assert_error(
        await loopback.get(url),
        404,
        "status_exception",
        "Failed to find model controller with the provided model ID",
    )


async def _users(admin: httpx.AsyncClient, *names: str) -> None:
    for name in names:
        assert (await admin.put(f"{API}/internalusers/{name}", json={"password": STRONG})).status_code == 201
    mapping = {"users": list(names)}
    assert (await admin.put(f"{API}/rolesmapping/ml_full_access", json=mapping)).status_code in (200, 201)


async def test_each_user_gets_the_limit_of_the_controller(
    admin: httpx.AsyncClient, secure_node: Node, provider: MockProvider
) -> None:
    await _users(admin, "alice", "bob")
    model_id = await deploy_model(admin, chat_connector(provider.url))
    url = f"{ML}/controllers/{model_id}"
    # Created while the model is deployed: it takes effect at once.
    limits = {"user_rate_limiter": {"alice": {"limit": "1", "unit": "HOURS"}}}
    assert (await admin.post(url, json=limits)).status_code == 200
    predict = f"{ML}/models/{model_id}/_predict"
    async with (
        await login(secure_node, "alice", STRONG) as alice,
        await login(secure_node, "bob", STRONG) as bob,
    ):
        assert (await alice.post(predict, json=BODY)).status_code == 200
        assert_error(await alice.post(predict, json=BODY), 429, "status_exception", THROTTLED)
        for _ in range(3):  # others are not limited by alice's bucket
            assert (await bob.post(predict, json=BODY)).status_code == 200
            assert (await admin.post(predict, json=BODY)).status_code == 200
        # An update rebuilds the buckets (full) with the new limit.
        raised = {"user_rate_limiter": {"alice": {"limit": "1000", "unit": "SECONDS"}}}
        assert (await admin.put(url, json=raised)).status_code == 200
        for _ in range(3):
            assert (await alice.post(predict, json=BODY)).status_code == 200
        # Deleting the controller lifts the limit; re-creating it limits again.
        assert (await admin.delete(url)).status_code == 200
        assert (await admin.post(url, json=limits)).status_code == 200
        assert (await alice.post(predict, json=BODY)).status_code == 200
        assert (await alice.post(predict, json=BODY)).status_code == 429
        # The controller survives an undeploy and is loaded again on deploy.
        assert (await admin.post(f"{ML}/models/{model_id}/_undeploy")).status_code == 200
        assert (await admin.post(f"{ML}/models/{model_id}/_deploy")).status_code == 200
        assert (await alice.post(predict, json=BODY)).status_code == 200
        assert (await alice.post(predict, json=BODY)).status_code == 429
