"""The cost budget, the size caps, the CPU backstop and the slice (issue 11: a step's cost was unbounded).

Every charged operation is run twice with the same small budget: on normal-sized data a hundred times
(it must finish), and on big data until something stops it (it must be the cost budget).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from mlgate.painless import (
    Limits,
    ScriptError,
    ScriptLimitError,
    ScriptRuntimeError,
    ScriptYield,
    Slice,
    compile_script,
)
from mlgate.painless.values import wrap_int, wrap_long

BUDGET = Limits(max_steps=10_000_000, max_cost=5_000_000)
SMALL, BIG = 10, 100_000

STRING = "String x = params.s; String y = params.t; "
LIST = "def x = params.l; def y = params.l2; "
MAP = "def h = new HashMap(params.m); "

# (operation, the statements before the loop, one iteration)
CHARGED = [
    ("+ on strings", STRING, "String z = x + 'c'"),
    ("String.concat", STRING, "x.concat('c')"),
    ("replace", STRING, "x.replace('a', 'cc')"),
    ("substring", STRING, "x.substring(1)"),
    ("indexOf", STRING, "x.indexOf('zz')"),
    ("lastIndexOf", STRING, "x.lastIndexOf('zz')"),
    ("contains", STRING, "x.contains('zz')"),
    ("startsWith", STRING, "x.startsWith(y)"),
    ("endsWith", STRING, "x.endsWith(y)"),
    ("== on equal strings", STRING, "boolean b = x == y"),
    ("equals", STRING, "x.equals(y)"),
    ("equalsIgnoreCase", STRING, "x.equalsIgnoreCase(y)"),
    ("toUpperCase", STRING, "x.toUpperCase()"),
    ("toLowerCase", STRING, "x.toLowerCase()"),
    ("trim", STRING, "x.trim()"),
    ("strip", STRING, "x.strip()"),
    ("isBlank", STRING, "x.isBlank()"),
    ("hashCode", STRING, "x.hashCode()"),
    ("compareTo", STRING, "x.compareTo(y)"),
    ("split", STRING, "x.split('a')"),
    ("repeat", STRING, "x.repeat(2)"),
    ("escape()", STRING, "escape(x)"),
    ("StringBuilder append and toString", STRING, "new StringBuilder(x).append(x).toString()"),
    ("StringBuilder insert", STRING, "new StringBuilder(x).insert(0, 'c')"),
    ("StringBuilder reverse", STRING, "new StringBuilder(x).reverse()"),
    ("StringBuilder setLength", STRING, "new StringBuilder().setLength(x.length())"),
    ("length of non-ASCII text", "", "params.u.length()"),
    ("charAt of non-ASCII text", "", "params.u.charAt(1)"),
    ("Double.parseDouble", "", "Double.parseDouble(params.digits)"),
    ("new BigDecimal", "", "new BigDecimal(params.digits)"),
    ("BigDecimal intValue", "def d = new BigDecimal(params.digits); ", "d.intValue()"),
    ("BigDecimal toPlainString", "def d = new BigDecimal('1e' + params.n); ", "d.toPlainString()"),
    ("String.join", "", "String.join(',', params.words)"),
    ("List toString", LIST, "x.toString()"),
    ("String.valueOf(List)", LIST, "String.valueOf(x)"),
    ("+ with a list", LIST, "String z = '' + x"),
    ("new ArrayList(copy)", LIST, "new ArrayList(x)"),
    ("addAll", LIST, "new ArrayList().addAll(x)"),
    ("add(0, value)", LIST, "x.add(0, 1)"),
    ("remove(0)", LIST, "x.add(x.remove(0))"),
    ("List indexOf", LIST, "x.indexOf(-1)"),
    ("List contains", LIST, "x.contains(-1)"),
    ("remove(Object)", LIST, "x.remove('z')"),
    ("List equals", LIST, "x.equals(y)"),
    ("new int[n]", "", "int[] a = new int[params.n]"),
    ("new HashMap(copy)", "", "new HashMap(params.m)"),
    ("HashMap keySet (hash order)", MAP, "h.keySet()"),
    ("HashMap values", MAP, "h.values()"),
    ("HashMap toString", MAP, "h.toString()"),
    ("Map toString", "", "params.m.toString()"),
    ("Map equals", "", "params.m.equals(params.m2)"),
    ("containsValue", "", "params.m.containsValue(-1)"),
    ("putAll", "", "new HashMap().putAll(params.m)"),
]


def data(size: int) -> dict[str, Any]:
    text = "ab" * (size // 2)
    return {
        "s": text,
        "t": text[:-1] + text[-1:],  # equal, but another object
        "u": "é" * size,
        "digits": "1" * size,
        "n": size,
        "words": ["abcdefgh"] * size,
        "l": list(range(size)),
        "l2": list(range(size)),
        "m": {f"k{i}": i for i in range(size)},
        "m2": {f"k{i}": i for i in range(size)},
    }


def loop(setup: str, operation: str, times: int) -> str:
    return f"{setup}int n = 0; for (int i = 0; i < {times}; i++) {{ {operation}; n++ }} return n"


@pytest.mark.parametrize(("setup", "operation"), [c[1:] for c in CHARGED], ids=[c[0] for c in CHARGED])
def test_each_operation_is_charged_by_size(setup: str, operation: str) -> None:
    small = compile_script(loop(setup, operation, 100), limits=BUDGET)
    assert small.execute(data(SMALL)) == 100
    big = compile_script(loop(setup, operation, 1_000_000), limits=BUDGET)
    with pytest.raises(ScriptLimitError) as caught:
        big.execute(data(BIG))
    assert caught.value.message == "script exceeded its cost budget (limit: 5000000 units)"


def test_default_limits() -> None:
    limits = Limits()
    assert dataclasses.astuple(limits) == (1_000_000, 100, 10_000_000, 1_000_000, 100_000_000, 2.0)


def test_the_issue_script_is_stopped_by_the_default_budget() -> None:
    script = compile_script(
        'String s = "ab"; for (int i = 0; i < 21; i++) { s = s + s; } int n = 0; '
        'for (int i = 0; i < 3000; i++) { n += s.replace("a", "cc").length(); } return n;'
    )
    with pytest.raises(ScriptLimitError) as caught:
        script.execute({})
    assert caught.value.message == "script exceeded its cost budget (limit: 100000000 units)"


@pytest.mark.parametrize(
    ("source", "length"),
    [
        ("return 'aaaaaaaaaa'.replace('a', 'x'.repeat(200))", 2000),  # counted before it is built
        ("def b = new StringBuilder(); b.setLength(2147483647); return b", 2147483647),
        ("def l = []; for (int i = 0; i < 200; i++) { l.add('abcdefghij') } return String.join('', l)", 2000),
        ("return 'abcdefghij'.repeat(101)", 1010),
    ],
)
def test_a_string_past_the_size_limit_is_refused_before_it_is_built(source: str, length: int) -> None:
    with pytest.raises(ScriptLimitError) as caught:
        compile_script(source, limits=Limits(max_output_chars=1000)).execute({})
    assert caught.value.message == f"string length {length} exceeds the limit of 1000 characters"


@pytest.mark.parametrize(
    "source",
    [
        # One long string listed many times: measured while converting, not after joining.
        "def s = 'x'.repeat(900); def l = []; for (int i = 0; i < 100000; i++) { l.add(s) } return l.toString()",
        # A list that holds itself twice, forty deep: 2**40 elements to print.
        "def l = ['abcdefgh']; for (int i = 0; i < 40; i++) { l = [l, l] } return l.toString()",
    ],
)
def test_converting_shared_collections_to_text_is_bounded(source: str) -> None:
    with pytest.raises(ScriptLimitError):
        compile_script(source, limits=Limits(max_output_chars=100_000)).execute({})


@pytest.mark.parametrize(
    ("source", "size"),
    [
        ("return new ArrayList(params.l)", 1001),
        ("return ('a,'.repeat(1000) + 'a').split(',')", 1001),
        ("return new int[10][101]", 1020),  # the 10 inner arrays and their 1,010 elements
        ("def m = new HashMap(); for (int i = 0; i < 1001; i++) { m.put(i, i) } return m", 1001),
    ],
)
def test_a_collection_past_the_size_limit_is_refused(source: str, size: int) -> None:
    script = compile_script(source, limits=Limits(max_collection_size=1000))
    with pytest.raises(ScriptLimitError) as caught:
        script.execute({"l": list(range(1001))})
    assert caught.value.message == f"collection size {size} exceeds the limit of 1000"


def test_the_cpu_time_limit_is_a_backstop() -> None:
    script = compile_script("while (true) {}", limits=Limits(max_steps=10**9, max_cpu_seconds=0.0))
    with pytest.raises(ScriptLimitError) as caught:
        script.execute({})
    assert caught.value.message == "script exceeded its CPU time limit (limit: 0 s)"


def test_a_slice_stops_a_long_run_with_a_yield_that_is_not_a_script_error() -> None:
    assert not issubclass(ScriptYield, ScriptError)
    script = compile_script("int n = 0; for (int i = 0; i < params.n; i++) { n += i } return n")
    assert script.execute({"n": 10}, slice_=Slice(steps=100, cost=1000)) == 45
    with pytest.raises(ScriptYield):
        script.execute({"n": 1000}, slice_=Slice(steps=100, cost=1000))
    with pytest.raises(ScriptYield):
        compile_script("return params.s + params.s").execute({"s": "x" * 1000}, slice_=Slice(100, 1000))
    assert script.execute({"n": 1000}) == 499500  # without a slice it has its whole budget


def test_a_slice_never_hides_a_limit_that_is_smaller() -> None:
    script = compile_script("while (true) {}", limits=Limits(max_steps=50))
    with pytest.raises(ScriptLimitError):
        script.execute({}, slice_=Slice(steps=100, cost=1000))


def test_execute_text_converts_within_the_budget() -> None:
    script = compile_script("return params.l", limits=Limits(max_cost=100_000))
    assert script.execute_text({"l": [1, 2.5, None]}) == "[1, 2.5, null]"
    assert script.execute_text({"l": None}) is None
    with pytest.raises(ScriptLimitError):
        script.execute_text({"l": list(range(1000))})


@pytest.mark.parametrize(
    ("text", "int_value", "long_value"),
    [
        ("1e30", wrap_int(10**30), wrap_long(10**30)),
        ("-123456789012345678901234567890.7", wrap_int(-123456789012345678901234567890), None),
        ("12.99", 12, 12),
        ("1e-999999999", 0, 0),
    ],
)
def test_big_decimal_to_int_keeps_the_low_bits(text: str, int_value: int, long_value: int | None) -> None:
    script = compile_script("def d = new BigDecimal(params.t); return [d.intValue(), d.longValue()]")
    ints, longs = script.execute({"t": text})
    assert ints == int_value
    if long_value is not None:
        assert longs == long_value


def test_a_huge_big_decimal_exponent_costs_its_digits_not_its_value() -> None:
    script = compile_script("return new BigDecimal('7e100000000').intValue()")
    assert script.execute({}) == wrap_int(7 * pow(10, 100_000_000, 2**32))


def test_big_decimal_overflow_is_an_arithmetic_exception() -> None:
    script = compile_script("def d = new BigDecimal('1e999999'); return d.multiply(d)")
    with pytest.raises(ScriptRuntimeError) as caught:
        script.execute({})
    assert caught.value.exception == "ArithmeticException"


def test_parse_int_of_a_very_long_number_is_a_number_format_exception() -> None:
    with pytest.raises(ScriptRuntimeError) as caught:
        compile_script("return Integer.parseInt(params.s)").execute({"s": "9" * 5000})
    assert caught.value.exception == "NumberFormatException"


def test_an_embedding_post_process_stays_within_the_slice_the_event_loop_gives() -> None:
    # The Titan/Aleph Alpha script on a 1,536-float OpenAI-like embedding (some values below 1e-3) runs
    # to its end within the slice ScriptRunner gives a run on the event loop (2,000 steps, 2M units).
    script = compile_script(
        'def shape = [params.embedding.length]; return "{\\"shape\\":" + shape + ",\\"data\\":" + params.embedding + "}"'
    )
    embedding = [((i * 7919) % 2000 - 1000) / 30_000 for i in range(1536)]
    assert min(map(abs, filter(None, embedding))) < 1e-3
    text = script.execute_text({"embedding": embedding}, slice_=Slice(steps=2_000, cost=2_000_000))
    assert text is not None and text.startswith('{"shape":[1536],"data":[')
