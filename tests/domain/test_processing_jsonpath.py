"""Jayway-compatible JSONPath reads used by response filters and built-in post functions."""

from __future__ import annotations

from typing import Any

import pytest

from mlgate.domain.jsonpath import JsonPathSyntaxError, PathMiss, read_json_path

DOC = {
    "data": [{"embedding": [1, 2]}, {"embedding": [3]}, {"x": 1}],
    "content": [{"text": "hi"}],
    "nothing": None,
    "n": 5,
    "big": 2**40,
    "f": 1.5,
    "s": "str",
    "with space": {"a.b": True},
}
PROVIDER = "This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JsonSmartJsonProvider'."


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DOC),
        ("$.n", 5),
        ("$.nothing", None),
        ("$['n']", 5),
        ('$["n"]', 5),
        ("$['with space']['a.b']", True),
        ("$.content[0].text", "hi"),
        ("$.data[-1]", {"x": 1}),
        ("$.data[*].embedding", [[1, 2], [3]]),
        ("$.data[0,1].embedding", [[1, 2], [3]]),
        ("$.data[0:2]", [{"embedding": [1, 2]}, {"embedding": [3]}]),
        ("$.data[1:]", [{"embedding": [3]}, {"x": 1}]),
        ("$.data[:1]", [{"embedding": [1, 2]}]),
        ("$..text", ["hi"]),
        ("$..embedding[0]", [1, 3]),
        ("$.content.*.text", ["hi"]),
        ("$.data[*].missing", []),
        ("$['n','s']", [5, "str"]),
        ("n", 5),
        ("content[0].text", "hi"),
        ("$.data.length()", 3),
        ("$.s.length()", 3),
        ("$.data[*].embedding.size()", 2),
        ("$.data[0].embedding.max()", 2.0),
        ("$.data[0].embedding.min()", 1.0),
        ("$.data[0].embedding.sum()", 3.0),
        ("$.data[0].embedding.avg()", 1.5),
        ("$.content[0].keys()", ["text"]),
        ("$.data.first()", {"embedding": [1, 2]}),
        ("$.data.last()", {"x": 1}),
        ("$.data[?(@.x == 1)]", [{"x": 1}]),
        ("$.data[?(@.x)].x", [1]),
    ],
)
def test_reads(path: str, expected: Any) -> None:
    assert read_json_path(DOC, path) == expected


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("$.missing", "No results for path: $['missing']"),
        ("$.content[3].text", "No results for path: $['content'][3]['text']"),
        ("$.content[0].missing", "No results for path: $['content'][0]['missing']"),
        ("$.missing.deeper", "Missing property in path $['missing']"),
        ("$.content[0].missing.deeper", "Missing property in path $['content'][0]['missing']"),
        ("$.nothing[0]", "The path $['nothing'] is null"),
        ("$.s[0]", "Filter: [0] can only be applied to arrays. Current context is: str"),
        (
            "$.n.x",
            f"Expected to find an object with property ['x'] in path $['n'] but found 'java.lang.Integer'. {PROVIDER}",
        ),
        (
            "$.big.x",
            f"Expected to find an object with property ['x'] in path $['big'] but found 'java.lang.Long'. {PROVIDER}",
        ),
        (
            "$.f.x",
            f"Expected to find an object with property ['x'] in path $['f'] but found 'java.lang.Double'. {PROVIDER}",
        ),
        (
            "$.s.x",
            f"Expected to find an object with property ['x'] in path $['s'] but found 'java.lang.String'. {PROVIDER}",
        ),
        (
            "$.data.embedding",
            f"Expected to find an object with property ['embedding'] in path $['data'] but found "
            f"'net.minidev.json.JSONArray'. {PROVIDER}",
        ),
        (
            "$.nothing.x",
            f"Expected to find an object with property ['x'] in path $['nothing'] but found 'null'. {PROVIDER}",
        ),
        ("$.missing.length()", "No results for path: $['missing']"),
    ],
)
def test_misses(path: str, reason: str) -> None:
    assert read_json_path(DOC, path) == PathMiss(reason)


@pytest.mark.parametrize("path", ["$.", "$.a[", "$.a[?(@.x ==]", "$.a.nofunc()", "$.a.length().b", "$x"])
def test_syntax_errors(path: str) -> None:
    with pytest.raises(JsonPathSyntaxError):
        read_json_path(DOC, path)


def test_top_level_array_document() -> None:
    assert read_json_path([[0.1], [0.2]], "$[*]") == [[0.1], [0.2]]
    assert read_json_path([[0.1], [0.2]], "$[1]") == [0.2]
