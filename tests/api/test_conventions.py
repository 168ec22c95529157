"""HTTP conventions as OpenSearch's RestController has them: 406, 405 with Allow, OPTIONS, Content-Type."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import assert_error

SEARCH = "/_plugins/_ml/models/_search"


@pytest.mark.parametrize(
    ("content_type", "shown"),
    [
        ("text/plain", "text/plain"),
        ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded"),
        ("application/yaml", "application/yaml"),
        (None, ""),
    ],
)
async def test_a_body_that_is_not_declared_json_is_406(
    client: httpx.AsyncClient, content_type: str | None, shown: str
) -> None:
    headers = {"content-type": content_type} if content_type is not None else {}
    response = await client.post(SEARCH, content=b'{"size": 0}', headers=headers)
    assert response.status_code == 406
    assert response.json() == {"error": f"Content-Type header [{shown}] is not supported", "status": 406}


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=UTF-8",
        "APPLICATION/JSON",
        "application/x-ndjson",
        "application/vnd.opensearch+json;compatible-with=7",
    ],
)
async def test_json_media_types_are_accepted(client: httpx.AsyncClient, content_type: str) -> None:
    response = await client.post(SEARCH, content=b'{"size": 0}', headers={"content-type": content_type})
    assert response.status_code == 200, response.text


async def test_no_body_needs_no_json_content_type(client: httpx.AsyncClient) -> None:
    response = await client.get(SEARCH, headers={"content-type": "text/plain"})
    assert response.status_code == 200


@pytest.mark.parametrize("content_type", ["garbage", "application/json/x", "/json", ":"])
async def test_a_malformed_content_type_is_400_on_any_request(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.get("/_cluster/health", headers={"content-type": content_type})
    body = assert_error(
        response,
        400,
        "content_type_header_exception",
        f"java.lang.IllegalArgumentException: invalid Content-Type header [{content_type}]",
    )
    assert body["error"]["caused_by"] == {
        "type": "illegal_argument_exception",
        "reason": f"invalid Content-Type header [{content_type}]",
    }


async def test_405_before_406_and_carries_allow(client: httpx.AsyncClient) -> None:
    response = await client.request(
        "DELETE", "/_cluster/settings", content=b"{}", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "GET,PUT"
    assert response.json() == {
        "error": "Incorrect HTTP method for uri [/_cluster/settings] and method [DELETE], allowed: [GET, PUT]",
        "status": 405,
    }


async def test_head_gets_the_status_without_a_body(client: httpx.AsyncClient) -> None:
    response = await client.head("/_cluster/health")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.content == b""


async def test_options_lists_the_methods_without_credentials(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.options("/_cluster/settings")
    assert response.status_code == 200
    assert response.headers["allow"] == "GET,PUT"
    assert response.headers["content-type"] == "text/plain; charset=UTF-8"
    assert response.content == b""
    unknown = await anonymous.options("/a/b/c/d/e")
    assert unknown.status_code == 200
    assert "allow" not in unknown.headers
    assert unknown.content == b""


async def test_other_methods_still_need_credentials(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/_plugins/_security/api/internalusers/admin")).status_code == 401


async def test_credentials_are_checked_before_the_content_type(anonymous: httpx.AsyncClient) -> None:
    # The body is read only for a caller who may make the request (the in-flight byte budget).
    response = await anonymous.post(SEARCH, content=b"{}", headers={"content-type": "text/plain"})
    assert response.status_code == 401
