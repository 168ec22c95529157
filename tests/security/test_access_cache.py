"""The predict path keeps model groups in memory: an access change must apply to the very next call."""

from __future__ import annotations

import httpx

from mlgate.mockprovider import MockProvider
from tests.api.fixtures import MESSAGES, chat_connector
from tests.security.test_access_fields import users

__all__ = ["users"]


async def test_group_access_change_applies_to_the_next_predict(
    users: dict[str, httpx.AsyncClient], provider: MockProvider
) -> None:
    owner, shared = users["owner"], users["shared"]
    group = await owner.post(
        "/_plugins/_ml/model_groups/_register", json={"name": "cached", "access_mode": "public"}
    )
    group_id = group.json()["model_group_id"]
    connector = await owner.post(
        "/_plugins/_ml/connectors/_create", json=chat_connector(provider.url, access_mode="public")
    )
    assert connector.status_code == 200, connector.text
    model = await owner.post(
        "/_plugins/_ml/models/_register?deploy=true",
        json={
            "name": "cached-model",
            "function_name": "remote",
            "model_group_id": group_id,
            "connector_id": connector.json()["connector_id"],
        },
    )
    model_id = model.json()["model_id"]
    body = {"parameters": {"messages": MESSAGES}}
    assert (await shared.post(f"/_plugins/_ml/models/{model_id}/_predict", json=body)).status_code == 200

    # The owner makes the group private: the stranger is refused at once (no stale cached group).
    changed = await owner.put(f"/_plugins/_ml/model_groups/{group_id}", json={"access_mode": "private"})
    assert changed.status_code == 200, changed.text
    denied = await shared.post(f"/_plugins/_ml/models/{model_id}/_predict", json=body)
    assert denied.status_code == 403
    assert (
        denied.json()["error"]["reason"]
        == "User doesn't have privilege to perform this operation on this model"
    )
    assert (await owner.post(f"/_plugins/_ml/models/{model_id}/_predict", json=body)).status_code == 200

    # And back: restricted to the stranger's backend role lets them in again.
    reopened = await owner.put(f"/_plugins/_ml/model_groups/{group_id}", json={"backend_roles": ["team_a"]})
    assert reopened.status_code == 200, reopened.text
    assert (await shared.post(f"/_plugins/_ml/models/{model_id}/_predict", json=body)).status_code == 200
