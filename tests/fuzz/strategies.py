"""Hypothesis strategies that build HTTP requests from mlgate's own OpenAPI document.

Each request picks an operation of the document, fills its path parameters (ids that exist, hostile
ids, random text), adds a few query parameters and a body: mostly one shaped by the operation's body
schema (with values of the wrong type mixed in), sometimes any JSON, sometimes bytes that are no JSON.
Headers vary the Content-Type; the caller adds the credentials of its pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from hypothesis import strategies as st

Schema = dict[str, Any]


@dataclass(frozen=True)
class FuzzRequest:
    """One request, ready to send (``target`` is the percent-encoded path and query)."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None

    def describe(self) -> str:
        """A short reproduction line."""
        body = (self.body or b"")[:300]
        return f"{self.method} {self.target[:300]} headers={list(self.headers)} body={body!r}"


HOSTILE_IDS = [
    "a\0b",
    "a" * 513,
    "é" * 300,
    "_search",
    "..",
    "%",
    "a/b",
    " ",
    "🙂",
    "\u202e",
    "${parameters.x}",
]
STRINGS = [
    "",
    "\0",
    "*",
    "?*",
    ".*",
    "a" * 600,
    "${parameters.input}",
    "${credential.key}",
    "remote",
    "text_embedding",
    "connector.pre_process.openai.embedding",
    "connector.post_process.default.embedding",
    "public",
    "restricted",
    "private",
    "http://127.0.0.1:1/x",
    "null",
    "{}",
]
QUERY_KEYS = [
    "pretty",
    "deploy",
    "algorithm",
    "format",
    "view",
    "size",
    "from",
    "include_defaults",
    "flat_settings",
    "model_ids",
    "models",
    "stat",
    "error_trace",
    "filter_path",
    "timeout",
]
CONTENT_TYPES = [
    "text/plain",
    "garbage",
    "application/json; charset=UTF-8",
    "application/x-ndjson",
    "application/yaml",
    "",
]
OTHER_METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH"]

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
_strings = st.one_of(_text, st.sampled_from(STRINGS))
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    _strings,
)
json_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_strings, inner, max_size=4)),
    max_leaves=12,
)


def from_schema(schema: Schema, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values for a (loose) JSON Schema, one in five of them anything JSON instead."""
    typed = _typed(schema, depth)
    return st.one_of(typed, typed, typed, typed, json_values)


def _typed(schema: Schema, depth: int) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([_typed({**schema, "type": k}, depth) for k in kind])
    if kind == "string":
        return _strings
    if kind == "integer":
        return st.one_of(st.integers(min_value=-2, max_value=100), st.sampled_from([2**31, 2**63, -(2**63)]))
    if kind == "number":
        return st.one_of(st.integers(min_value=-2, max_value=100), st.floats(allow_nan=False))
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), depth + 1), max_size=4)
    if kind == "object":
        properties = schema.get("properties")
        if properties and depth < 4:
            return st.fixed_dictionaries(
                {}, optional={key: from_schema(value, depth + 1) for key, value in properties.items()}
            )
        extra = schema.get("additionalProperties")
        values = from_schema(extra, depth + 1) if isinstance(extra, dict) else json_values
        return st.dictionaries(_strings, values, max_size=4)
    return json_values


@dataclass(frozen=True, eq=False)  # hashed by identity: it keys the per-operation strategies
class Operation:
    """What the document says about one method + path."""

    method: str
    path: str
    params: tuple[str, ...]
    body: Schema | None


def operations(document: Mapping[str, Any]) -> list[Operation]:
    """Every operation of the OpenAPI document."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            params = tuple(p["name"] for p in operation.get("parameters", []) if p["in"] == "path")
            body = (
                operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            )
            found.append(Operation(method.upper(), path, params, body))
    return found


def _path(operation: Operation, ids: Mapping[str, Sequence[str]]) -> st.SearchStrategy[str]:
    values = {
        name: st.one_of(
            st.sampled_from(list(ids.get(name, ())) or ["x"]), st.sampled_from(HOSTILE_IDS), _text
        )
        for name in operation.params
    }

    def fill(chosen: dict[str, str]) -> str:
        path = operation.path
        for name, value in chosen.items():
            path = path.replace("{" + name + "}", quote(value, safe=""))
        return path

    return st.fixed_dictionaries(values).map(fill)


def _body(operation: Operation) -> st.SearchStrategy[bytes | None]:
    if operation.body is None:
        return st.one_of(st.none(), st.none(), st.none(), json_values.map(orjson.dumps))
    return st.one_of(
        from_schema(operation.body).map(orjson.dumps),
        from_schema(operation.body).map(orjson.dumps),
        from_schema(operation.body).map(orjson.dumps),
        st.none(),
        st.binary(max_size=64),
        st.sampled_from([b"{", b"[]", b"null", b'{"a":1}{"b":2}', b"\xff\xfe", b'{"a":"\\ud800"}']),
    )


def requests(document: Mapping[str, Any], ids: Mapping[str, Sequence[str]]) -> st.SearchStrategy[FuzzRequest]:
    """Requests for the operations of ``document``; ``ids`` maps a path parameter name to known ids."""

    ops = operations(document)
    paths = {op: _path(op, ids) for op in ops}
    bodies = {op: _body(op) for op in ops}

    @st.composite
    def build(draw: st.DrawFn) -> FuzzRequest:
        operation = draw(st.sampled_from(ops))
        method = operation.method
        if draw(st.integers(0, 19)) == 0:  # now and then, a method the path may not take
            method = draw(st.sampled_from(OTHER_METHODS))
        query = draw(st.dictionaries(st.one_of(st.sampled_from(QUERY_KEYS), _text), _strings, max_size=3))
        target = draw(paths[operation]) + (f"?{urlencode(query)}" if query else "")
        headers: list[tuple[str, str]] = [("content-type", "application/json")]
        if draw(st.integers(0, 9)) == 0:
            content_type = draw(st.one_of(st.none(), st.sampled_from(CONTENT_TYPES)))
            headers = [] if content_type is None else [("content-type", content_type)]
        return FuzzRequest(method, target, tuple(headers), draw(bodies[operation]))

    return build()
