"""Mutual TLS (client_config.mutual_tls_enabled): the connector presents the client certificate of its
credential to a server that requires one, trusting the CA of ``ca_cert_pem``; ML Commons' checks and
messages for missing or unusable material.

ml-commons: CertificateProcessor, MLTlsClientConfigurer.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from tests.api.fixtures import chat_connector
from tests.conftest import assert_error
from tests.remote.conftest import OPEN_POLICY, Serve
from tests.tls_support import Issued, issue

from mlgate.domain.errors import InvalidRequestError, RemoteError
from mlgate.remote.client import ClientPool, ConnectorClient
from mlgate.remote.client_config import ClientConfig
from mlgate.remote.mtls import tls_identity
from mlgate.remote.resolver import GuardedResolver

MTLS = ClientConfig(mutual_tls_enabled=True)


@dataclass(frozen=True)
class Pki:
    ca: Issued
    intermediate: Issued
    client: Issued


@pytest.fixture(scope="module")
def pki() -> Pki:
    ca = issue("mlgate test CA", ca=True)
    intermediate = issue("mlgate test intermediate", ca, ca=True)
    return Pki(ca, intermediate, issue("mlgate-client", intermediate))


@pytest.fixture
async def mtls_base(pki: Pki, tmp_path: Path, serve: Serve) -> str:
    """An HTTPS server on 127.0.0.1 that requires a client certificate issued under the test CA and
    answers with the common name it was shown."""
    server = issue("127.0.0.1", pki.ca, ip="127.0.0.1")
    (tmp_path / "server.pem").write_text(server.key_pem + server.cert_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cadata=pki.ca.cert_pem)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(tmp_path / "server.pem")

    async def handler(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        subject = dict(item[0] for item in peer["subject"]) if peer else {}
        return web.json_response({"client": subject.get("commonName")})

    async def chat(request: web.Request) -> web.Response:
        shown = await handler(request)
        return web.json_response({"object": "chat.completion", "seen": shown.text})

    app = web.Application()
    app.router.add_get("/", handler)
    app.router.add_post("/v1/chat/completions", chat)
    return await serve(app, context)


@pytest.fixture
async def pool() -> AsyncIterator[ClientPool]:
    clients = ClientPool(GuardedResolver(lambda: OPEN_POLICY))
    yield clients
    await clients.close_all()


def client_for(pool: ClientPool, config: ClientConfig, credential: dict[str, str]) -> ConnectorClient:
    """The pool's client for this credential, asked for as the executor does."""
    identity = tls_identity(credential) if config.mutual_tls_enabled else ""
    return pool.get("c", config, credential, identity)


def pem_credential(pki: Pki) -> dict[str, str]:
    """The leaf and its intermediate, the key, and the root as the only trust anchor."""
    return {
        "client_cert_pem": pki.client.cert_pem + pki.intermediate.cert_pem,
        "client_key_pem": pki.client.key_pem,
        "ca_cert_pem": pki.ca.cert_pem,
    }


async def shown_certificate(
    pool: ClientPool, base: str, config: ClientConfig, credential: dict[str, str]
) -> str:
    resp = await client_for(pool, config, credential).send("GET", f"{base}/", {}, None)
    assert resp.status == 200
    return resp.body.decode()


async def test_pem_client_certificate_is_presented(pool: ClientPool, mtls_base: str, pki: Pki) -> None:
    assert (
        await shown_certificate(pool, mtls_base, MTLS, pem_credential(pki)) == '{"client": "mlgate-client"}'
    )


async def test_base64_encoded_pem_fields_are_decoded(pool: ClientPool, mtls_base: str, pki: Pki) -> None:
    credential = {k: base64.b64encode(v.encode()).decode() for k, v in pem_credential(pki).items()}
    assert await shown_certificate(pool, mtls_base, MTLS, credential) == '{"client": "mlgate-client"}'


async def test_pkcs12_keystore_with_a_password(pool: ClientPool, mtls_base: str, pki: Pki) -> None:
    keystore = pkcs12.serialize_key_and_certificates(
        b"client",
        pki.client.key,
        pki.client.cert,
        [pki.intermediate.cert],
        serialization.BestAvailableEncryption(b"keystore-secret"),
    )
    credential = {
        "client_cert_pkcs12": base64.b64encode(keystore).decode(),
        "keystore_password": "keystore-secret",
        "ca_cert_pem": pki.ca.cert_pem,
    }
    config = ClientConfig(mutual_tls_enabled=True, keystore_type="pkcs12")
    assert await shown_certificate(pool, mtls_base, config, credential) == '{"client": "mlgate-client"}'


async def test_without_a_client_certificate_the_server_refuses(pool: ClientPool, mtls_base: str) -> None:
    with pytest.raises(RemoteError) as caught:
        await pool.get("c", ClientConfig(skip_ssl_verification=True)).send("GET", f"{mtls_base}/", {}, None)
    assert caught.value.message.startswith("Error communicating with remote model: ")


async def test_a_new_certificate_gets_a_new_client(pool: ClientPool, pki: Pki) -> None:
    first = client_for(pool, MTLS, pem_credential(pki))
    assert client_for(pool, MTLS, pem_credential(pki)) is first
    other = issue("mlgate-client-2", pki.intermediate)
    rotated = {**pem_credential(pki), "client_cert_pem": other.cert_pem + pki.intermediate.cert_pem}
    assert client_for(pool, MTLS, {**rotated, "client_key_pem": other.key_pem}) is not first


def refusal(pool: ClientPool, config: ClientConfig, credential: dict[str, str]) -> str:
    with pytest.raises(InvalidRequestError) as caught:
        client_for(pool, config, credential)
    assert caught.value.error_type == "m_l_validation_exception"
    return caught.value.message


def test_skip_ssl_verification_is_refused_with_mutual_tls(pool: ClientPool, pki: Pki) -> None:
    config = ClientConfig(mutual_tls_enabled=True, skip_ssl_verification=True)
    assert refusal(pool, config, pem_credential(pki)).startswith(
        "skip_ssl_verification cannot be enabled together with mutual_tls_enabled."
    )


@pytest.mark.parametrize(
    ("keystore_type", "credential", "message"),
    [
        (None, {}, "Credentials are required when mutual TLS is enabled"),
        (None, {"client_cert_pem": "x"}, "For PEM keystore, provide both client_cert_pem and client_key_pem"),
        ("PKCS12", {"client_cert_pem": "x"}, "For PKCS12 keystore, provide client_cert_pkcs12"),
        ("JKS", {"a": "b"}, "Unsupported keystore type: JKS. Supported types are: PEM, PKCS12"),
    ],
)
def test_missing_material_is_named(
    pool: ClientPool, keystore_type: str | None, credential: dict[str, str], message: str
) -> None:
    config = ClientConfig(mutual_tls_enabled=True, keystore_type=keystore_type)
    assert refusal(pool, config, credential) == message


def test_an_api_key_beside_certificates_is_refused(pool: ClientPool, pki: Pki) -> None:
    credential = {**pem_credential(pki), "api_key": "sk-mixed"}
    assert refusal(pool, MTLS, credential).startswith("Mixed authentication methods are not allowed.")


def test_unusable_material_is_explained_without_echoing_it(pool: ClientPool, pki: Pki) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pkcs1 = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    cases = {
        "client_key_pem": (pkcs1, "Only PKCS#8 format is supported"),
        "client_cert_pem": ("/etc/ssl/client.pem", "File paths are not supported for certificate fields."),
    }
    for field, (value, expected) in cases.items():
        message = refusal(pool, MTLS, {**pem_credential(pki), field: value})
        assert message.startswith("Failed to build mutual TLS managers: ") and expected in message
        assert "PRIVATE KEY-----\n" not in message
    other = issue("someone else", pki.intermediate)
    mismatched = refusal(pool, MTLS, {**pem_credential(pki), "client_key_pem": other.key_pem})
    assert "does not match the client certificate" in mismatched


def test_a_chain_out_of_order_is_refused(pool: ClientPool, pki: Pki) -> None:
    credential = {**pem_credential(pki), "client_cert_pem": pki.intermediate.cert_pem + pki.client.cert_pem}
    message = refusal(pool, MTLS, credential)
    assert "Client certificate chain is not ordered correctly. Certificate at index 0" in message


async def test_predict_through_a_mutual_tls_connector(
    client: httpx.AsyncClient, mtls_base: str, pki: Pki
) -> None:
    settings = {
        "plugins.ml_commons.trusted_connector_endpoints_regex": [r"^https://127\.0\.0\.1:[0-9]+/.*$"],
        "plugins.ml_commons.connector.private_ip_enabled": True,
    }
    assert (await client.put("/_cluster/settings", json={"persistent": settings})).status_code == 200
    connector = chat_connector(mtls_base, name="mtls chat")
    connector["credential"] = pem_credential(pki)
    connector["client_config"] = {"mutual_tls_enabled": True}
    connector["actions"][0]["headers"] = {}
    created = await client.post("/_plugins/_ml/connectors/_create", json=connector)
    assert created.status_code == 200, created.text
    connector_id = created.json()["connector_id"]
    stored = (await client.get(f"/_plugins/_ml/connectors/{connector_id}")).json()
    assert stored["client_config"]["mutual_tls_enabled"] is True and "credential" not in stored
    registered = await client.post(
        "/_plugins/_ml/models/_register?deploy=true",
        json={"name": "mtls", "function_name": "remote", "connector_id": connector_id},
    )
    model_id = registered.json()["model_id"]
    body = {"parameters": {"messages": [{"role": "user", "content": "hi"}]}}
    answer = await client.post(f"/_plugins/_ml/models/{model_id}/_predict", json=body)
    assert answer.status_code == 200, answer.text
    data = answer.json()["inference_results"][0]["output"][0]["dataAsMap"]
    assert data == {"object": "chat.completion", "seen": '{"client": "mlgate-client"}'}

    # Without the key the connector cannot present its certificate: a clear 400, no key material.
    await client.post(f"/_plugins/_ml/models/{model_id}/_undeploy")
    updated = await client.put(
        f"/_plugins/_ml/connectors/{connector_id}",
        json={"credential": {"client_cert_pem": pki.client.cert_pem, "ca_cert_pem": pki.ca.cert_pem}},
    )
    assert updated.status_code == 200, updated.text
    refused = await client.post(f"/_plugins/_ml/models/{model_id}/_predict", json=body)
    assert_error(
        refused,
        400,
        "m_l_validation_exception",
        "For PEM keystore, provide both client_cert_pem and client_key_pem",
    )
