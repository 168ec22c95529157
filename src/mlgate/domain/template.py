"""Connector templates: ``${parameters.x}`` / ``${credential.x}`` rendering with ML Commons' rules.

ML Commons keeps every parameter as a string and renders templates with Apache Commons Text's
``StringSubstitutor``; this module reproduces that engine (recursive values, ``:-`` defaults, the ``$$``
escape, unknown placeholders left verbatim, the cycle error) plus the request-parameter escaping and
the payload checks.

ml-commons: common/.../connector/{HttpConnector,Connector,AbstractConnector}.java,
common/.../utils/StringUtils.java, ml-algorithms/.../algorithms/remote/ConnectorUtils.java.

Deliberate divergences from ML Commons (docs/compatibility.md, "Stricter payload checks"):

* "is this JSON?" uses a strict parser, where Java accepts org.json/Gson's lenient syntax (unquoted
  keys or values); a lenient-only payload is therefore an ``Invalid payload`` here.
* a payload with ``${parameters`` but no complete placeholder is not reported as unfilled (Java fails
  with a 500 while building the message).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from mlgate.domain.errors import ExecutionError, InvalidRequestError

PARAMETERS_PREFIX = "${parameters."
CREDENTIAL_PREFIX = "${credential."
_SUFFIX = "}"
_ESCAPE = "$"
_DEFAULT_DELIMITER = ":-"
_TO_STRING = ".toString()"

# Java's \w is ASCII-only, hence re.ASCII.
_NULL_DEFAULT = re.compile(r'"\$\{parameters\.(\w+):-null}"', re.ASCII)
_PLACEHOLDER = re.compile(r"\$\{parameters\.([^}]+)}")
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\/\x80-\U0010ffff]')
_NON_ASCII = re.compile(r"[\x80-\U0010ffff]")
_HEADER_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

_ESCAPE_TABLE: dict[int, str] = {code: f"\\u{code:04X}" for code in range(0x20)}
_ESCAPE_TABLE.update(
    {
        ord("\b"): "\\b",
        ord("\t"): "\\t",
        ord("\n"): "\\n",
        ord("\f"): "\\f",
        ord("\r"): "\\r",
        ord('"'): '\\"',
        ord("\\"): "\\\\",
        ord("/"): "\\/",
    }
)

SKIP_MISSING_PARAMETERS = "skip_validating_missing_parameters"
NO_ESCAPE_PARAMS = "no_escape_params"

_MCP_PROTOCOLS = frozenset({"mcp_sse", "mcp_streamable_http"})
_BLOCKED_DYNAMIC_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "x-auth-token",
        "x-auth-header",
        "x-forwarded-for",
        "x-real-ip",
        "x-client-ip",
        "cf-connecting-ip",
        "true-client-ip",
        "x-originating-ip",
        "host",
        "x-forwarded-host",
        "x-forwarded-server",
        "forwarded",
    }
)
_MAX_HEADER_SIZE = 8192
_MAX_TOTAL_HEADERS_SIZE = 65536


# ---------------------------------------------------------------- values and escaping


def stringify_parameter(value: Any) -> str:
    """A request parameter value as ML Commons stores it (StringUtils.getParameterMap).

    Strings are kept verbatim; every other JSON value (including ``null``, which becomes the text
    ``null``) is compact-JSON-encoded.
    """
    if isinstance(value, str):
        return value
    return to_gson_json(value)


def to_gson_json(value: Any) -> str:
    """Compact JSON text the way ML Commons' Gson writes it (non-ASCII kept, U+2028/9 escaped)."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        # Integers beyond 64 bits: the standard library writes them exactly, with the same escapes.
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    # orjson and Gson agree on every escape except these two line separators.
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text


def gson_escape(text: str) -> str:
    """``text`` as the inside of a Gson JSON string literal (used by ``.toString()`` keys)."""
    return to_gson_json(text)[1:-1]


def escape_json(text: str) -> str:
    """Apache Commons Text ``escapeJson``, byte for byte (ConnectorUtils.escapeRemoteInferenceInputData).

    ``"`` ``\\`` ``/`` and BS/FF/LF/CR/TAB get their short escapes; other characters below 0x20 or above
    0x7F become ``\\uXXXX`` with upper-case hex, per UTF-16 code unit (so astral characters become a
    surrogate pair).
    """
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    escaped = text.translate(_ESCAPE_TABLE)
    if escaped.isascii():
        return escaped
    return _NON_ASCII.sub(_utf16_escape, escaped)


def _utf16_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFFFF:
        return f"\\u{code:04X}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04X}"


def is_json_container(text: str) -> bool:
    """Whether ``text`` is one JSON object or array (ML Commons' ``isJson``, parsed strictly)."""
    stripped = text.lstrip()
    if not stripped or stripped[0] not in "{[":
        return False
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def escape_parameters(
    params: Mapping[str, str | None], known_json: Collection[str] = ()
) -> dict[str, str | None]:
    """Escape stringified values as ML Commons does: JSON object/array text, ``no_escape_params`` kept.

    ``None`` stays ``None`` (a missing value for substitution). Used for request parameters and for the
    output of pre-process functions. ``known_json``: keys whose values are JSON object/array text by
    construction (encoded here from a dict or list), so they need no parse to tell.
    """
    no_escape_raw = params.get(NO_ESCAPE_PARAMS)
    no_escape: frozenset[str] = frozenset()
    if no_escape_raw:
        no_escape = frozenset(key.strip() for key in no_escape_raw.split(","))
    out: dict[str, str | None] = {}
    for key, value in params.items():
        if value is None or key in no_escape or key in known_json or is_json_container(value):
            out[key] = value
        else:
            out[key] = escape_json(value)
    return out


def prepare_request_parameters(raw: Mapping[str, Any]) -> dict[str, str | None]:
    """Request ``parameters`` as they enter the parameter map: stringified, then escaped."""
    containers = [key for key, value in raw.items() if isinstance(value, dict | list)]
    return escape_parameters({key: stringify_parameter(value) for key, value in raw.items()}, containers)


# ---------------------------------------------------------------- the substitution engine


def _split_default(expr: str, prefix: str) -> tuple[str, str | None]:
    delimiter = expr.find(_DEFAULT_DELIMITER)
    if delimiter < 0:
        return expr, None
    # Commons Text stops looking for ":-" at a nested prefix (nested substitution is off).
    nested = expr.find(prefix)
    if 0 <= nested < delimiter:
        return expr, None
    return expr[:delimiter], expr[delimiter + len(_DEFAULT_DELIMITER) :]


def _substitute(
    text: str,
    prefix: str,
    values: Mapping[str, str | None],
    active: list[str],
    origin: list[str],
) -> str:
    """One region of ``StringSubstitutor.substitute``: ``active`` is the stack of names being resolved,
    ``origin`` holds the top-level text as Commons Text snapshots it (for the cycle message)."""
    start = text.find(prefix)
    if start < 0:
        return text
    out: list[str] = []
    pos = 0
    while start >= 0:
        if start > pos:
            out.append(text[pos:start])
        if out and out[-1].endswith(_ESCAPE):
            # "$${parameters.x}": drop the escape, keep the placeholder text literally.
            out[-1] = out[-1][:-1]
            if not out[-1]:
                out.pop()
            out.append(_ESCAPE)
            pos = start + 1
        else:
            end = text.find(_SUFFIX, start + len(prefix))
            if end < 0:
                break
            name, default = _split_default(text[start + len(prefix) : end], prefix)
            if not origin:
                origin.append("".join(out) + text[start:])
            if name in active:
                chain = "->".join(active)
                raise ExecutionError(
                    f"Infinite loop in property interpolation of {origin[0]}: {chain}",
                    error_type="illegal_state_exception",
                )
            value = values.get(name)
            if value is None:
                value = default
            if value is None:
                out.append(text[start : end + 1])
            else:
                active.append(name)
                resolved = _substitute(value, prefix, values, active, origin)
                active.pop()
                if resolved:
                    out.append(resolved)
            pos = end + 1
        start = text.find(prefix, pos)
    out.append(text[pos:])
    return "".join(out)


def substitute(text: str, params: Mapping[str, str | None], prefix: str = PARAMETERS_PREFIX) -> str:
    """``${parameters.x}`` substitution for URLs and headers, as in :func:`render_payload` (no JSON check)."""
    if prefix not in text:
        return text
    return _substitute(text, prefix, params, [], [])


def substitute_json_encoded(text: str, params: Mapping[str, str | None]) -> str:
    """``${parameters.k}`` in pre/post function text becomes the JSON encoding of P[k].

    ml-commons: ConnectorUtils.fillProcessFunctionParameter.
    """
    if PARAMETERS_PREFIX not in text:
        return text
    encoded = {key: to_gson_json(value) for key, value in params.items()}
    return substitute(text, encoded)


# ---------------------------------------------------------------- request bodies


@dataclass(frozen=True)
class Template:
    """A request-body template analysed once, so rendering does no regex work on the template."""

    text: str
    has_placeholders: bool
    null_default_keys: tuple[str, ...]


def compile_template(text: str) -> Template:
    """Analyse ``text`` for :func:`render_payload` (keep the result per connector action)."""
    has_placeholders = PARAMETERS_PREFIX in text
    keys = tuple(dict.fromkeys(_NULL_DEFAULT.findall(text))) if has_placeholders else ()
    return Template(text=text, has_placeholders=has_placeholders, null_default_keys=keys)


def _with_to_string_keys(params: Mapping[str, str | None]) -> Mapping[str, str | None]:
    """Add ``<name>.toString()`` for every such reference found in a parameter value.

    ml-commons: StringUtils.parseParameters.
    """
    added: dict[str, str | None] = {}
    for value in params.values():
        if value is None or _TO_STRING not in value:
            continue
        for name in to_string_names(value):
            referenced = params.get(name)
            if referenced is not None:
                added[name + _TO_STRING] = gson_escape(referenced)
    if not added:
        return params
    merged = dict(params)
    merged.update(added)
    return merged


def to_string_names(value: str) -> list[str]:
    """The names of the ``${parameters.<name>.toString()}`` references in ``value``, left to right.

    The same as ``re.findall(r"\\$\\{parameters\\.(.+?)\\.toString\\(\\)\\}", value)`` (the shortest
    name, on one line), in linear time: that regex scans the rest of the text again from every opening
    without a close, which for a long request parameter holds the server for minutes.
    """
    close = _TO_STRING + "}"
    names: list[str] = []
    opening = value.find(PARAMETERS_PREFIX)
    end = newline = -1
    while opening >= 0:
        first = opening + len(PARAMETERS_PREFIX)
        # Both searches move forward only, so the whole loop reads the text a bounded number of times.
        if end < first + 1:
            end = value.find(close, first + 1)
            if end < 0:
                break
        if newline < first:
            newline = value.find("\n", first)
            newline = len(value) if newline < 0 else newline
        if newline < end:
            opening = value.find(PARAMETERS_PREFIX, opening + 1)
            continue
        names.append(value[first:end])
        opening = value.find(PARAMETERS_PREFIX, end + len(close))
    return names


def render_payload(template: str | Template | None, params: Mapping[str, str | None]) -> str | None:
    """The request body as HttpConnector.createPayload builds it (no validation: see :func:`check_payload`).

    No template ⇒ the ``http_body`` parameter. Otherwise: quoted ``"${parameters.k:-null}"`` with k
    missing ⇒ ``null``; ``.toString()`` helper keys; recursive substitution. Raises
    :class:`ExecutionError` (``illegal_state_exception``) on a reference cycle.
    """
    if template is None:
        return params.get("http_body")
    compiled = template if isinstance(template, Template) else compile_template(template)
    if not compiled.has_placeholders:
        return compiled.text
    text = compiled.text
    for key in compiled.null_default_keys:
        if params.get(key) is None:
            text = text.replace(f'"${{parameters.{key}:-null}}"', "null")
    return substitute(text, _with_to_string_keys(params))


def _is_json_or_ndjson(payload: str) -> bool:
    if not payload.strip():
        return False
    if is_json_container(payload):
        return True
    lines = (line.strip() for line in re.split(r"\r?\n", payload))
    return all(is_json_container(line) for line in lines if line)


def check_payload(
    payload: str | None,
    params: Mapping[str, str | None],
    *,
    from_template: bool = True,
) -> None:
    """Validate a rendered body: JSON (HttpConnector.createPayload), then filled (Connector.validatePayload).

    ``from_template=False`` (the body is the ``http_body`` parameter) skips the JSON check, as ML
    Commons validates only template-rendered bodies. The placeholder check is skipped when
    ``skip_validating_missing_parameters`` is ``true``.
    """
    if payload is None:
        return
    if from_template and not _is_json_or_ndjson(payload):
        raise InvalidRequestError(f"Invalid payload: {payload}")
    skip = params.get(SKIP_MISSING_PARAMETERS)
    if skip is not None and skip.lower() == "true":
        return
    if "${parameters" in payload:
        names = _PLACEHOLDER.findall(payload)
        if names:
            raise InvalidRequestError(f"Some parameter placeholder not filled in payload: {', '.join(names)}")


# ---------------------------------------------------------------- headers (AbstractConnector, ConnectorUtils)


def validate_header_templates(headers: Mapping[str, str | None], protocol: str) -> None:
    """Refuse ``${parameters.*}`` in security-sensitive headers and in any MCP connector header."""
    is_mcp = protocol.lower() in _MCP_PROTOCOLS
    for name, value in headers.items():
        if value is None or _PLACEHOLDER.search(value) is None:
            continue
        if is_mcp:
            raise InvalidRequestError(
                f"Header '{name}' cannot use ${{parameters.*}} placeholders in MCP connectors."
            )
        if name.lower() in _BLOCKED_DYNAMIC_HEADERS:
            raise InvalidRequestError(
                f"Header '{name}' cannot use ${{parameters.*}} placeholders for security reasons. "
                "Use ${credential.*} instead."
            )


def _java_length(text: str) -> int:
    """``String.length()``: UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _check_rendered_headers(headers: Mapping[str, str]) -> None:
    total = 0
    for name, value in headers.items():
        if _HEADER_CONTROL.search(value) is not None:
            raise InvalidRequestError("Header value contains invalid control character")
        size = _java_length(name) + _java_length(value)
        if size > _MAX_HEADER_SIZE:
            raise InvalidRequestError("Header size (key + value) exceeds 8KB limit")
        total += size
    if total > _MAX_TOTAL_HEADERS_SIZE:
        raise InvalidRequestError("Total headers size (key + value) exceeds 64KB limit")


def render_headers(
    headers: Mapping[str, str | None],
    params: Mapping[str, str | None],
    credential: Mapping[str, str | None],
    *,
    protocol: str = "http",
) -> dict[str, str]:
    """The action headers as sent: credentials, then per-request parameters, then ML Commons' checks.

    A header whose value is null is dropped (it cannot be sent).
    """
    rendered: dict[str, str] = {}
    for name, value in headers.items():
        if value is not None:
            rendered[name] = substitute(value, credential, CREDENTIAL_PREFIX)
    # ML Commons checks the credential-resolved values, so a secret cannot smuggle a placeholder in.
    validate_header_templates(rendered, protocol)
    resolved: dict[str, str] = {}
    for name, value in rendered.items():
        if PARAMETERS_PREFIX in value:
            value = substitute(value, params)
            if PARAMETERS_PREFIX in value:
                raise InvalidRequestError(
                    f"Header '{name}' contains unresolved placeholder. Required parameter is missing."
                )
        resolved[name] = value
    _check_rendered_headers(resolved)
    return resolved
