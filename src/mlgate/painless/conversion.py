"""Type conversions: assignment to typed variables, casts and default values.

Painless converts a ``def`` value implicitly only when Java would widen (Integer -> double is fine,
Double -> int is a ClassCastException); an explicit cast such as ``(int) 3.7`` also narrows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from mlgate.painless.nodes import TypeRef
from mlgate.painless.ops import is_number, java_error
from mlgate.painless.values import (
    INT_MAX,
    INT_MIN,
    LONG_MAX,
    LONG_MIN,
    JavaArray,
    JavaFloat,
    StringBuilder,
    is_int_range,
    java_class,
    java_type_name,
    wrap_int,
    wrap_long,
)

Converter = Callable[[Any], Any]

PRIMITIVES: Final = frozenset({"int", "long", "short", "byte", "float", "double", "boolean"})
REFERENCE_TYPES: Final = frozenset(
    {
        "String",
        "Integer",
        "Long",
        "Short",
        "Byte",
        "Double",
        "Float",
        "Boolean",
        "Number",
        "Map",
        "HashMap",
        "List",
        "ArrayList",
        "Collection",
        "StringBuilder",
        "BigDecimal",
        "CharSequence",
    }
)
KNOWN_TYPES: Final = PRIMITIVES | REFERENCE_TYPES | {"def", "Object", "void"}


def _type_label(t: TypeRef) -> str:
    return java_type_name(t.name) + "[]" * t.dims


def _cannot_cast(value: Any, t: TypeRef) -> Any:
    if value is None:
        raise java_error("NullPointerException", f"Cannot cast null to a primitive type [{t.name}]")
    raise java_error("ClassCastException", f"Cannot cast {java_class(value)} to {_type_label(t)}")


def _as_double(value: Any) -> float:
    return value.value if type(value) is JavaFloat else float(value)


def _to_integral(value: Any, low: int, high: int) -> int:
    """Java's narrowing of a floating value to an integral type: truncate, saturate, NaN -> 0."""
    number = _as_double(value)
    if number != number:
        return 0
    if math.isinf(number):
        return high if number > 0 else low
    return max(low, min(high, int(number)))


def _reference_check(t: TypeRef) -> Callable[[Any], bool]:
    name = t.name
    checks: dict[str, Callable[[Any], bool]] = {
        "String": lambda v: type(v) is str,
        "CharSequence": lambda v: type(v) is str or type(v) is StringBuilder,
        "Integer": lambda v: type(v) is int and is_int_range(v),
        "Long": lambda v: type(v) is int,
        "Short": lambda v: type(v) is int and -32768 <= v <= 32767,
        "Byte": lambda v: type(v) is int and -128 <= v <= 127,
        "Double": lambda v: type(v) is float,
        "Float": lambda v: type(v) is JavaFloat,
        "Boolean": lambda v: type(v) is bool,
        "Number": lambda v: is_number(v) or type(v) is Decimal,
        "Map": lambda v: isinstance(v, dict),
        "HashMap": lambda v: isinstance(v, dict),
        "List": lambda v: type(v) is list,
        "ArrayList": lambda v: type(v) is list,
        "Collection": lambda v: type(v) is list,
        "StringBuilder": lambda v: type(v) is StringBuilder,
        "BigDecimal": lambda v: type(v) is Decimal,
    }
    return checks[name]


def converter(t: TypeRef, *, explicit: bool) -> Converter | None:
    """The conversion applied when a value is stored in a variable of type ``t`` (None: no-op).

    ``explicit`` selects cast semantics, which also narrow numbers.
    """
    if t.dims:
        elem = t.name + "[]" * (t.dims - 1)

        def array(value: Any) -> Any:
            if value is None or (type(value) is JavaArray and value.elem == elem):
                return value
            return _cannot_cast(value, t)

        return array
    if t.name in ("def", "Object"):
        return None
    if t.name in PRIMITIVES:
        return _primitive(t, explicit)
    check = _reference_check(t)
    boxed = {"Double": "double", "Float": "float", "Long": "long"}.get(t.name)
    widen = _primitive(TypeRef(boxed), explicit=False) if boxed else None

    def reference(value: Any) -> Any:
        if value is None or check(value):
            return value
        if widen is not None and is_number(value):
            return widen(value)
        return _cannot_cast(value, t)

    return reference


def _primitive(t: TypeRef, explicit: bool) -> Converter:
    name = t.name
    if name == "boolean":
        return lambda v: v if type(v) is bool else _cannot_cast(v, t)
    if name == "double":
        return lambda v: _as_double(v) if is_number(v) else _cannot_cast(v, t)
    if name == "float":

        def to_float(value: Any) -> Any:
            if type(value) is JavaFloat:
                return value
            if type(value) is int or (explicit and type(value) is float):
                return JavaFloat(float(value))
            return _cannot_cast(value, t)

        return to_float
    bounds = {
        "int": (INT_MIN, INT_MAX),
        "long": (LONG_MIN, LONG_MAX),
        "short": (-32768, 32767),
        "byte": (-128, 127),
    }
    low, high = bounds[name]
    bits = {"int": 32, "long": 64, "short": 16, "byte": 8}[name]

    def wrap(value: int) -> int:
        if bits == 32:
            return wrap_int(value)
        if bits == 64:
            return wrap_long(value)
        half = 1 << (bits - 1)
        return ((value + half) & ((1 << bits) - 1)) - half

    def to_integral(value: Any) -> Any:
        if type(value) is int:
            if low <= value <= high:
                return value
            if explicit or name == "long":
                return wrap(value)
            return _cannot_cast(value, t)
        if explicit and is_number(value):
            if bits < 32:
                return wrap(_to_integral(value, INT_MIN, INT_MAX))
            return _to_integral(value, low, high)
        return _cannot_cast(value, t)

    return to_integral


def default_value(t: TypeRef) -> Any:
    """The value of a declared but unassigned variable or array element."""
    if t.dims:
        return None
    if t.name in ("int", "long", "short", "byte"):
        return 0
    if t.name == "double":
        return 0.0
    if t.name == "float":
        return JavaFloat(0.0)
    if t.name == "boolean":
        return False
    return None
