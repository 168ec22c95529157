"""SigV4 verification: requests signed by botocore pass, anything tampered with gets AWS's 403."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from yarl import URL

from mlgate.mockprovider import MockProvider, start_mock_provider

AWS_KEYS = {"AKIDMOCKTEST": "mock-secret-key", "AKIDSECOND": "second-secret"}
SIGNATURE_MISMATCH = "The request signature we calculated does not match the signature you provided."


@pytest.fixture(scope="module")
async def signed_provider() -> AsyncIterator[MockProvider]:
    """A mock provider that verifies SigV4 signatures against :data:`AWS_KEYS`."""
    server = await start_mock_provider(aws_credentials=AWS_KEYS, default_dim=4)
    yield server
    await server.close()


def _sign(
    url: str,
    body: bytes,
    *,
    access_key: str = "AKIDMOCKTEST",
    secret: str | None = None,
    service: str = "bedrock",
    region: str = "us-east-1",
    token: str | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """Headers a real client would send: botocore signs method, URL, headers and body."""
    headers = {"Content-Type": "application/json", **(extra or {})}
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    credentials = Credentials(access_key, secret or AWS_KEYS.get(access_key, "wrong"), token)
    SigV4Auth(credentials, service, region).add_auth(request)
    return dict(request.headers.items())


async def _send(
    http: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int, Any, Any]:
    async with http.post(URL(url, encoded=True), data=body, headers=headers) as resp:
        return resp.status, orjson.loads(await resp.read()), resp.headers


async def test_signed_request_is_accepted(signed_provider: MockProvider, http: aiohttp.ClientSession) -> None:
    url = f"{signed_provider.url}/model/amazon.titan-embed-text-v2:0/invoke"
    body = b'{"inputText": "hello"}'
    # Like ML Commons: the blueprint's "x-amz-content-sha256: required" is replaced by the body hash.
    extra = {"x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
    status, answer, _ = await _send(http, url, body, _sign(url, body, extra=extra))
    assert status == 200
    assert len(answer["embedding"]) == 4  # this server's default_dim


async def test_session_token_query_string_and_encoded_path(
    signed_provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    url = f"{signed_provider.url}/model/arn%3Aaws%3Abedrock%3Amodel/invoke?b=2&a=1%2C2&dim=3"
    body = b'{"inputText": "hello"}'
    status, answer, _ = await _send(http, url, body, _sign(url, body, token="session-token-value"))
    assert status == 200
    assert len(answer["embedding"]) == 3


async def test_sagemaker_and_comprehend_signatures(
    signed_provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    url = f"{signed_provider.url}/endpoints/my-endpoint/invocations"
    body = b'["a"]'
    status, _, _ = await _send(
        http, url, body, _sign(url, body, service="sagemaker", access_key="AKIDSECOND")
    )
    assert status == 200
    url = f"{signed_provider.url}/"
    body = b'{"Text": "hello"}'
    extra = {"X-Amz-Target": "Comprehend_20171127.DetectDominantLanguage"}
    status, answer, _ = await _send(http, url, body, _sign(url, body, service="comprehend", extra=extra))
    assert status == 200
    assert answer["Languages"][0]["LanguageCode"] == "en"


async def test_tampered_body_is_rejected(signed_provider: MockProvider, http: aiohttp.ClientSession) -> None:
    url = f"{signed_provider.url}/model/amazon.titan-embed-text-v1/invoke"
    headers = _sign(url, b'{"inputText": "hello"}')
    status, answer, response_headers = await _send(http, url, b'{"inputText": "hellO"}', headers)
    assert status == 403
    assert answer["message"].startswith(SIGNATURE_MISMATCH)
    assert response_headers["x-amzn-ErrorType"].startswith("InvalidSignatureException")


async def test_body_not_matching_content_sha256_is_rejected(
    signed_provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    # The signature covers the x-amz-content-sha256 value, not the body, so only the hash check catches this.
    url = f"{signed_provider.url}/model/amazon.titan-embed-text-v1/invoke"
    original = b'{"inputText": "hello"}'
    headers = _sign(url, original, extra={"X-Amz-Content-SHA256": hashlib.sha256(original).hexdigest()})
    status, answer, _ = await _send(http, url, b'{"inputText": "HELLO"}', headers)
    assert status == 403
    assert "x-amz-content-sha256" in answer["message"]


async def test_tampered_signed_header_is_rejected(
    signed_provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    url = f"{signed_provider.url}/model/amazon.titan-embed-text-v1/invoke"
    body = b'{"inputText": "hello"}'
    headers = _sign(url, body)
    headers["X-Amz-Date"] = headers["X-Amz-Date"][:-3] + "00Z"
    status, answer, _ = await _send(http, url, body, headers)
    assert status == 403
    assert answer["message"].startswith(SIGNATURE_MISMATCH)


async def test_tampered_path_is_rejected(signed_provider: MockProvider, http: aiohttp.ClientSession) -> None:
    signed_url = f"{signed_provider.url}/model/amazon.titan-embed-text-v1/invoke"
    body = b'{"inputText": "hello"}'
    headers = _sign(signed_url, body)
    status, _, _ = await _send(
        http, f"{signed_provider.url}/model/amazon.titan-embed-text-v2/invoke", body, headers
    )
    assert status == 403


async def test_wrong_secret_and_unknown_key(
    signed_provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    url = f"{signed_provider.url}/model/m/invoke"
    body = b'{"inputText": "hello"}'
    status, answer, _ = await _send(http, url, body, _sign(url, body, secret="not-the-secret"))
    assert status == 403
    assert answer["message"].startswith(SIGNATURE_MISMATCH)
    status, answer, response_headers = await _send(
        http, url, body, _sign(url, body, access_key="AKIDUNKNOWN")
    )
    assert status == 403
    assert answer["message"] == "The security token included in the request is invalid."
    assert response_headers["x-amzn-ErrorType"].startswith("UnrecognizedClientException")


async def test_unsigned_aws_request_is_missing_a_token(
    signed_provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    url = f"{signed_provider.url}/endpoints/e/invocations"
    status, answer, _ = await _send(http, url, b'["a"]', {"Content-Type": "application/json"})
    assert status == 403
    assert answer == {"message": "Missing Authentication Token"}


async def test_unsigned_openai_request_passes_on_a_verifying_server(
    signed_provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    status, answer, _ = await _send(http, f"{signed_provider.url}/v1/embeddings", b'{"input": "a"}', {})
    assert status == 200
    assert len(answer["data"][0]["embedding"]) == 4


async def test_signature_is_ignored_without_credentials(
    provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    url = f"{provider.url}/model/m/invoke"
    status, _, _ = await _send(http, url, b'{"inputText": "a"}', _sign(url, b'{"inputText": "b"}'))
    assert status == 200


async def test_malformed_authorization_header(
    signed_provider: MockProvider, http: aiohttp.ClientSession
) -> None:
    url = f"{signed_provider.url}/model/m/invoke"
    headers = {"Authorization": "AWS4-HMAC-SHA256 garbage"}
    status, answer, response_headers = await _send(http, url, b'{"inputText": "a"}', headers)
    assert status == 403
    assert response_headers["x-amzn-ErrorType"].startswith("IncompleteSignatureException")
    assert "Credential" in answer["message"]
