"""One check per language feature of the supported Painless subset."""

from __future__ import annotations

from typing import Any

import pytest

from mlgate.painless import ScriptRuntimeError, compile_script


def run(source: str, params: dict[str, Any] | None = None) -> Any:
    return compile_script(source).execute(params or {})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # declarations and assignment
        ("def x = 1; return x", 1),
        ("String s = 'a'; int i = 2; double d = 1.5; boolean b = true; return s + i + d + b", "a21.5true"),
        ("int a = 1, b = 2; return a + b", 3),
        ("def r; return r", None),
        ("int i; double d; boolean b; return '' + i + d + b", "00.0false"),
        ("def a; def b; a = b = 'x'; return a + b", "xx"),
        ("List l = [1, 2]; Map m = ['k': 'v']; return l.size() + m.size()", 3),
        # control flow
        (
            "if (params.n > 1) { return 'big' } else if (params.n > 0) { return 'one' } else { return 'none' }",
            "one",
        ),
        ("if (false) return 1; return 2", 2),
        ("int s = 0; for (int i = 0; i < 5; i++) { s += i } return s", 10),
        ("int s = 0; for (int i = 0, j = 10; i < j; i += 3, j--) { s++ } return s", 3),
        ("int s = 0; for (def x : [1, 2, 3]) { s += x } return s", 6),
        ("int s = 0; for (x in params.list) { s += x } return s", 60),
        ("int i = 0; while (i < 7) { i += 2 } return i", 8),
        ("int i = 0; do { i++ } while (i < 3); return i", 3),
        ("int i = 0; do { i++ } while (false); return i", 1),
        (
            "int s = 0; for (int i = 0; i < 10; i++) { if (i == 5) break; if (i % 2 == 0) continue; s += i } return s",
            4,
        ),
        ("for (def x : [1, 2, 3]) { if (x == 2) { return 'found ' + x } } return 'no'", "found 2"),
        ("int n = 0; for (;;) { if (++n == 4) { break } } return n", 4),
        (
            "int s = 0; for (int i = 0; i < 3; i++) { for (int j = 0; j < 3; j++) { if (j == 1) break; s++ } } return s",
            3,
        ),
        # operators
        ("return params.n > 0 ? 'pos' : 'neg'", "pos"),
        ("return !true || !(1 > 2)", True),
        ("return true && false", False),
        ("return 7 * 3 / 2 % 4", 2),
        ("return 1 + 2 - 3", 0),
        ("return 1 <= 1 && 2 >= 3", False),
        ("int i = 5; i -= 2; i *= 3; i /= 2; i %= 3; return i", 1),
        ("int i = 1; int j = i++ + ++i; return '' + i + j", "34"),
        ("int i = 3; return i-- - --i", 2),
        ("return -params.n + +2", 1),
        ("return params.s == 'abc'", True),
        ("return params.s != 'abc'", False),
        (
            "return params.s instanceof String && params.n instanceof Integer && !(params.n instanceof Double)",
            True,
        ),
        ("return params.m instanceof Map && params.list instanceof List && !(null instanceof Object)", True),
        ("return (int) 3.9 + (int) -3.9", 0),
        ("return (double) 3 / 2", 1.5),
        ("return (String) params.s", "abc"),
        ("return (long) 3.5", 3),
        ("def a = null; return a == null && null == a && a != 'x'", True),
        # literals
        ('return \'it\\\'s\' + "a \\"quote\\" \\\\"', "it's" + 'a "quote" \\'),
        ("return 0x1F + 010 + 2L", 41),
        ("return [1, 'two', null, [3]]", [1, "two", None, [3]]),
        ("return [:]", {}),
        ("return ['a': 1, 'b': [2]]", {"a": 1, "b": [2]}),
        ("return []", []),
        # member and element access
        ("return params.m.inner.k", "v"),
        ("return params['m']['inner']['k']", "v"),
        ("return params.list[0] + params.list[-1]", 40),
        ("return params.list.length + params.list.size()", 6),
        ("return params.missing", None),
        ("return params?.missing?.deeper", None),
        ("return params.missing?.length()", None),
        ("def m = params.m; m.added = 5; m['other'] = 6; return m.added + m.get('other')", 11),
        ("def l = [1, 2]; l[0] = 9; l[-1] += 1; return l", [9, 3]),
        ("def a = new int[3]; a[1] = 4; a[2]++; return a.length + a[1] + a[2]", 8),
        ("def a = new Double[2]; a[0] = 1; return '' + a[0] + ',' + a[1]", "1.0,null"),
        ("String[] a = new String[] {'x', 'y'}; return a[1] + a.length", "y2"),
        ("int[][] g = new int[2][3]; g[1][2] = 7; return g[1][2] + g.length + g[0].length", 12),
        # functions
        ("int twice(int x) { return 2 * x } return twice(21)", 42),
        ("int fact(int n) { return n <= 1 ? 1 : n * fact(n - 1) } return fact(10)", 3628800),
        ("void touch(def m) { m.put('t', 1) } def m = [:]; touch(m); return m", {"t": 1}),
        ("def f(def a, def b) { return a + b } return f('x', 1) + f(1, 2)", "x13"),
        ("String g() { return 'no-arg' } return g()", "no-arg"),
        # implicit return of a final expression statement
        ("params.n + 1", 2),
        ("def x = 5; x * 2", 10),
        # new objects
        (
            "def sb = new StringBuilder('a'); sb.append(1).append(2.5).append(null).append([1]); return sb.toString()",
            "a12.5null[1]",
        ),
        ("def m = new HashMap(); m.put('a', 1); return m.containsKey('a') && !m.isEmpty()", True),
        ("def l = new ArrayList(); l.add('x'); l.add(0, 'w'); return l", ["w", "x"]),
        ("def l = new ArrayList(params.list); l.add(4); return params.list.size() + l.size()", 7),
        ("return new BigDecimal('2.0').intValue() + new BigDecimal('7').intValue()", 9),
        # static helpers
        ("return Math.max(1, 2) + Math.min(1.5, 0.5) + Math.abs(-3)", 5.5),
        ("return Math.round(2.5) + Math.round(-2.5) + Math.floor(1.7) + Math.ceil(1.2)", 4.0),
        ("return Math.sqrt(16) + Math.pow(2, 10)", 1028.0),
        ("return String.valueOf(1.0) + String.valueOf(null) + String.valueOf([1, 2])", "1.0null[1, 2]"),
        ("return Integer.parseInt('-42') + Double.parseDouble('0.5')", -41.5),
        ("return Integer.MAX_VALUE + 1 == Integer.MIN_VALUE", True),
        ("return String.join('-', ['a', 'b'])", "a-b"),
        # comments
        ("/* block\n comment */ def x = 1; // line\n return x // trailing", 1),
    ],
)
def test_feature(source: str, expected: Any) -> None:
    params = {"n": 1, "s": "abc", "list": [10, 20, 30], "m": {"inner": {"k": "v"}}}
    result = run(source, params)
    assert result == expected
    assert isinstance(result, type(expected))
    assert type(result) is not bool or type(expected) is bool


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("return params.s.length()", 11),
        ("return params.s.substring(6) + params.s.substring(0, 5)", "worldhello"),
        ("return params.s.indexOf('o') + params.s.indexOf('o', 5) + params.s.lastIndexOf('o')", 18),
        ("return params.s.replace('l', 'L')", "heLLo worLd"),
        ("return params.s.startsWith('he') && params.s.endsWith('ld') && params.s.contains('o w')", True),
        ("return '  x y \n'.trim() + '|'", "x y|"),
        ("return params.s.toUpperCase() + 'ABC'.toLowerCase()", "HELLO WORLDabc"),
        ("return params.s.charAt(4) + params.s.isEmpty() + ''.isEmpty()", "ofalsetrue"),
        ("return params.s.equals('hello world') && params.s.equalsIgnoreCase('HELLO WORLD')", True),
        ("return params.s.split(' ')", ["hello", "world"]),
        ("return 'a,b,,'.split(',')", ["a", "b"]),
        ("return params.s.toString() + 'x'.compareTo('y')", "hello world-1"),
        ("return '😊ab'.length() + '😊ab'.indexOf('a') + '😊ab'.substring(2)", "6ab"),
        (
            "def sb = new StringBuilder(); sb.append('abc'); sb.insert(1, '-'); return sb.length() + sb.toString()",
            "4a-bc",
        ),
    ],
)
def test_string_methods(source: str, expected: Any) -> None:
    assert run(source, {"s": "hello world"}) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def m = ['a': 1]; return m.get('a') + m.getOrDefault('b', 5) + m.size()", 7),
        ("def m = ['a': 1]; def old = m.put('a', 2); return old + m.a", 3),
        ("def m = ['a': 1, 'b': 2]; m.remove('a'); return m.keySet() + '' + m.values()", "[b][2]"),
        ("def m = ['a': 1]; return m.containsValue(1) && !m.containsKey('z') && m.empty == false", True),
        ("def l = [3, 1]; l.set(0, 5); return l.get(0) + l.indexOf(1) + (l.contains(5) ? 10 : 0)", 16),
        ("def l = ['a', 'b', 'c']; l.remove(1); l.remove('a'); return l", ["c"]),
        ("def l = [1]; l.addAll([2, 3]); return l.isEmpty() ? 0 : l.size()", 3),
    ],
)
def test_collection_methods(source: str, expected: Any) -> None:
    assert run(source) == expected


def test_params_are_mutable_like_a_painless_map() -> None:
    params: dict[str, Any] = {"a": 1}
    run("params.b = params.a + 1", params)
    assert params == {"a": 1, "b": 2}


def test_a_script_without_return_gives_null() -> None:
    assert run("def x = 1;") is None
    assert run("") is None


def test_throw_new_exception_kinds() -> None:
    with pytest.raises(ScriptRuntimeError) as caught:
        run("throw new IllegalStateException('bad state')")
    assert (caught.value.exception, caught.value.message) == ("IllegalStateException", "bad state")
    with pytest.raises(ScriptRuntimeError) as caught:
        run("def e = new RuntimeException(); throw e")
    assert caught.value.exception == "RuntimeException"


def test_runtime_errors_know_their_line() -> None:
    with pytest.raises(ScriptRuntimeError) as caught:
        run("def a = 1;\n\ndef b = params.x.y;")
    assert caught.value.exception == "NullPointerException"
    assert (caught.value.line, caught.value.column) == (3, 1)


def test_compiled_script_is_reusable() -> None:
    script = compile_script(
        "def sb = new StringBuilder(); for (d in params.docs) { sb.append(d) } return sb.toString()"
    )
    assert script.execute({"docs": ["a", "b"]}) == "ab"
    assert script.execute({"docs": ["c"]}) == "c"
