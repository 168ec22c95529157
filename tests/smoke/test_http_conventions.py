"""The real server's HTTP edge: what it cannot parse is answered with OpenSearch's JSON error, not text."""

from __future__ import annotations

import base64
import http.client
import socket

import orjson
import pytest

from tests.smoke.conftest import ADMIN_PASSWORD, Process

UNPARSEABLE = [
    b"GET / HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,  # a TLS ClientHello on plain HTTP
    b"GET / HTTP/9.9\r\n\r\n",
    b"POST /_cluster/settings HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n{}",
    b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
]


def exchange(port: int, raw: bytes) -> bytes:
    """Send ``raw`` and read until the server closes the connection (bounded by a 30 s timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("raw", UNPARSEABLE)
def test_unparseable_http_gets_the_opensearch_envelope(server: Process, raw: bytes) -> None:
    head, _, body = exchange(server.port, raw).partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0].startswith(b"HTTP/1.1 400"), head
    headers = dict(line.split(b": ", 1) for line in lines[1:])
    assert headers[b"content-type"] == b"application/json; charset=UTF-8"
    assert headers[b"connection"] == b"close"
    assert orjson.loads(body) == {
        "error": {
            "root_cause": [
                {"type": "illegal_argument_exception", "reason": "Invalid HTTP request received."}
            ],
            "type": "illegal_argument_exception",
            "reason": "Invalid HTTP request received.",
        },
        "status": 400,
    }


def test_options_and_406_over_the_wire(server: Process) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("OPTIONS", "/_cluster/settings")
        options = connection.getresponse()
        assert options.status == 200
        assert options.getheader("allow") == "GET,PUT"
        assert options.read() == b""
        # As on OpenSearch 2.x with the Security plugin, the caller is authenticated first.
        auth = "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
        connection.request(
            "PUT",
            "/_cluster/settings",
            body=b"{}",
            headers={"Content-Type": "text/plain", "Authorization": auth},
        )
        refused = connection.getresponse()
        assert refused.status == 406
        assert orjson.loads(refused.read()) == {
            "error": "Content-Type header [text/plain] is not supported",
            "status": 406,
        }
    finally:
        connection.close()
