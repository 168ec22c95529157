"""JSONPath reads with Jayway JsonPath semantics (what ML Commons' ``response_filter`` uses).

A *definite* path (only properties and single indexes) yields the value or a miss; an *indefinite*
path (wildcard, deep scan ``..``, several indexes/properties, slice, filter) yields a list of every
match, possibly empty. Misses carry Jayway's ``PathNotFoundException`` wording, e.g.
``No results for path: $['embedding']`` or ``Missing property in path $['data']``.

The core syntax is evaluated here, byte-compatible with Jayway's messages. Divergences:

* filter expressions (``[?(...)]``) are delegated to python-jsonpath (result: a list of matches), with
  their regexes matched in linear time (``domain/jsonpath_regex.py``);
* of Jayway's path functions, the closing ``length()``, ``size()``, ``min()``, ``max()``, ``sum()``,
  ``avg()``, ``keys()``, ``first()`` and ``last()`` are supported;
* an index applied to a non-array on a definite path is reported as a miss (Jayway raises an
  ``InvalidPathException``, a 500 in ML Commons);
* several properties in one bracket (``['a','b']``) select each present value, where Jayway merges
  them into one object.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jsonpath

from mlgate.domain.jsonpath_regex import LinearJsonPathEnvironment

_PROVIDER = "com.jayway.jsonpath.spi.json.JsonSmartJsonProvider"
_INT_MAX = 2**31 - 1
_FUNCTIONS = frozenset({"length", "size", "keys", "first", "last", "min", "max", "sum", "avg"})
# Stateless but for python-jsonpath's bounded caches of compiled paths, like the library's default.
_FILTERS = LinearJsonPathEnvironment()


@dataclass(frozen=True)
class PathMiss:
    """A path that does not exist in the document; ``reason`` is Jayway's exception message."""

    reason: str


class JsonPathSyntaxError(ValueError):
    """The path cannot be parsed (Jayway's ``InvalidPathException``)."""


@dataclass(frozen=True)
class _Token:
    kind: str  # "prop", "index", "slice", "wild", "scan"
    names: tuple[str, ...] = ()
    indexes: tuple[int, ...] = ()
    bounds: tuple[int | None, int | None] = (None, None)

    @property
    def definite(self) -> bool:
        if self.kind == "prop":
            return len(self.names) == 1
        if self.kind == "index":
            return len(self.indexes) == 1
        return False

    def text(self) -> str:
        if self.kind == "prop":
            return "[" + ",".join(f"'{name}'" for name in self.names) + "]"
        if self.kind == "index":
            return "[" + ",".join(str(index) for index in self.indexes) + "]"
        if self.kind == "slice":
            start, end = self.bounds
            return f"[{'' if start is None else start}:{'' if end is None else end}]"
        if self.kind == "wild":
            return "[*]"
        return ".."


def read_json_path(document: Any, path: str) -> Any:
    """Read ``path`` from ``document``: the value (definite path), a list (indefinite) or a :class:`PathMiss`.

    Raises :class:`JsonPathSyntaxError` for a path that cannot be parsed.
    """
    text = path.strip()
    if not text.startswith("$"):
        # Jayway reads "a.b" as "$.a.b".
        text = "$." + text if not text.startswith("[") else "$" + text
    function = None
    if text.endswith("()") and "." in text:
        head, _, call = text.rpartition(".")
        if call[:-2].isidentifier() and not head.endswith("."):
            text, function = head, call[:-2]
            if function not in _FUNCTIONS:
                raise JsonPathSyntaxError(f"Function with name: {function} does not exist.")
    value = _read(document, text)
    if function is None or isinstance(value, PathMiss):
        return value
    return _apply_function(function, value)


def _read(document: Any, text: str) -> Any:
    tokens = _parse(text)
    if tokens is None:
        return _read_with_library(document, text)
    results: list[Any] = []
    miss = _evaluate(document, tokens, 0, "$", True, results)
    if miss is not None:
        return miss
    if all(token.definite for token in tokens):
        if not results:
            return PathMiss("No results for path: $" + "".join(token.text() for token in tokens))
        return results[0]
    return results


def _apply_function(name: str, value: Any) -> Any:
    if name in ("length", "size"):
        if isinstance(value, list | dict | str):
            return len(value)
        return PathMiss(f"Invalid function call: {name}() on a non-collection")
    if name == "keys" and isinstance(value, dict):
        return list(value)
    if name in ("first", "last") and isinstance(value, list):
        if not value:
            return PathMiss(f"No results for path: {name}()")
        return value[0] if name == "first" else value[-1]
    if name in ("min", "max", "sum", "avg") and isinstance(value, list):
        numbers = [item for item in value if isinstance(item, int | float) and not isinstance(item, bool)]
        if not numbers:
            return PathMiss(f"Aggregation function attempted to calculate value using empty array: {name}()")
        if name == "min":
            return float(min(numbers))
        if name == "max":
            return float(max(numbers))
        total = float(sum(numbers))
        return total if name == "sum" else total / len(numbers)
    return PathMiss(f"Invalid function call: {name}() on {type(value).__name__}")


def _read_with_library(document: Any, path: str) -> Any:
    try:
        return _FILTERS.findall(path, document)
    except jsonpath.JSONPathError as error:
        raise JsonPathSyntaxError(str(error)) from error


# ---------------------------------------------------------------- parsing


def _parse(path: str) -> list[_Token] | None:
    """Tokens of the core syntax, or ``None`` when the path needs the full library (filters, functions)."""
    tokens: list[_Token] = []
    pos = 1
    length = len(path)
    while pos < length:
        if path.startswith("..", pos):
            tokens.append(_Token("scan"))
            pos += 2
            if pos < length and path[pos] == "[":
                continue
            pos = _parse_dot_member(path, pos, tokens)
        elif path[pos] == ".":
            pos = _parse_dot_member(path, pos + 1, tokens)
        elif path[pos] == "[":
            close = _bracket_end(path, pos)
            token = _parse_bracket(path[pos + 1 : close].strip())
            if token is None:
                return None
            tokens.append(token)
            pos = close + 1
        else:
            raise JsonPathSyntaxError(f"Could not parse token starting at position {pos}. Path: {path}")
    return tokens


def _parse_dot_member(path: str, pos: int, tokens: list[_Token]) -> int:
    end = pos
    while end < len(path) and path[end] not in ".[":
        end += 1
    name = path[pos:end].strip()
    if not name:
        raise JsonPathSyntaxError(f"Path must not end with a '.' or '..': {path}")
    if name.endswith(")"):
        raise JsonPathSyntaxError(f"Function call is only supported at the end of a path: {path}")
    tokens.append(_Token("wild") if name == "*" else _Token("prop", names=(name,)))
    return end


def _bracket_end(path: str, start: int) -> int:
    quote = ""
    pos = start + 1
    while pos < len(path):
        char = path[pos]
        if quote:
            if char == "\\":
                pos += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "]":
            return pos
        pos += 1
    raise JsonPathSyntaxError(f"Property has not been closed - missing closing ]: {path}")


def _parse_bracket(inner: str) -> _Token | None:
    if inner == "*":
        return _Token("wild")
    if inner.startswith("?") or not inner:
        return None
    if inner[0] in "'\"":
        return _Token("prop", names=tuple(_split_names(inner)))
    if ":" in inner:
        start, _, end = inner.partition(":")
        try:
            return _Token("slice", bounds=(_optional_int(start), _optional_int(end)))
        except ValueError:
            return None
    try:
        return _Token("index", indexes=tuple(int(part) for part in inner.split(",")))
    except ValueError:
        return None


def _split_names(inner: str) -> Iterator[str]:
    for part in inner.split(","):
        name = part.strip()
        if len(name) < 2 or name[0] not in "'\"" or name[-1] != name[0]:
            raise JsonPathSyntaxError(f"Property must be quoted: {inner}")
        yield name[1:-1].replace("\\'", "'").replace('\\"', '"')


def _optional_int(text: str) -> int | None:
    stripped = text.strip()
    return int(stripped) if stripped else None


# ---------------------------------------------------------------- evaluation


def _java_class(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "net.minidev.json.JSONArray"
    if isinstance(value, str):
        return "java.lang.String"
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, int):
        return "java.lang.Integer" if -_INT_MAX - 1 <= value <= _INT_MAX else "java.lang.Long"
    if isinstance(value, float):
        return "java.lang.Double"
    return "net.minidev.json.JSONObject"


def _walk(node: Any) -> Iterator[Any]:
    """Every node in document order, the node itself first (Jayway's deep scan)."""
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from _walk(child)


def _evaluate(
    node: Any, tokens: list[_Token], i: int, where: str, upstream_definite: bool, out: list[Any]
) -> PathMiss | None:
    if i == len(tokens):
        out.append(node)
        return None
    token = tokens[i]
    leaf = i == len(tokens) - 1
    if token.kind == "scan":
        for descendant in _walk(node):
            _evaluate(descendant, tokens, i + 1, where + "..", False, out)
        return None
    if token.kind == "wild":
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            _evaluate(child, tokens, i + 1, where + "[*]", False, out)
        return None
    definite = upstream_definite and token.definite
    if token.kind == "prop":
        if not isinstance(node, dict):
            if not upstream_definite:
                return None
            return PathMiss(
                f"Expected to find an object with property {token.text()} in path {where} but found "
                f"'{_java_class(node)}'. "
                f"This is not a json object according to the JsonProvider: '{_PROVIDER}'."
            )
        for name in token.names:
            here = f"{where}['{name}']"
            if name not in node:
                if leaf or not definite:
                    continue
                return PathMiss(f"Missing property in path {here}")
            miss = _evaluate(node[name], tokens, i + 1, here, definite, out)
            if miss is not None:
                return miss
        return None
    if not isinstance(node, list):
        if not upstream_definite:
            return None
        if node is None:
            return PathMiss(f"The path {where} is null")
        return PathMiss(f"Filter: {token.text()} can only be applied to arrays. Current context is: {node}")
    if token.kind == "slice":
        start, end = token.bounds
        for child in node[start:end]:
            _evaluate(child, tokens, i + 1, where + token.text(), False, out)
        return None
    for index in token.indexes:
        effective = index + len(node) if index < 0 else index
        if 0 <= effective < len(node):
            miss = _evaluate(node[effective], tokens, i + 1, f"{where}[{index}]", definite, out)
            if miss is not None:
                return miss
    return None
