"""A full secure flow with every log line and every response captured: no password or credential in any."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

from mlgate.bootstrap import Node
from mlgate.mockprovider import MockProvider
from tests.api.fixtures import MESSAGES, chat_connector
from tests.conftest import ADMIN_PASSWORD

ML = "/_plugins/_ml"
ALICE_PASSWORD = "Walnut-Horizon-Ember-6604"
PROVIDER_KEY = "sk-leak-check-ORIGINAL-77a1"
ROTATED_KEY = "sk-leak-check-ROTATED-91fe"
WEAK_ATTEMPT = "Summer2024!"  # refused, and must not be echoed back
TYPO_AS_NAME = "Walnut-Horizon-Ember-6604x"  # a password typed into the user-name field


class Recorder:
    """Every response body and header seen by the test."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def __call__(self, response: httpx.Response) -> None:
        await response.aread()
        self.texts.append(response.text)
        self.texts.extend(f"{k}: {v}" for k, v in response.headers.items())


def _secrets() -> list[str]:
    plain = [ADMIN_PASSWORD, ALICE_PASSWORD, PROVIDER_KEY, ROTATED_KEY, WEAK_ATTEMPT, TYPO_AS_NAME]
    encoded = [
        base64.b64encode(f"{user}:{password}".encode()).decode()
        for user, password in (("admin", ADMIN_PASSWORD), ("alice", ALICE_PASSWORD), ("alice", "wrong"))
    ]
    return plain + encoded


async def test_full_flow_leaks_nothing(
    secure_node: Node, provider: MockProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = Recorder()
    hooks = {"response": [recorder]}
    transport = httpx.ASGITransport(app=secure_node.app)

    def client(auth: tuple[str, str] | None) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=transport, base_url="http://mlgate", auth=auth, event_hooks=hooks)

    async with client(("admin", ADMIN_PASSWORD)) as admin, client(("alice", ALICE_PASSWORD)) as alice:
        await admin.put(
            "/_cluster/settings",
            json={
                "persistent": {
                    "plugins.ml_commons.trusted_connector_endpoints_regex": [
                        r"^http://127\.0\.0\.1:[0-9]+/.*$"
                    ],
                    "plugins.ml_commons.connector.private_ip_enabled": True,
                    "plugins.ml_commons.connector_access_control_enabled": True,
                    "plugins.ml_commons.model_access_control_enabled": True,
                }
            },
        )
        weak = await admin.put("/_plugins/_security/api/internalusers/alice", json={"password": WEAK_ATTEMPT})
        assert weak.status_code == 400
        created = await admin.put(
            "/_plugins/_security/api/internalusers/alice",
            json={
                "password": ALICE_PASSWORD,
                "backend_roles": ["team_a"],
                "opendistro_security_roles": ["ml_full_access"],
            },
        )
        assert created.status_code == 201
        users = await admin.get("/_plugins/_security/api/internalusers")
        assert users.json()["alice"]["hash"] == ""
        body = chat_connector(provider.url, credential={"openAI_key": PROVIDER_KEY})
        connector_id = (await alice.post(f"{ML}/connectors/_create", json=body)).json()["connector_id"]
        registered = await alice.post(
            f"{ML}/models/_register?deploy=true",
            json={"name": "leak check", "function_name": "remote", "connector_id": connector_id},
        )
        model_id = registered.json()["model_id"]
        answer = await alice.post(
            f"{ML}/models/{model_id}/_predict", json={"parameters": {"messages": MESSAGES}}
        )
        assert answer.status_code == 200
        assert provider.requests(1)[0].headers["Authorization"] == f"Bearer {PROVIDER_KEY}"
        # Rotate the credential while the model stays deployed; the next call uses the new one.
        rotated = await alice.put(
            f"{ML}/connectors/{connector_id}", json={"credential": {"openAI_key": ROTATED_KEY}}
        )
        assert rotated.status_code == 200
        answer = await alice.post(
            f"{ML}/models/{model_id}/_predict", json={"parameters": {"messages": MESSAGES}}
        )
        assert answer.status_code == 200
        assert provider.requests(1)[0].headers["Authorization"] == f"Bearer {ROTATED_KEY}"
        # Reads of every kind: documents, tasks, searches asking for the credential explicitly.
        await alice.get(f"{ML}/connectors/{connector_id}")
        await alice.get(f"{ML}/models/{model_id}")
        await alice.post(f"{ML}/tasks/_search", json={"query": {"match_all": {}}})
        included = await alice.post(
            f"{ML}/connectors/_search", json={"_source": {"includes": ["credential", "credential.*", "name"]}}
        )
        assert included.json()["hits"]["hits"][0]["_source"] == {"name": "Chat connector"}
        for field in ("credential.openAI_key", "credential"):
            probe = await alice.post(f"{ML}/connectors/_search", json={"query": {"exists": {"field": field}}})
            assert probe.json()["hits"]["hits"] == []
        await admin.get("/_plugins/_security/authinfo")
        await admin.get("/_plugins/_security/api/internalusers/alice")
    # Failures: wrong passwords, a password typed as the user name, a throttled login.
    async with client(("alice", "wrong")) as wrong, client((TYPO_AS_NAME, "x")) as typo:
        for _ in range(10):
            await wrong.get(f"{ML}/models/_search")
        await typo.get(f"{ML}/models/_search")
        assert (await wrong.get(f"{ML}/models/_search")).status_code == 429
    logs = "\n".join(f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert logs, "the flow should have logged something"
    assert recorder.texts
    for secret in _secrets():
        assert secret not in logs, secret
        for text in recorder.texts:
            assert secret not in text, (secret, text[:200])


async def test_stored_passwords_are_salted_bcrypt(secure_node: Node, admin: httpx.AsyncClient) -> None:
    from mlgate.services.security_setup import USERS

    for name in ("u1", "u2"):
        response = await admin.put(
            f"/_plugins/_security/api/internalusers/{name}", json={"password": ALICE_PASSWORD}
        )
        assert response.status_code == 201
    first, second = [await secure_node.store.load(USERS, name) for name in ("u1", "u2")]
    assert first is not None and second is not None
    # Same password, different salts: different hashes; neither contains the password.
    assert first.source["hash"] != second.source["hash"]
    for doc in (first, second):
        assert doc.source["hash"].startswith("$2b$04$")
        assert ALICE_PASSWORD not in str(doc.source)
    admin_doc = await secure_node.store.load(USERS, "admin")
    assert admin_doc is not None and ADMIN_PASSWORD not in str(admin_doc.source)
