"""Linear-time regexes: Java constructs refused by name, Java escapes rewritten, match semantics."""

from __future__ import annotations

import pytest

from mlgate.domain.linear_regex import MAX_PROGRAM_SIZE, NOT_LINEAR, RegexError, compile_regex


@pytest.mark.parametrize(
    ("pattern", "named"),
    [
        (r"(a)\1", r'the backreference "\1"'),
        (r"(?<x>a)\k<x>", r'the named backreference "\k<…>"'),
        (r"(?=a).*", 'the lookahead "(?="'),
        (r"^(?!evil).*$", 'the lookahead "(?!"'),
        (r".*(?<=a)b", 'the lookbehind "(?<="'),
        (r".*(?<!a)b", 'the lookbehind "(?<!"'),
        (r"(?>a|ab)c", 'the atomic group "(?>"'),
        (r"a*+b", 'the possessive quantifier "*+"'),
        (r"a++b", 'the possessive quantifier "++"'),
        (r"a?+b", 'the possessive quantifier "?+"'),
        (r"a{2,3}+", 'the possessive quantifier "{2,3}+"'),
    ],
)
def test_constructs_without_a_linear_match_are_refused_by_name(pattern: str, named: str) -> None:
    with pytest.raises(RegexError) as caught:
        compile_regex(pattern)
    assert caught.value.unsupported
    assert caught.value.reason == f"{named} {NOT_LINEAR}"


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(", "missing ): ("),
        ("[z-a]", "invalid character class range: z-a"),
        ("a**", "bad repetition operator: **"),
    ],
)
def test_a_pattern_that_does_not_parse_is_invalid_with_re2s_reason(pattern: str, reason: str) -> None:
    with pytest.raises(RegexError) as caught:
        compile_regex(pattern)
    assert not caught.value.unsupported
    assert caught.value.reason == reason


def test_a_program_over_the_limit_is_unsupported() -> None:
    assert compile_regex("(?s).{1000}").program_size <= MAX_PROGRAM_SIZE
    with pytest.raises(RegexError) as caught:
        compile_regex("(?s).{1000}x.{1000}")
    assert caught.value.unsupported
    assert caught.value.reason.startswith("the pattern compiles to ")
    assert caught.value.reason.endswith(f"RE2 instructions, more than the {MAX_PROGRAM_SIZE} allowed")
    with pytest.raises(RegexError) as too_big:
        compile_regex(r"\p{L}{500}")  # past the memory a pattern may use
    assert too_big.value.unsupported


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        (r"\u00e9t\u00E9", "été", True),
        (r"[\u4e00-\u9fa5]+", "中文", True),
        (r"[\u4e00-\u9fa5]+", "latin", False),
        (r"\uD83D\uDE00", "\U0001f600", True),  # a UTF-16 surrogate pair is one character
        (r"\\u0041", r"\u0041", True),  # an escaped backslash, then plain text
        (r"\Q\u0041\E", r"\u0041", True),  # quoted text is left alone
        (r"done\Z", "done", True),
        (r"done\Z", "done\n", False),  # Java matches() must reach the end too
    ],
)
def test_java_escapes_are_rewritten(pattern: str, text: str, expected: bool) -> None:
    assert compile_regex(pattern).fullmatch(text) is expected


def test_fullmatch_search_and_case() -> None:
    regex = compile_regex("forbidden")
    assert not regex.fullmatch("a forbidden topic")
    assert regex.search("a forbidden topic")
    assert regex.fullmatch("forbidden")
    assert not regex.search("FORBIDDEN")
    assert compile_regex("forbidden", ignore_case=True).search("FORBIDDEN")
    assert compile_regex("(?<name>a)b").fullmatch("ab")  # Java's named group syntax
    # `.` is any character but a newline, as in Java; a lone surrogate is a character too.
    assert not compile_regex("a.b").fullmatch("a\nb")
    assert compile_regex("a.b").fullmatch("a\ud800b")


def test_catastrophic_backtracking_patterns_answer() -> None:
    # A backtracking engine needs about 2^n steps for each of these; RE2 scans the text once.
    text = "a" * 100_000 + "!"
    assert not compile_regex("(a+)+$").fullmatch(text)
    assert not compile_regex("(a|aa)*b").search(text)
    assert not compile_regex(r".*(a+)+b.*").fullmatch(text)
    assert compile_regex(r"(a*)*!").fullmatch(text)


def test_cost_bounds_the_work() -> None:
    regex = compile_regex(".*x.*")
    assert regex.cost("") == regex.program_size
    assert regex.cost("abc") == 4 * regex.program_size
