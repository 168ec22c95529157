"""``parameters.charset`` and connector host names: a caller's bad value is a 400, never a 500."""

from __future__ import annotations

import httpx
import pytest

from mlgate.mockprovider import MockProvider
from tests.conftest import assert_error
from tests.engine.support import MESSAGES, MLGATE, chat_connector, chat_path, deploy_model, predict

LONG_LABEL = "a" * 64
LONG_HOST_REASON = f"Invalid host in connector URL: the label [{LONG_LABEL}] is longer than 63 characters"


async def latin_model(client: httpx.AsyncClient, url: str) -> str:
    # Request parameters are \\u-escaped into the body; a connector parameter is not.
    connector = chat_connector(url, parameters={"model": "modèle"})
    return await deploy_model(client, connector)


@pytest.mark.parametrize("charset", ["nope", "rot13", "idna", "undefined", "base64", "utf 8", "punycode"])
async def test_an_unknown_or_non_text_charset_is_a_400(
    loopback: httpx.AsyncClient, provider: MockProvider, charset: str
) -> None:
    path = chat_path()
    model_id = await latin_model(loopback, provider.url + path)
    body = {"parameters": {"messages": MESSAGES, "charset": charset}}
    reason = f"Unsupported charset [{charset}]"
    assert_error(await predict(loopback, model_id, body), 400, "illegal_argument_exception", reason)
    rendered = await loopback.post(f"{MLGATE}/models/{model_id}/_render", json=body)
    assert rendered.status_code == 200, rendered.text
    [request] = rendered.json()["requests"]
    assert request["error"] == {"type": "illegal_argument_exception", "reason": reason}
    assert provider.requests(path=path) == []


async def test_text_the_charset_cannot_encode_is_a_400(
    loopback: httpx.AsyncClient, provider: MockProvider
) -> None:
    path = chat_path()
    model_id = await latin_model(loopback, provider.url + path)
    body = {"parameters": {"messages": MESSAGES, "charset": "ascii"}}
    response = await predict(loopback, model_id, body)
    error = assert_error(response, 400, "illegal_argument_exception")["error"]
    assert error["reason"].startswith("The request body cannot be encoded in charset [ascii]: character [è]")
    assert provider.requests(path=path) == []


@pytest.mark.parametrize("charset", ["US-ASCII", "utf-8", "ISO-8859-1", "windows-1252"])
async def test_a_real_charset_is_accepted(
    loopback: httpx.AsyncClient, provider: MockProvider, charset: str
) -> None:
    path = chat_path()
    model_id = await deploy_model(loopback, chat_connector(provider.url + path))
    response = await predict(loopback, model_id, {"parameters": {"messages": MESSAGES, "charset": charset}})
    assert response.status_code == 200, response.text
    [sent] = provider.requests(path=path)
    assert '"model": "gpt-4o-mini"' in sent.body


async def trust_every_http_url(client: httpx.AsyncClient) -> None:
    settings = {"persistent": {"plugins.ml_commons.trusted_connector_endpoints_regex": [r"^http://.*$"]}}
    assert (await client.put("/_cluster/settings", json=settings)).status_code == 200


async def test_a_host_label_over_63_characters_is_refused(loopback: httpx.AsyncClient) -> None:
    await trust_every_http_url(loopback)
    url = f"http://{LONG_LABEL}.example.com/v1/chat/completions"
    model_id = await deploy_model(loopback, chat_connector(url))
    body = {"parameters": {"messages": MESSAGES}}
    assert_error(await predict(loopback, model_id, body), 400, "illegal_argument_exception", LONG_HOST_REASON)
    # The dry-run routes report egress as a verdict (as for every unusable URL), never a 500.
    rendered = await loopback.post(f"{MLGATE}/models/{model_id}/_render", json=body)
    assert rendered.status_code == 200, rendered.text
    [request] = rendered.json()["requests"]
    assert (request["egress"]["allowed"], request["egress"]["reason"]) == (False, LONG_HOST_REASON)
    explained = await loopback.post(f"{MLGATE}/egress/_explain", json={"url": url})
    assert explained.status_code == 200, explained.text
    assert (explained.json()["allowed"], explained.json()["reason"]) == (False, LONG_HOST_REASON)


async def test_a_host_name_over_253_characters_is_refused(loopback: httpx.AsyncClient) -> None:
    await trust_every_http_url(loopback)
    host = ".".join(["a" * 60] * 5)
    explained = await loopback.post(f"{MLGATE}/egress/_explain", json={"url": f"http://{host}/v1"})
    assert explained.status_code == 200, explained.text
    assert explained.json()["reason"] == (
        "Invalid host in connector URL: the host name is longer than 253 characters"
    )
