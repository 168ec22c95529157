"""wildcard, prefix and _source patterns: the same answers as a regex reference, in bounded steps."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.search_budget import CALL_STEPS, SearchBudget, SearchBudgetExceededError
from mlgate.domain.search_pattern import PrefixPattern, WildcardPattern, simple_match

UNLIMITED = 10**12


def reference_wildcard(pattern: str) -> str:
    """Lucene's wildcard rules as a Python regex (fine as a reference on tiny inputs only)."""
    parts: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            parts.append(re.escape(next(chars, "\\")))
        elif char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


def wildcard(pattern: str, text: str, *, fold: bool = False) -> bool:
    return WildcardPattern.compile(pattern, fold).matches(text, SearchBudget(UNLIMITED))


patterns = st.text(alphabet="ab*?\\", max_size=9)
texts = st.text(alphabet="ab*?\\", max_size=12)


@settings(max_examples=600, deadline=None)
@given(patterns, texts)
def test_wildcard_agrees_with_the_regex_reference(pattern: str, text: str) -> None:
    expected = re.fullmatch(reference_wildcard(pattern), text, re.DOTALL) is not None
    assert wildcard(pattern, text) is expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aAb*?", max_size=8), st.text(alphabet="aAbB", max_size=10))
def test_case_insensitive_wildcard_agrees_with_the_reference(pattern: str, text: str) -> None:
    expected = re.fullmatch(reference_wildcard(pattern), text, re.DOTALL | re.IGNORECASE) is not None
    assert wildcard(pattern, text, fold=True) is expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab.*", max_size=8), st.text(alphabet="ab.*", max_size=10))
def test_source_filter_glob_agrees_with_the_reference(pattern: str, text: str) -> None:
    reference = ".*".join(re.escape(part) for part in pattern.split("*"))
    assert simple_match(pattern, text) is (re.fullmatch(reference, text, re.DOTALL) is not None)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("*", "", True),
        ("", "", True),
        ("", "a", False),
        ("a\\*", "a*", True),
        ("a\\*", "ab", False),
        ("ab\\", "ab\\", True),  # a trailing backslash is a literal one, as in Lucene
        ("*?*?*?*?*?*?*?*?*Z", "x" * 7 + "Z", False),  # eight ``?`` need eight characters before Z
        ("*?*?*?*?*?*?*?*?*Z", "x" * 8 + "Z", True),
        ("a*b*c", "abbbcbc", True),
        ("a?c*", "abcdef", True),
    ],
)
def test_wildcard_examples(pattern: str, text: str, expected: bool) -> None:
    assert wildcard(pattern, text) is expected


def test_prefix_matches_starts_and_folds_case() -> None:
    budget = SearchBudget(UNLIMITED)
    assert PrefixPattern.compile("emb").matches("embeddings", budget)
    assert not PrefixPattern.compile("Emb").matches("embeddings", budget)
    assert PrefixPattern.compile("Emb", case_insensitive=True).matches("EMBEDDINGS", budget)


HOSTILE = "*?*?*?*?*?*?*?*?*Z"  # 22.6 s on one 5,000-character value with the backtracking regex


@pytest.mark.parametrize(
    "pattern",
    [HOSTILE, "*a*a*a*a*a*a*a*a*a*a*b", "*a?a?a?a?a?a?a?a?b*", "a*?*?*?*?*b*?*?*?*?*c", "*aaaaaaaaaab*"],
)
def test_pathological_patterns_take_bounded_steps(pattern: str) -> None:
    """Steps stay within (text + 1) × (pattern + 1): no backtracking blow-up, whatever the pattern."""
    for size in (1_000, 5_000, 20_000):
        budget = SearchBudget(UNLIMITED)
        assert WildcardPattern.compile(pattern).matches("a" * size, budget) is False
        assert budget.spent <= CALL_STEPS + (size + 1) * (len(pattern) + 1)


def test_the_reported_pattern_is_answered_in_a_handful_of_steps() -> None:
    budget = SearchBudget(UNLIMITED)
    assert WildcardPattern.compile(HOSTILE).matches("a" * 5_000, budget) is False
    assert budget.spent <= CALL_STEPS + len(HOSTILE)  # the call and its pieces, not the text


def test_matching_stops_at_the_budget() -> None:
    budget = SearchBudget(limit=1_000)
    with pytest.raises(SearchBudgetExceededError, match=r"more than \[1000\] matching steps"):
        WildcardPattern.compile("*a?a?a?b*").matches("a" * 100_000, budget)
    assert budget.spent <= 1_000 + 100_001  # one find call over the text at most past the limit


def test_a_wildcard_too_large_to_determinize_is_refused_as_lucene_does() -> None:
    WildcardPattern.compile("a" * 20_000)  # no star: a plain string, whatever its length
    WildcardPattern.compile("*" + "a" * 9_999)
    with pytest.raises(InvalidRequestError) as caught:
        WildcardPattern.compile("*" + "a" * 10_000)
    assert caught.value.error_type == "query_shard_exception"
    assert caught.value.message == (
        "failed to create query: Determinizing automaton with 10001 states and 10001 transitions would "
        "require more than 10000 effort."
    )
