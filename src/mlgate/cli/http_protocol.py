"""uvicorn's httptools protocol, answering a request it cannot parse with OpenSearch's 400 error body.

uvicorn answers unparseable HTTP with a plain-text 400; OpenSearch (Netty's decoder failure, dispatched
by ``RestController.dispatchBadRequest``) answers with its JSON error envelope. Only that error path is
overridden: the parsing and the hot path stay uvicorn's own.
"""

from __future__ import annotations

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mlgate.api.errors import error_body
from mlgate.api.http import JSON_TYPE


class OpenSearchHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol whose 400 for an unparseable request is OpenSearch-shaped JSON."""

    def send_400_response(self, msg: str) -> None:
        """Write the 400 and close the connection, as uvicorn does, with a JSON error body."""
        body = orjson.dumps(error_body("illegal_argument_exception", msg, 400))
        head = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in self.server_state.default_headers:
            head.extend([name, b": ", value, b"\r\n"])
        head.extend(
            [
                b"content-type: ",
                JSON_TYPE,
                b"\r\ncontent-length: ",
                str(len(body)).encode("ascii"),
                b"\r\nconnection: close\r\n\r\n",
            ]
        )
        self.transport.write(b"".join(head) + body)
        self.transport.close()
