"""Answers sent slowly: spread over a time, one byte at a time, or with the headers themselves trickled.

Each keeps the connection busy without ever being silent for long, which an idle (read) timeout cannot
catch; only a deadline on the whole call ends them. Sending stops as soon as the client goes away.
"""

from __future__ import annotations

import asyncio
import http
import math

from aiohttp import web

from mlgate.mockprovider.reply import Reply

SLOW_BODY_CHUNKS = 10


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def send_spread(request: web.Request, reply: Reply, total_ms: int) -> web.StreamResponse:
    """Send the headers at once, then the body in ``SLOW_BODY_CHUNKS`` pieces spread over ``total_ms``."""
    response = web.StreamResponse(status=reply.status, headers=reply.headers)
    response.content_type = reply.content_type
    response.content_length = len(reply.body)
    await response.prepare(request)
    chunk = max(1, math.ceil(len(reply.body) / SLOW_BODY_CHUNKS))
    pieces = [reply.body[i : i + chunk] for i in range(0, len(reply.body), chunk)] or [b""]
    try:
        for piece in pieces:
            await asyncio.sleep(total_ms / 1000 / len(pieces))
            await response.write(piece)
        await response.write_eof()
    except ConnectionResetError:
        pass  # the client gave up (a read-timeout test); there is nobody left to answer
    return response


async def send_trickle(
    request: web.Request, reply: Reply, every_ms: int, *, chunked: bool
) -> web.StreamResponse:
    """Send the headers at once, then the body one byte every ``every_ms`` (chunked: one chunk a byte)."""
    response = web.StreamResponse(status=reply.status, headers=reply.headers)
    response.content_type = reply.content_type
    if chunked:
        response.enable_chunked_encoding()
    else:
        response.content_length = len(reply.body)
    await response.prepare(request)
    try:
        for index in range(len(reply.body)):
            if _gone(request):
                return response
            await response.write(reply.body[index : index + 1])
            await asyncio.sleep(every_ms / 1000)
        await response.write_eof()
    except ConnectionResetError:
        pass  # the client gave up: its deadline passed
    return response


async def send_slow_headers(request: web.Request, reply: Reply, every_ms: int) -> web.Response:
    """Write the status line and headers one byte every ``every_ms``, then the body, then close."""
    transport = request.transport
    if transport is None:
        return web.Response(status=499)
    lines = [
        f"HTTP/1.1 {reply.status} {http.HTTPStatus(reply.status).phrase}",
        f"Content-Type: {reply.content_type}",
        f"Content-Length: {len(reply.body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in reply.headers.items()),
    ]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    for index in range(len(head)):
        if _gone(request):
            return web.Response(status=499)
        transport.write(head[index : index + 1])
        await asyncio.sleep(every_ms / 1000)
    transport.write(reply.body)
    transport.close()
    # The answer went out by hand; aiohttp has nowhere to write this one.
    return web.Response(status=499)
