"""Number methods (``intValue()``…), ``BigDecimal`` and the static classes ``Math``, ``Integer``…"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from mlgate.painless.conversion import converter
from mlgate.painless.cost import READ, VISIT
from mlgate.painless.jstring import format_double, java_hash, to_java_string
from mlgate.painless.nodes import TypeRef
from mlgate.painless.ops import compare, is_number, java_equals, java_error
from mlgate.painless.runtime import Run
from mlgate.painless.strings import text_arg
from mlgate.painless.values import (
    INT_MAX,
    INT_MIN,
    LONG_MAX,
    LONG_MIN,
    JavaFloat,
    java_class,
    wrap_int,
    wrap_long,
)

Method = Callable[[Any, list[Any], Run], Any]
Static = Callable[[list[Any], Run], Any]


def _cast(name: str) -> Callable[[Any], Any]:
    cast = converter(TypeRef(name), explicit=True)
    assert cast is not None  # primitive types always convert
    return cast


_TO_INT: Final = _cast("int")
_TO_LONG: Final = _cast("long")
# Double.parseDouble trims like String.trim(): every character up to the space.
_CONTROL: Final = "".join(chr(code) for code in range(33))
_INTEGER_TEXT: Final = re.compile(r"[+-]?[0-9]+")
_DOUBLE_TEXT: Final = re.compile(
    r"[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?)"
)
_DECIMAL_TEXT: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _double(value: Any) -> float:
    if type(value) is JavaFloat:
        return value.value
    if is_number(value):
        return float(value)
    if type(value) is Decimal:
        return float(value)
    if value is None:
        raise java_error("NullPointerException", "Cannot cast null to a primitive type [double]")
    raise java_error("ClassCastException", f"Cannot cast {java_class(value)} to double")


_LOW_64: Final = (1 << 64) - 1
_CHUNK: Final = 18  # decimal digits that always fit an int conversion without Python's digit limit


def _decimal_int(value: Decimal, wrap: Callable[[int], int], run: Run) -> int:
    """``intValue``/``longValue``: the low bits of the integer part, computed modulo 2**64 so that a
    huge exponent or coefficient costs its digits, not a giant integer (``int(value)`` is quadratic)."""
    if not value.is_finite():
        return 0
    sign, digit_tuple, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    run.charge(len(digit_tuple) * VISIT)
    digits = "".join(map(str, digit_tuple[: len(digit_tuple) + min(exponent, 0)]))
    low = 0
    for start in range(0, len(digits), _CHUNK):
        chunk = digits[start : start + _CHUNK]
        low = (low * 10 ** len(chunk) + int(chunk)) & _LOW_64
    low = low * pow(10, max(exponent, 0), 1 << 64) & _LOW_64
    return wrap(-low if sign else low)


def _plain_string(value: Decimal, run: Run) -> str:
    """``toPlainString``: its length (digits plus zeros from the exponent) is known before it is built."""
    _, digit_tuple, exponent = value.as_tuple()
    if isinstance(exponent, int):
        run.charge_string(len(digit_tuple) + abs(exponent) + 2)
    return format(value, "f")


NUMBER_METHODS: Final[dict[tuple[str, int], Method]] = {
    ("intValue", 0): lambda n, a, r: _TO_INT(n),
    ("longValue", 0): lambda n, a, r: _TO_LONG(n),
    ("doubleValue", 0): lambda n, a, r: _double(n),
    ("floatValue", 0): lambda n, a, r: JavaFloat(_double(n)),
    ("toString", 0): lambda n, a, r: to_java_string(n, r),
    ("equals", 1): lambda n, a, r: java_equals(n, a[0], r),
    ("compareTo", 1): lambda n, a, r: -1 if compare("<", n, a[0]) else (1 if compare(">", n, a[0]) else 0),
    ("hashCode", 0): lambda n, a, r: java_hash(n, r),
    ("isNaN", 0): lambda n, a, r: _double(n) != _double(n),
    ("isInfinite", 0): lambda n, a, r: math.isinf(_double(n)),
}


def _decimal_arg(value: Any) -> Decimal:
    if type(value) is Decimal:
        return value
    if value is None:
        raise java_error("NullPointerException", "Cannot use a null BigDecimal")
    raise java_error("ClassCastException", f"Cannot cast {java_class(value)} to java.math.BigDecimal")


def _decimal_compare(value: Decimal, args: list[Any], run: Run) -> int:
    other = _decimal_arg(args[0])
    return -1 if value < other else (1 if value > other else 0)


DECIMAL_METHODS: Final[dict[tuple[str, int], Method]] = {
    ("intValue", 0): lambda d, a, r: _decimal_int(d, wrap_int, r),
    ("longValue", 0): lambda d, a, r: _decimal_int(d, wrap_long, r),
    ("doubleValue", 0): lambda d, a, r: float(d),
    ("floatValue", 0): lambda d, a, r: JavaFloat(float(d)),
    ("toString", 0): lambda d, a, r: to_java_string(d, r),
    ("toPlainString", 0): lambda d, a, r: _plain_string(d, r),
    ("add", 1): lambda d, a, r: d + _decimal_arg(a[0]),
    ("subtract", 1): lambda d, a, r: d - _decimal_arg(a[0]),
    ("multiply", 1): lambda d, a, r: d * _decimal_arg(a[0]),
    ("compareTo", 1): _decimal_compare,
    ("equals", 1): lambda d, a, r: java_equals(d, a[0], r),
}

BOOLEAN_METHODS: Final[dict[tuple[str, int], Method]] = {
    ("booleanValue", 0): lambda b, a, r: b,
    ("toString", 0): lambda b, a, r: to_java_string(b, r),
    ("equals", 1): lambda b, a, r: java_equals(b, a[0], r),
}


def new_big_decimal(args: list[Any], run: Run) -> Decimal:
    """``new BigDecimal(String | int | double)``."""
    value = args[0]
    if type(value) is str:
        run.charge(len(value) * READ)
        if not _DECIMAL_TEXT.fullmatch(value):
            raise java_error(
                "NumberFormatException", f"Character array is missing \"exponent\" mark 'e' or 'E'. [{value}]"
            )
        return Decimal(value)
    if type(value) is int:
        return Decimal(value)
    if type(value) is float or type(value) is JavaFloat:
        number = _double(value)
        if math.isinf(number) or number != number:
            raise java_error("NumberFormatException", "Infinite or NaN")
        return Decimal(number)  # exact binary expansion, like Java's BigDecimal(double)
    if value is None:
        raise java_error("NullPointerException", "Cannot create a BigDecimal from null")
    raise java_error("ClassCastException", f"Cannot cast {java_class(value)} to java.lang.String")


def _parse_int(low: int, high: int) -> Static:
    def parse(args: list[Any], run: Run) -> int:
        text = text_arg(args[0], run)
        run.charge(len(text) * READ)
        # Past 20 characters no text is in range, and int() refuses very long digit strings.
        if len(text) > 20 or not _INTEGER_TEXT.fullmatch(text) or not low <= int(text) <= high:
            raise java_error("NumberFormatException", f'For input string: "{text}"')
        return int(text)

    return parse


def _integer_value(args: list[Any], run: Run) -> int:
    return _parse_int(INT_MIN, INT_MAX)(args, run) if type(args[0]) is str else int(_TO_INT(args[0]))


def _parse_double(args: list[Any], run: Run) -> float:
    text = text_arg(args[0], run)
    run.charge(len(text) * READ)
    stripped = text.strip(_CONTROL)
    if not _DOUBLE_TEXT.fullmatch(stripped):
        raise java_error(
            "NumberFormatException", "empty String" if not stripped else f'For input string: "{text}"'
        )
    number = stripped[:-1] if stripped[-1] in "fFdD" else stripped
    if number.lstrip("+-") == "Infinity":
        return math.copysign(math.inf, -1.0 if number.startswith("-") else 1.0)
    return float(number)


def _parse_boolean(args: list[Any], run: Run) -> bool:
    return type(args[0]) is str and args[0].lower() == "true"


def _math_abs(args: list[Any], run: Run) -> Any:
    value = args[0]
    if type(value) is int:
        return wrap_int(abs(value)) if INT_MIN <= value <= INT_MAX else wrap_long(abs(value))
    if type(value) is JavaFloat:
        return JavaFloat(abs(value.value))
    return abs(_double(value))


def _math_extreme(pick_max: bool) -> Static:
    def extreme(args: list[Any], run: Run) -> Any:
        left, right = args
        if type(left) is int and type(right) is int:
            return max(left, right) if pick_max else min(left, right)
        a, b = _double(left), _double(right)
        if a != a or b != b:
            return math.nan
        result = max(a, b) if pick_max else min(a, b)
        if a == b == 0:  # Java orders -0.0 below 0.0
            result = a if (math.copysign(1, a) > math.copysign(1, b)) == pick_max else b
        if (type(left) is JavaFloat and type(right) is not float) or (
            type(right) is JavaFloat and type(left) is not float
        ):
            return JavaFloat(result)
        return result

    return extreme


def _math_round(args: list[Any], run: Run) -> int:
    value = args[0]
    if type(value) is int:
        return int(value)
    number = _double(value)
    if number != number:
        return 0
    low, high = (INT_MIN, INT_MAX) if type(value) is JavaFloat else (LONG_MIN, LONG_MAX)
    if math.isinf(number):
        return high if number > 0 else low
    return max(low, min(high, math.floor(number + 0.5)))


def _unary_double(function: Callable[[float], float]) -> Static:
    def apply(args: list[Any], run: Run) -> float:
        try:
            return function(_double(args[0]))
        except ValueError:
            return math.nan
        except OverflowError:
            return math.inf

    return apply


def _math_pow(args: list[Any], run: Run) -> float:
    base, exponent = _double(args[0]), _double(args[1])
    try:
        return math.pow(base, exponent)
    except OverflowError:
        return math.inf if base > 0 or exponent % 2 == 0 else -math.inf
    except ValueError:
        return math.nan


def _floor_or_ceil(function: Callable[[float], int]) -> Static:
    def apply(args: list[Any], run: Run) -> float:
        number = _double(args[0])
        if math.isinf(number) or number != number:
            return number
        return math.copysign(float(function(number)), number)

    return apply


def _string_join(args: list[Any], run: Run) -> str:
    separator, items = text_arg(args[0], run), args[1]
    if type(items) is not list:
        raise java_error("ClassCastException", f"Cannot cast {java_class(items)} to java.lang.Iterable")
    run.charge(len(items) * VISIT)
    texts = [text_arg(item, run) for item in items]
    # Measured before joining: one long string listed many times must not be joined first.
    run.charge_string(sum(map(len, texts)) + len(separator) * max(len(texts) - 1, 0))
    return separator.join(texts)


STATICS: Final[dict[tuple[str, str, int], Static]] = {
    ("Math", "abs", 1): _math_abs,
    ("Math", "max", 2): _math_extreme(True),
    ("Math", "min", 2): _math_extreme(False),
    ("Math", "round", 1): _math_round,
    ("Math", "floor", 1): _floor_or_ceil(math.floor),
    ("Math", "ceil", 1): _floor_or_ceil(math.ceil),
    ("Math", "sqrt", 1): _unary_double(math.sqrt),
    ("Math", "pow", 2): _math_pow,
    ("Math", "log", 1): _unary_double(lambda x: -math.inf if x == 0 else math.log(x)),
    ("Math", "log10", 1): _unary_double(lambda x: -math.inf if x == 0 else math.log10(x)),
    ("Math", "exp", 1): _unary_double(math.exp),
    ("String", "valueOf", 1): lambda a, r: to_java_string(a[0], r),
    ("String", "join", 2): _string_join,
    ("Integer", "parseInt", 1): _parse_int(INT_MIN, INT_MAX),
    ("Integer", "valueOf", 1): _integer_value,
    ("Integer", "toString", 1): lambda a, r: to_java_string(a[0], r),
    ("Long", "parseLong", 1): _parse_int(LONG_MIN, LONG_MAX),
    ("Long", "toString", 1): lambda a, r: to_java_string(a[0], r),
    ("Double", "parseDouble", 1): _parse_double,
    ("Double", "valueOf", 1): lambda a, r: _parse_double(a, r) if type(a[0]) is str else _double(a[0]),
    ("Double", "toString", 1): lambda a, r: format_double(_double(a[0])),
    ("Double", "isNaN", 1): lambda a, r: _double(a[0]) != _double(a[0]),
    ("Float", "parseFloat", 1): lambda a, r: JavaFloat(_parse_double(a, r)),
    ("Boolean", "parseBoolean", 1): _parse_boolean,
    ("Boolean", "valueOf", 1): lambda a, r: a[0] if type(a[0]) is bool else _parse_boolean(a, r),
    ("Boolean", "toString", 1): lambda a, r: to_java_string(a[0], r),
}

STATIC_FIELDS: Final[dict[tuple[str, str], Any]] = {
    ("Math", "PI"): math.pi,
    ("Math", "E"): math.e,
    ("Integer", "MAX_VALUE"): INT_MAX,
    ("Integer", "MIN_VALUE"): INT_MIN,
    ("Long", "MAX_VALUE"): LONG_MAX,
    ("Long", "MIN_VALUE"): LONG_MIN,
    ("Double", "MAX_VALUE"): 1.7976931348623157e308,
    ("Double", "MIN_VALUE"): 5e-324,
    ("Double", "POSITIVE_INFINITY"): math.inf,
    ("Double", "NEGATIVE_INFINITY"): -math.inf,
    ("Double", "NaN"): math.nan,
}

STATIC_CLASSES: Final = frozenset(cls for cls, _, _ in STATICS) | frozenset(cls for cls, _ in STATIC_FIELDS)
