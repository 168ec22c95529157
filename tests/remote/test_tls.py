"""TLS: certificates are verified unless client_config.skip_ssl_verification (§4.3)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mlgate.domain.errors import RemoteError
from mlgate.remote.client import ClientConfig, ConnectorClient


@pytest.fixture
def self_signed(tmp_path: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mlgate-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.fixture
async def tls_base(self_signed: ssl.SSLContext) -> AsyncIterator[str]:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"secure": request.secure})

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self_signed).start()
    yield f"https://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_untrusted_certificates_are_refused(
    tls_base: str, make_client: Callable[..., ConnectorClient]
) -> None:
    with pytest.raises(RemoteError) as caught:
        await make_client().send("GET", f"{tls_base}/", {}, None)
    assert caught.value.status == 500
    assert caught.value.message.startswith("Error communicating with remote model: ")
    assert "certificate" in caught.value.message.lower()


async def test_skip_ssl_verification_accepts_them(
    tls_base: str, make_client: Callable[..., ConnectorClient]
) -> None:
    resp = await make_client(ClientConfig(skip_ssl_verification=True)).send("GET", f"{tls_base}/", {}, None)
    assert resp.status == 200
    assert resp.body == b'{"secure": true}'
