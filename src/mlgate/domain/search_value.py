"""Values written in a query: terms, range bounds, string patterns and ``minimum_should_match``.

A query value is kept in every form a document value may be compared with (string, number, boolean),
because OpenSearch coerces the query side to the field's type: ``{"term": {"version": "1"}}`` matches
the number 1, and ``true`` matches the keyword ``"true"``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.search_field import is_number

PARSING = "parsing_exception"
_INTEGER = re.compile(r"[+-]?\d+")
_NUMERIC = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def parsing_error(reason: str) -> InvalidRequestError:
    """A 400 with OpenSearch's ``parsing_exception`` type."""
    return InvalidRequestError(reason, error_type=PARSING)


def query_error(reason: str) -> InvalidRequestError:
    """A query that cannot be built, as OpenSearch reports it when turning the DSL into a Lucene query."""
    return InvalidRequestError(
        f"failed to create query: {reason}",
        error_type="query_shard_exception",
        caused_by=("illegal_argument_exception", reason),
    )


@dataclass(frozen=True)
class QueryValue:
    """A term or bound from a query, in every form a document value might be compared with."""

    text: str
    number: int | float | None
    boolean: bool | None


def to_value(raw: Any, query_name: str) -> QueryValue:
    """Read a term (a JSON scalar) of query ``query_name``; arrays, objects and null are refused."""
    if raw is None:
        raise InvalidRequestError(f"[{query_name}] value cannot be null")
    if isinstance(raw, bool):
        return QueryValue(text="true" if raw else "false", number=None, boolean=raw)
    if is_number(raw):
        return QueryValue(text=str(raw), number=raw, boolean=None)
    if isinstance(raw, str):
        number: int | float | None = None
        if _INTEGER.fullmatch(raw.strip()):
            number = int(raw)
        elif _NUMERIC.fullmatch(raw.strip()):
            number = float(raw)
        boolean = {"true": True, "false": False}.get(raw)
        return QueryValue(text=raw, number=number, boolean=boolean)
    raise parsing_error(f"[{query_name}] query does not support array of values")


def to_bound(raw: Any, query_name: str) -> QueryValue:
    """Read a ``range`` bound; an ISO-8601 date also gets its epoch-millisecond number form."""
    value = to_value(raw, query_name)
    if isinstance(raw, str) and value.number is None:
        if raw.startswith("now"):
            raise InvalidRequestError(f"date math [{raw}] is not supported", error_type="parse_exception")
        # Dates are stored as epoch milliseconds; an ISO-8601 bound compares against them.
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            return value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return QueryValue(text=raw, number=int(moment.timestamp() * 1000), boolean=None)
    return value


def minimum_should_match(spec: Any, owner: str) -> Callable[[int], int]:
    """Parse a ``minimum_should_match`` value into "how many of n optional clauses are required"."""
    if spec is None:
        return lambda n: 0
    text = str(spec).strip() if isinstance(spec, str | int) and not isinstance(spec, bool) else None
    match = re.fullmatch(r"(-?)(\d+)(%?)", text or "")
    if match is None:
        raise parsing_error(f"[{owner}] query does not support [minimum_should_match] value [{spec}]")
    negative, amount, percent = match.group(1) == "-", int(match.group(2)), match.group(3) == "%"

    def required(n: int) -> int:
        count = math.floor(n * amount / 100) if percent else amount
        return max(0, n - count if negative else count)

    return required
