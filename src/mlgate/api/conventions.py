"""HTTP conventions as OpenSearch's REST layer has them: Content-Type rules, ``Allow``, id length.

Sources: OpenSearch ``server/src/main/java/org/opensearch/rest/RestController.java`` (406, 405 and
OPTIONS answers), ``RestRequest.parseContentType`` (the header's syntax) and
``DocWriteRequest.validateDocIdLength`` (ids of at most 512 bytes).
"""

from __future__ import annotations

import re

from mlgate.domain.errors import InvalidRequestError

MAX_ID_BYTES = 512
# RFC 7230 token characters: a media type is token "/" token.
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")
_PARAMETERS = re.compile(r"[ \t]*;")
# The JSON media types OpenSearch accepts; its SMILE, YAML and CBOR are not parsed here (docs/api.md).
_JSON_TYPES = frozenset({"application/json", "application/x-ndjson", "application/vnd.opensearch+json"})
# What clients send almost always: valid JSON types, answered without parsing (the hot path).
_COMMON_JSON = frozenset(
    {"application/json", "application/json; charset=UTF-8", "application/json; charset=utf-8"}
)


def check_content_type_syntax(raw: str) -> None:
    """A Content-Type that is not ``type/subtype[;params]`` is a 400 ``content_type_header_exception``."""
    if raw in _COMMON_JSON:
        return
    parts = _PARAMETERS.split(raw, maxsplit=1)[0].split("/")
    while parts and not parts[-1]:  # as Java's String.split, which drops trailing empty strings
        parts.pop()
    if len(parts) != 2 or not _TOKEN.fullmatch(parts[0]) or not _TOKEN.fullmatch(parts[1].strip()):
        reason = f"invalid Content-Type header [{raw}]"
        raise InvalidRequestError(
            f"java.lang.IllegalArgumentException: {reason}",
            error_type="content_type_header_exception",
            caused_by=("illegal_argument_exception", reason),
        )


def is_json_content_type(raw: str | None) -> bool:
    """True when a body declared with this (syntactically valid) Content-Type is JSON."""
    if raw is None:
        return False
    if raw in _COMMON_JSON:
        return True
    return _PARAMETERS.split(raw, maxsplit=1)[0].strip().lower() in _JSON_TYPES


def allow_header(methods: list[str]) -> list[tuple[bytes, bytes]]:
    """``Allow: GET,PUT`` (OpenSearch joins the methods without spaces), or nothing."""
    return [(b"allow", ",".join(methods).encode())] if methods else []


def check_id_lengths(params: dict[str, str]) -> None:
    """Every path parameter is an id: longer than 512 UTF-8 bytes is a 400, as OpenSearch validates a
    request (after authentication and authorization)."""
    for value in params.values():
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > MAX_ID_BYTES:
            raise InvalidRequestError(
                f"Validation Failed: 1: id [{value}] is too long, must be no longer than "
                f"{MAX_ID_BYTES} bytes but was: {size};",
                error_type="action_request_validation_exception",
            )
