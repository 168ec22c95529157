"""The compiled form of a search query: clauses that test one indexed document.

Built by ``search_query`` from the query DSL; each clause mirrors one OpenSearch query type and its
matching rules for keyword, text, numeric and boolean values (see ``search_field``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mlgate.domain.search_budget import VALUE_STEPS, SearchBudget
from mlgate.domain.search_field import (
    FieldValues,
    IndexedDoc,
    field_values,
    is_text_field,
    nested_documents,
)
from mlgate.domain.search_value import QueryValue


class Clause(Protocol):
    """One compiled query clause."""

    def test(self, doc: IndexedDoc) -> bool:
        """Whether ``doc`` satisfies the clause."""
        ...


@dataclass(frozen=True)
class MatchAll:
    """``match_all``: every document."""

    def test(self, doc: IndexedDoc) -> bool:
        return True


@dataclass(frozen=True)
class MatchNone:
    """``match_none``: no document."""

    def test(self, doc: IndexedDoc) -> bool:
        return False


@dataclass(frozen=True)
class Ids:
    """``ids``: documents with one of the ids."""

    ids: frozenset[str]

    def test(self, doc: IndexedDoc) -> bool:
        return doc.id in self.ids


@dataclass(frozen=True)
class Exists:
    """``exists``: the field has an indexed value (an object field: anything below it)."""

    field: str
    keyword_fields: frozenset[str]

    def test(self, doc: IndexedDoc) -> bool:
        if not field_values(doc, self.field, self.keyword_fields).is_empty():
            return True
        # An object field exists when anything below it is indexed.
        return doc.has_path(self.field)


@dataclass(frozen=True)
class Terms:
    """``term`` / ``terms``: exact values; on text fields a value must equal one whole token."""

    field: str
    values: tuple[QueryValue, ...]
    keyword_fields: frozenset[str]
    case_insensitive: bool = False

    @functools.cached_property
    def _texts(self) -> frozenset[str]:
        return frozenset(self._fold(value.text) for value in self.values)

    @functools.cached_property
    def _numbers(self) -> frozenset[int | float]:
        return frozenset(value.number for value in self.values if value.number is not None)

    @functools.cached_property
    def _booleans(self) -> frozenset[bool]:
        return frozenset(value.boolean for value in self.values if value.boolean is not None)

    def _fold(self, text: str) -> str:
        return text.lower() if self.case_insensitive else text

    def test(self, doc: IndexedDoc) -> bool:
        found = field_values(doc, self.field, self.keyword_fields)
        # Sets on both sides: the cost is the document's values, not the (up to 65,536) query terms.
        keywords = {self._fold(k) for k in found.keywords}
        tokens = {self._fold(t) for t in found.tokens()}
        doc.budget.charge(VALUE_STEPS * (len(keywords) + len(tokens)))
        return (
            not self._texts.isdisjoint(keywords)
            or not self._texts.isdisjoint(tokens)
            or any(number in self._numbers for number in found.numbers)
            or any(boolean in self._booleans for boolean in found.booleans)
        )


class Pattern(Protocol):
    """A compiled ``prefix``, ``wildcard`` or ``regexp`` value."""

    def matches(self, text: str, budget: SearchBudget) -> bool:
        """Whether ``text`` matches, charging the work to ``budget``."""
        ...


@dataclass(frozen=True)
class StringPattern:
    """``prefix`` / ``wildcard`` / ``regexp``: a test on keyword strings or on single tokens of text fields."""

    field: str
    pattern: Pattern
    keyword_fields: frozenset[str]

    def test(self, doc: IndexedDoc) -> bool:
        found = field_values(doc, self.field, self.keyword_fields)
        matches, budget = self.pattern.matches, doc.budget
        if any(matches(s, budget) for s in found.keywords):
            return True
        return any(matches(t, budget) for t in found.tokens())


@dataclass(frozen=True)
class Range:
    """``range``: numeric bounds against numbers, string bounds against keywords or text tokens."""

    field: str
    lower: QueryValue | None
    upper: QueryValue | None
    include_lower: bool
    include_upper: bool
    keyword_fields: frozenset[str]

    def _within(self, value: Any, lower: Any, upper: Any) -> bool:
        if lower is not None and (value < lower or (value == lower and not self.include_lower)):
            return False
        return not (upper is not None and (value > upper or (value == upper and not self.include_upper)))

    def test(self, doc: IndexedDoc) -> bool:
        found = field_values(doc, self.field, self.keyword_fields)
        lower, upper = self.lower, self.upper
        if (
            found.numbers
            and (lower is None or lower.number is not None)
            and (upper is None or upper.number is not None)
        ):
            low = lower.number if lower else None
            high = upper.number if upper else None
            if any(self._within(n, low, high) for n in found.numbers):
                return True
        low_text = lower.text if lower else None
        high_text = upper.text if upper else None
        strings = [*found.keywords, *found.tokens()]
        doc.budget.charge(VALUE_STEPS * len(strings))
        return any(self._within(s, low_text, high_text) for s in strings)


def _analysed_values(
    doc: IndexedDoc,
    field: str,
    query: QueryValue,
    tokens: tuple[str, ...],
    zero_terms_all: bool,
    keyword_fields: frozenset[str],
) -> bool | FieldValues:
    """What ``match`` and ``match_phrase`` share: the answer when it is already decided (a keyword or
    number field is an exact term; a query that analysed to nothing follows ``zero_terms_query``), else
    the field's text values for the caller to search."""
    if not is_text_field(field, keyword_fields):
        return Terms(field, (query,), keyword_fields).test(doc)
    if not tokens:
        return zero_terms_all
    found = field_values(doc, field, keyword_fields)
    if not found.texts:
        return Terms(field, (query,), keyword_fields).test(doc)
    return found


@dataclass(frozen=True)
class Match:
    """``match``: analysed query tokens against a text field; exact value on keyword/number fields."""

    field: str
    query: QueryValue
    tokens: tuple[str, ...]
    required: Callable[[int], int]
    zero_terms_all: bool
    keyword_fields: frozenset[str]

    def test(self, doc: IndexedDoc) -> bool:
        found = _analysed_values(
            doc, self.field, self.query, self.tokens, self.zero_terms_all, self.keyword_fields
        )
        if isinstance(found, bool):
            return found
        wanted = set(self.tokens)
        hits = len(wanted & found.tokens())
        return hits >= max(1, self.required(len(wanted)))


@dataclass(frozen=True)
class MatchPhrase:
    """``match_phrase`` (slop 0): the tokens in order within one value (arrays do not join phrases)."""

    field: str
    query: QueryValue
    tokens: tuple[str, ...]
    zero_terms_all: bool
    keyword_fields: frozenset[str]

    def test(self, doc: IndexedDoc) -> bool:
        found = _analysed_values(
            doc, self.field, self.query, self.tokens, self.zero_terms_all, self.keyword_fields
        )
        if isinstance(found, bool):
            return found
        width = len(self.tokens)
        for tokens in found.phrases:
            doc.budget.charge(VALUE_STEPS * len(tokens))
            if any(tokens[i : i + width] == self.tokens for i in range(len(tokens) - width + 1)):
                return True
        return False


@dataclass(frozen=True)
class AnyOf:
    """At least one clause matches (``multi_match`` over several fields)."""

    clauses: tuple[Clause, ...]

    def test(self, doc: IndexedDoc) -> bool:
        return any(clause.test(doc) for clause in self.clauses)


@dataclass(frozen=True)
class Bool:
    """``bool``: all ``must`` (and ``filter``), no ``must_not``, at least ``required_should`` ``should``."""

    must: tuple[Clause, ...]
    should: tuple[Clause, ...]
    must_not: tuple[Clause, ...]
    required_should: int

    def test(self, doc: IndexedDoc) -> bool:
        if not all(clause.test(doc) for clause in self.must):
            return False
        if any(clause.test(doc) for clause in self.must_not):
            return False
        if self.required_should == 0:
            return True
        return sum(1 for clause in self.should if clause.test(doc)) >= self.required_should


@dataclass(frozen=True)
class Nested:
    """``nested``: one object under ``path`` must satisfy the whole inner query on its own."""

    path: str
    query: Clause

    def test(self, doc: IndexedDoc) -> bool:
        return any(self.query.test(inner) for inner in nested_documents(doc, self.path))
