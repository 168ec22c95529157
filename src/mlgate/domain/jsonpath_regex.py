"""Regexes in JSONPath filters (``[?(@.name =~ /…/i)]``, ``match()``, ``search()``) matched in linear time.

A ``response_filter`` comes from the connector or from the predict request, and its filter runs on the
provider's reply; python-jsonpath compiles these regexes with Python's backtracking ``re``, where
``(a+)+$`` against thirty ``a`` and a ``!`` takes half a minute. Here they compile through
``domain/linear_regex.py``: a ``=~`` regex that cannot run is a syntax error of the path (Jayway's
``=~`` takes a Java regex, so the same rules apply); ``match()`` and ``search()`` treat it as no match,
as RFC 9535 does for an invalid pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

import jsonpath
from jsonpath.filter import BaseExpression, RegexLiteral
from jsonpath.function_extensions import Match, Search
from jsonpath.stream import TokenStream
from jsonpath.token import TOKEN_RE_FLAGS

from mlgate.domain.linear_regex import LinearRegex, RegexError, compile_regex

# python-jsonpath's flags, as inline groups (``a``, ASCII classes, is what RE2 does already).
_FLAGS = {"i": "(?i)", "m": "(?m)", "s": "(?s)", "a": ""}


@dataclass(frozen=True)
class _Pattern:
    """The part of ``re.Pattern`` python-jsonpath uses, backed by a linear-time regex."""

    pattern: str
    regex: LinearRegex
    flags: int = 0

    def fullmatch(self, text: str) -> bool:
        return self.regex.fullmatch(text)

    def search(self, text: str) -> bool:
        return self.regex.search(text)


def _compile(pattern: str, flags: str = "") -> re.Pattern[str]:
    prefix = "".join(_FLAGS.get(flag, "") for flag in sorted(set(flags)))
    return cast("re.Pattern[str]", _Pattern(pattern, compile_regex(prefix + pattern)))


class _Parser(jsonpath.Parser):
    def parse_regex(self, stream: TokenStream) -> BaseExpression:
        token = stream.current()
        flags = ""
        if stream.peek().kind == TOKEN_RE_FLAGS:
            stream.next()
            flags = stream.next().value
        try:
            return RegexLiteral(value=_compile(token.value, flags))
        except RegexError as error:
            raise jsonpath.JSONPathSyntaxError(
                f"Invalid regex pattern: {token.value}; {error.reason}", token=token
            ) from None


class _Match(Match):
    def check_cache(self, pattern: str) -> re.Pattern[str] | None:
        return _compiled_or_none(pattern)


class _Search(Search):
    def check_cache(self, pattern: str) -> re.Pattern[str] | None:
        return _compiled_or_none(pattern)


def _compiled_or_none(pattern: str) -> re.Pattern[str] | None:
    try:
        return _compile(pattern)
    except RegexError:
        return None


class LinearJsonPathEnvironment(jsonpath.JSONPathEnvironment):
    """python-jsonpath with every filter regex matched in linear time."""

    parser_class = _Parser

    def setup_function_extensions(self) -> None:
        """The library's functions, with ``match`` and ``search`` on linear-time regexes."""
        super().setup_function_extensions()
        self.function_extensions["match"] = _Match()
        self.function_extensions["search"] = _Search()
