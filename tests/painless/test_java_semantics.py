"""Corners where Java (and Painless) differ from Python, and the errors scripts run into."""

from __future__ import annotations

import math
from typing import Any

import pytest

from mlgate.painless import ScriptRuntimeError, compile_script, to_java_string


def run(source: str, params: dict[str, Any] | None = None) -> Any:
    return compile_script(source).execute(params or {})


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1.0"),
        (0.0003, "3.0E-4"),
        (1e10, "1.0E10"),
        (1e7, "1.0E7"),
        (9999999.0, "9999999.0"),
        (0.001, "0.001"),
        (0.00099, "9.9E-4"),
        (-2.487649e-05, "-2.487649E-5"),
        (123456789.125, "1.23456789125E8"),
        (1e23, "1.0E23"),
        (5e-324, "4.9E-324"),
        (1e-323, "9.9E-324"),
        (-0.0, "-0.0"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        (math.nan, "NaN"),
        (7, "7"),
        (2**40, "1099511627776"),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        ("text", "text"),
        ([1, 2.5, "a", None, [True]], "[1, 2.5, a, null, [true]]"),
        ({"k": "v", "n": {"x": 1.0}}, "{k=v, n={x=1.0}}"),
        ([], "[]"),
        ({}, "{}"),
    ],
)
def test_to_java_string(value: Any, text: str) -> None:
    assert to_java_string(value) == text


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("return 7 / 2", 3),
        ("return -7 / 2", -3),
        ("return -7 % 3", -1),
        ("return 7.0 / 2", 3.5),
        ("return -7.5 % 2", -1.5),
        ("return 1 / 2.0", 0.5),
        ("return 2147483647 + 1", -2147483648),
        ("return -2147483648 - 1", 2147483647),
        ("return 46341 * 46341", -2147479015),
        ("return 9223372036854775807L + 1", -9223372036854775808),
        ("return 1.0 / 0", math.inf),
        ("return -1 / 0.0", -math.inf),
        ("return (int) 1e20", 2147483647),
        ("return (int) -1e20", -2147483648),
        ("return (long) 3.99", 3),
        ("return (int) 3000000000L", -1294967296),
        ("return 1 == 1.0", True),
        ("return params.i == params.d", True),
        ("return [1] == [1.0]", False),
        ("return [1, 'a'] == [1, 'a']", True),
        ("return ['k': [1]] == ['k': [1]]", True),
        ("return 'ab' == 'a' + 'b'", True),
        ("return null == 0", False),
        ("return 'x' + null", "xnull"),
        ("return null + 'x'", "nullx"),
        ("return 'n=' + 1 + 2", "n=12"),
        ("return 1 + 2 + '=n'", "3=n"),
        ("return 'd=' + 1.0 + ',' + 1e-4 + ',' + 1.0E10", "d=1.0,1.0E-4,1.0E10"),
        ("return 'l=' + [1.0, 2] + ',m=' + ['a': null]", "l=[1.0, 2],m={a=null}"),
        ("return '' + params.d.intValue() + params.d.floatValue() + params.d.doubleValue()", "22.02.0"),
        ("return '' + 0.1f + (0.1f + 0.2f) + (0.1 + 0.2)", "0.10.30.30000000000000004"),
        ("return 1.5f * 2", None),
        ("return 'x'.equals(null)", False),
        ("return (1 > 0) == true", True),
        ("return Math.max(1, 2.0)", 2.0),
        ("return new BigDecimal('2.50').toString() + new BigDecimal(0.1).toString().length()", "2.5057"),
        ("return Double.parseDouble('1e3') + Integer.parseInt('+7')", 1007.0),
        # HashMap iterates in hash order; a JSON map keeps insertion order
        (
            "def m = new HashMap(); m.put('b', 1); m.put('a', 2); m.put('zz', 3); return m.toString()",
            "{zz=3, a=2, b=1}",
        ),
        ("return ['b': 1, 'a': 2].keySet()", ["a", "b"]),
        ("return params.ordered.toString()", "{b=1, a=2}"),
    ],
)
def test_java_arithmetic_equality_and_strings(source: str, expected: Any) -> None:
    params = {"i": 2, "d": 2.0, "ordered": {"b": 1, "a": 2}}
    result = run(source, params)
    if source == "return 1.5f * 2":
        assert to_java_string(result) == "3.0"
        assert "Float" in type(result).__name__
        return
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "exception", "message"),
    [
        ("return params.missing.x", "NullPointerException", None),
        ("return params.missing.length()", "NullPointerException", None),
        ("return params.missing + 1", "NullPointerException", None),
        ("return params.list[5]", "IndexOutOfBoundsException", "Index 5 out of bounds for length 3"),
        ("return params.list[-4]", "IndexOutOfBoundsException", "Index -1 out of bounds for length 3"),
        ("return params.list.get(-1)", "IndexOutOfBoundsException", "Index -1 out of bounds for length 3"),
        (
            "def a = new int[2]; return a[2]",
            "ArrayIndexOutOfBoundsException",
            "Index 2 out of bounds for length 2",
        ),
        ("return 'abc'.substring(2, 5)", "StringIndexOutOfBoundsException", "begin 2, end 5, length 3"),
        ("return 1 / 0", "ArithmeticException", "/ by zero"),
        ("return 5 % 0", "ArithmeticException", "/ by zero"),
        ("int x = params.d; return x", "ClassCastException", "Cannot cast java.lang.Double to int"),
        (
            "String s = params.i; return s",
            "ClassCastException",
            "Cannot cast java.lang.Integer to java.lang.String",
        ),
        ("if (params.s) { return 1 }", "ClassCastException", "Cannot cast java.lang.String to boolean"),
        ("return !params.missing", "NullPointerException", None),
        ("return 'a' < 'b'", "ClassCastException", None),
        ("return 'a' - 1", "ClassCastException", None),
        (
            "return params.s.foo()",
            "IllegalArgumentException",
            "dynamic method [java.lang.String, foo/0] not found",
        ),
        (
            "return params.s.length(1)",
            "IllegalArgumentException",
            "dynamic method [java.lang.String, length/1] not found",
        ),
        (
            "return params.list.foo",
            "IllegalArgumentException",
            "dynamic getter [java.util.ArrayList, foo] not found",
        ),
        (
            "return params.s.__class__",
            "IllegalArgumentException",
            "dynamic getter [java.lang.String, __class__] not found",
        ),
        ("return params.s[0]", "IllegalArgumentException", None),
        ("return Integer.parseInt('x1')", "NumberFormatException", 'For input string: "x1"'),
        ("return new BigDecimal('abc')", "NumberFormatException", None),
        ("for (def x : params.list) { params.list.add(x) }", "ConcurrentModificationException", None),
        ("throw 'not an exception'", "ClassCastException", None),
        ("return escape(null)", "NullPointerException", None),
        (
            "return escape(5)",
            "IllegalArgumentException",
            "dynamic method [java.lang.Integer, contains/1] not found",
        ),
    ],
)
def test_runtime_errors(source: str, exception: str, message: str | None) -> None:
    params = {"s": "abc", "i": 1, "d": 2.0, "list": [1, 2, 3]}
    with pytest.raises(ScriptRuntimeError) as caught:
        run(source, params)
    assert caught.value.exception == exception
    if message is not None:
        assert caught.value.message == message
        assert str(caught.value) == message


def test_no_python_attribute_is_reachable() -> None:
    for source in (
        "return params.__class__",
        "return params.items()",
        "return ''.join(params.list)",
        "return params.list.__len__()",
        "return params.s.format()",
    ):
        result_or_error: Any
        try:
            result_or_error = run(source, {"s": "x", "list": ["a"]})
        except ScriptRuntimeError as error:
            result_or_error = error
        # On a map a dotted name is a key lookup (null); everything else is an unknown method.
        assert result_or_error is None or isinstance(result_or_error, ScriptRuntimeError), source


def test_builtin_escape_replicates_ml_commons_byte_for_byte() -> None:
    script = compile_script("return escape(params.t)")
    source = 'back\\slash "quote" cr\r lf\n tab\t bs\b ff\f slash-t\\t'
    expected = 'back\\\\slash \\"quote\\" cr\\r lf\\n tab\t bs\\b ff\\f slash-t\\\\\\\\t'
    assert script.execute({"t": source}) == expected


def test_escape_is_not_injected_when_the_script_defines_it() -> None:
    script = compile_script("String escape(def s) { return 'mine' }\nreturn escape('x')")
    assert script.execute({}) == "mine"
