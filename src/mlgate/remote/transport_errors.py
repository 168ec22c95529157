"""Plain sentences for the HTTP client's failures.

aiohttp's exception texts may hold the repr of its internals — ``ServerDisconnectedError`` carries the
half-parsed ``<RawResponseMessage(…)>`` (with the provider's headers), payload errors the repr of the
parser's exception, connect errors a socket-address tuple. An error reason is read by people and
scripts, so each known kind gets a sentence of its own; anything else only its class name.
"""

from __future__ import annotations

import os
import ssl

import aiohttp


def describe_client_error(error: aiohttp.ClientError) -> str:
    """What went wrong, in words (never a repr)."""
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"Cannot connect to host {error.host}:{error.port}: {describe_os_error(error.os_error)}"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "Server disconnected before the response was complete"
    if isinstance(error, aiohttp.ClientPayloadError):
        return "Response payload is not completed"
    if isinstance(error, aiohttp.ClientResponseError):
        # The provider's bytes are not HTTP. The parser's message goes on to quote them (as a bytes
        # repr with a caret under the fault): its first line says what is wrong.
        message = error.message if isinstance(error.message, str) else ""
        detail = message.strip().split("\n", 1)[0].rstrip(":").strip()
        if "<" in detail:
            detail = ""
        return f"Invalid HTTP response from remote model{': ' + detail if detail else ''}"
    if isinstance(error, aiohttp.InvalidURL):
        return "Invalid URL"
    return type(error).__name__


def describe_os_error(error: OSError) -> str:
    """An OS or TLS error in words: ``Connection refused``, ``certificate verify failed: …``."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return f"TLS handshake failed: {error.reason or type(error).__name__}"
    if error.errno:
        return os.strerror(error.errno)
    return error.strerror or type(error).__name__
