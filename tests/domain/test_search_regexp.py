"""The regexp query's engine: Lucene syntax, the same answers as a regex reference, linear steps, limits."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.search_budget import SearchBudget
from mlgate.domain.search_regexp import RegexpPattern
from mlgate.domain.search_regexp_syntax import FLAGS

UNLIMITED = 10**12


def compile_(
    pattern: str, *, flags: int = FLAGS["ALL"], fold: bool = False, states: int = 10_000
) -> RegexpPattern:
    return RegexpPattern(
        pattern, flags=flags, case_insensitive=fold, max_states=states, budget=SearchBudget(UNLIMITED)
    )


def matches(pattern: str, text: str, **options: object) -> bool:
    return compile_(pattern, **options).matches(text, SearchBudget(UNLIMITED))  # type: ignore[arg-type]


# (Lucene syntax, Python syntax) pairs built together, so each generated pattern has its reference.
leaves = st.sampled_from(
    [("a", "a"), ("b", "b"), (".", "."), ("[ab]", "[ab]"), ("[^a]", "[^a]"), ("\\d", "[0-9]"), ("()", "")]
)


def compound(children: st.SearchStrategy[tuple[str, str]]) -> st.SearchStrategy[tuple[str, str]]:
    pairs = st.tuples(children, children)
    return st.one_of(
        pairs.map(lambda p: (p[0][0] + p[1][0], p[0][1] + p[1][1])),
        pairs.map(lambda p: (f"({p[0][0]}|{p[1][0]})", f"(?:{p[0][1]}|{p[1][1]})")),
        st.tuples(children, st.sampled_from(["*", "+", "?", "{2}", "{0,2}", "{1,}"])).map(
            lambda p: (f"({p[0][0]}){p[1]}", f"(?:{p[0][1]}){p[1]}")
        ),
    )


@settings(max_examples=500, deadline=None)
@given(st.recursive(leaves, compound, max_leaves=6), st.text(alphabet="ab1", max_size=8))
def test_regexp_agrees_with_the_regex_reference(pair: tuple[str, str], text: str) -> None:
    lucene, python = pair
    assert matches(lucene, text) is (re.fullmatch(python, text, re.DOTALL) is not None)


@pytest.mark.parametrize(
    ("pattern", "text", "options", "expected"),
    [
        ("gpt-4o.*", "gpt-4o-mini", {}, True),
        ("gpt", "gpt-4o", {}, False),  # the whole term must match
        ('"a.b"', "a.b", {}, True),  # a quoted literal: the dot is a dot
        ('"a.b"', "axb", {}, False),
        ("a@", "abc", {}, True),  # ANYSTRING is on by default
        ("a@", "a@", {"flags": FLAGS["NONE"]}, True),  # with the flag off @ is literal
        ("a#|b", "b", {}, True),  # EMPTY: # matches nothing
        ("a~b", "a~b", {"flags": FLAGS["NONE"]}, True),
        ("[a-c]{2}\\d+", "ca42", {}, True),
        ("[^a-c]+", "xyz", {}, True),
        ("\\w+\\s\\W", "ab_1 !", {}, True),
        ("COHERE.*", "cohere.embed", {"fold": True}, True),
        ("(a|aa)*b", "a" * 50, {}, False),
    ],
)
def test_regexp_examples(pattern: str, text: str, options: dict, expected: bool) -> None:
    assert matches(pattern, text, **options) is expected


@pytest.mark.parametrize(
    "pattern", ["(a|aa)*b", "(a*)*b", "(.*a){12}", "a.*a.*a.*a.*a.*b", "(a|b)*a(a|b){15}"]
)
def test_steps_grow_linearly_with_the_text(pattern: str) -> None:
    """Doubling the text at most doubles the steps (the one-off cost of building DFA states aside)."""
    spent = []
    for size in (4_000, 8_000, 16_000):
        budget = SearchBudget(UNLIMITED)
        compile_(pattern).matches("a" * size, budget)
        spent.append(budget.spent)
    assert spent[2] - spent[1] <= 2 * (spent[1] - spent[0]) + 100
    assert spent[2] <= 16_001 * 40  # at most a few steps per character, never exponential


@pytest.mark.parametrize(
    ("pattern", "options", "reason"),
    [
        (
            "a" * 1001,
            {},
            "The length of regex [1001] used in the Regexp Query request has exceeded the allowed maximum "
            "of [1000]. This maximum can be set by changing the [index.max_regex_length] index level setting.",
        ),
        ("(a", {}, "expected ')' at position 2"),
        ("[ab", {}, "expected ']' at position 3"),
        ("a{2", {}, "expected '}' at position 3"),
        ("a{,2}", {}, "integer expected at position 2"),
        ("a{3,1}", {}, "invalid repetition range(out of order): 3..1"),
        ("[b-a]", {}, "invalid range: from (b) cannot be > to (a)"),
        ("a)", {}, "end-of-string expected at position 1"),
        ("a|", {}, "unexpected end-of-string"),
        ("~a", {}, "the regexp complement operator [~] is not supported by mlgate"),
        ("a&b", {}, "the regexp intersection operator [&] is not supported by mlgate"),
        ("<1-10>", {}, "regexp intervals and named automata (<...>) are not supported by mlgate"),
        ("(" * 60 + "a" + ")" * 60, {}, "regexp nests groups or quantifiers more than 50 deep"),
    ],
)
def test_bad_patterns_are_refused_as_opensearch_does(pattern: str, options: dict, reason: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        compile_(pattern, **options)
    assert caught.value.error_type == "query_shard_exception"
    assert caught.value.message == f"failed to create query: {reason}"
    assert caught.value.caused_by == ("illegal_argument_exception", reason)


def test_an_automaton_over_the_state_limit_is_too_complex() -> None:
    with pytest.raises(InvalidRequestError, match=r"would require more than 100 effort\.$"):
        compile_("(a|b){1000}", states=100)
    assert matches("(a|b){3}", "aba", states=100)


def test_a_dfa_that_outgrows_its_cache_is_rebuilt_and_still_right() -> None:
    """Each new character is a new cached move: 120,000 distinct ones overflow the cache, which is rebuilt."""
    text = "".join(chr(0x10000 + i) for i in range(120_000))
    assert matches("[^a]+", text)
    assert not matches(".*a", text)
