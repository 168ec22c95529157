"""Sandbox limits and compile-time errors."""

from __future__ import annotations

import dataclasses

import pytest

from mlgate.painless import Limits, ScriptCompileError, ScriptError, ScriptLimitError, compile_script


def test_default_limits() -> None:
    limits = Limits()
    assert (limits.max_steps, limits.max_depth, limits.max_output_chars) == (1_000_000, 100, 10_000_000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.max_steps = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    "source",
    [
        "while (true) {}",
        "for (;;) { def x = 1 }",
        "int i = 0; while (i >= 0) { i = 0 }",
        "do { } while (true);",
    ],
)
def test_infinite_loops_hit_the_step_limit_with_default_limits(source: str) -> None:
    with pytest.raises(ScriptLimitError) as caught:
        compile_script(source).execute({})
    assert "maximum number of statements" in caught.value.message


def test_steps_count_statements_too() -> None:
    source = "def x = 0;" + "x = 1;" * 19
    assert compile_script(source, limits=Limits(max_steps=20)).execute({}) == 1  # the last expression
    with pytest.raises(ScriptLimitError):
        compile_script(source, limits=Limits(max_steps=19)).execute({})


def test_a_bounded_loop_under_the_limit_runs() -> None:
    script = compile_script(
        "int s = 0; for (int i = 0; i < 1000; i++) { s += i } return s", limits=Limits(max_steps=3000)
    )
    assert script.execute({}) == 499500


def test_unbounded_recursion_hits_the_depth_limit() -> None:
    with pytest.raises(ScriptLimitError) as caught:
        compile_script("int f(int n) { return f(n + 1) } return f(0)").execute({})
    assert "call depth" in caught.value.message


def test_recursion_within_the_depth_limit_runs() -> None:
    source = "int f(int n) { return n == 0 ? 0 : 1 + f(n - 1) } return f(params.n)"
    script = compile_script(source, limits=Limits(max_depth=10))
    assert script.execute({"n": 9}) == 9  # ten nested calls
    with pytest.raises(ScriptLimitError):
        script.execute({"n": 10})
    assert compile_script(source).execute({"n": 90}) == 90


def test_a_depth_limit_beyond_the_python_stack_still_ends_in_a_limit_error() -> None:
    script = compile_script(
        "int f(int n) { return f(n + 1) } return f(0)", limits=Limits(max_depth=1_000_000)
    )
    with pytest.raises(ScriptLimitError):
        script.execute({})


@pytest.mark.parametrize(
    "source",
    [
        "String s = 'xxxxxxxxxx'; while (true) { s = s + s }",
        "String s = 'xxxxxxxxxx'; while (true) { s += s }",
        "def sb = new StringBuilder('xxxxxxxxxx'); while (true) { sb.append(sb.toString()) }",
        "String s = 'xxxxxxxxxx'; while (true) { s = s.replace('x', 'xx') }",
        "return 'x'.repeat(2000000)",
        "def l = [1, 2]; while (true) { l.addAll(l) }",
        "return new int[2000000]",
        "return new int[2000][2000]",
        "def l = []; while (true) { l.add(l.size()) }",
    ],
)
def test_huge_strings_and_collections_hit_the_size_limit(source: str) -> None:
    limits = Limits(max_steps=100_000_000, max_output_chars=1_000_000)
    with pytest.raises(ScriptLimitError):
        compile_script(source, limits=limits).execute({})


def test_limit_errors_are_script_errors() -> None:
    assert issubclass(ScriptLimitError, ScriptError)
    assert issubclass(ScriptCompileError, ScriptError)


@pytest.mark.parametrize(
    ("source", "message", "line", "column"),
    [
        ("def x = ;", "unexpected token [;]", 1, 9),
        ("def a = 1;\ndef b = 2;\nreturn a +* b;", "unexpected token [*]", 3, 11),
        ("return 'a' + #", "unexpected character [#]", 1, 14),
        ("return 'abc", "unterminated string or invalid escape sequence", 1, 8),
        ('return "line\\n"', "unterminated string or invalid escape sequence", 1, 8),
        ("if (true) {", "unexpected end of script", 1, 12),
        ("return y", "cannot resolve symbol [y]", 1, 8),
        ("def x = 1;\n  foo(x)", "Unknown call [foo] with [1] arguments.", 2, 3),
        ("return new Foo()", "cannot resolve type [Foo]", 1, 8),
        ("return new StringBuilder(1, 2)", "constructor [StringBuilder/2] not found", 1, 8),
        ("return Math.foo(1)", "Unknown call [foo] with [1] arguments on type [Math].", 1, 8),
        ("return Math.TAU", "cannot resolve field [TAU] of class [Math]", 1, 8),
        ("Foo x = 1", "cannot resolve type [Foo]", 1, 1),
        ("break;", "break must be inside a loop", 1, 1),
        ("def x = 1; def x = 2;", "variable [x] is already defined", 1, 16),
        (
            "def x = 1;\ndef f() { return 1 }",
            "function [f] must be declared before the first statement",
            2,
            1,
        ),
        ("int f() { return 1 } int f() { return 2 } return f()", "function [f/0] is already defined", 1, 22),
        ("def a = 1; a + 1; return a", "Not a statement.", 1, 12),
        ("1 = 2", "invalid assignment target", 1, 1),
        ("return 99999999999", "Invalid int constant [99999999999].", 1, 8),
        ("return 09", "Invalid octal constant [09].", 1, 8),
        ("return params = Math", "cannot use the class [Math] as a value", 1, 17),
    ],
)
def test_compile_errors_name_line_and_column(source: str, message: str, line: int, column: int) -> None:
    with pytest.raises(ScriptCompileError) as caught:
        compile_script(source)
    error = caught.value
    assert (error.reason, error.line, error.column) == (message, line, column)
    assert error.message == f"{message} (line {line}, column {column})"


def test_absurd_nesting_is_a_compile_error_not_a_crash() -> None:
    with pytest.raises(ScriptCompileError):
        compile_script("return " + "[" * 5000 + "]" * 5000)
