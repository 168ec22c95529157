"""TLS: certificates are verified unless client_config.skip_ssl_verification.

ml-commons: ConnectorClientConfig.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web
from tests.remote.conftest import Serve
from tests.tls_support import write_self_signed

from mlgate.domain.errors import RemoteError
from mlgate.remote.client import ConnectorClient
from mlgate.remote.client_config import ClientConfig


@pytest.fixture
def self_signed(tmp_path: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1."""
    cert_file, key_file = write_self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.fixture
async def tls_base(self_signed: ssl.SSLContext, serve: Serve) -> str:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"secure": request.secure})

    app = web.Application()
    app.router.add_get("/", handler)
    return await serve(app, self_signed)


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
