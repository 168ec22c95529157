"""Java semantics of Painless operators on dynamic (``def``) values.

Numeric promotion follows Java: double beats float beats long beats int; int results wrap at 32
bits. A Python ``int`` inside the int range counts as an Integer and outside it as a Long, which is
how Jackson hands JSON integers over; a Long variable holding a small value therefore behaves as an
Integer here.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from mlgate.painless.cost import READ, VISIT, WRITE
from mlgate.painless.errors import ScriptRuntimeError
from mlgate.painless.jstring import to_java_string
from mlgate.painless.runtime import Run
from mlgate.painless.values import (
    JavaArray,
    JavaFloat,
    StringBuilder,
    is_int_range,
    java_class,
    wrap_int,
    wrap_long,
)

NUMERIC = (int, float, JavaFloat)


def java_error(exception: str, message: str) -> ScriptRuntimeError:
    """The error for the Java exception ``exception`` (simple class name) with ``message``."""
    return ScriptRuntimeError(message, exception)


def concat(left: str, right: str, run: Run) -> str:
    """``left + right``, paid for (and refused past the size limit) before it is built."""
    size = len(left) + len(right)
    if size > run.max_chars:
        run.charge_string(size)  # refused
    run.cost += size * WRITE  # Run.charge, inlined: concatenation is the commonest operation
    if run.cost > run.cost_mark:
        run.checkpoint()
    return left + right


def _cannot_apply(op: str, left: Any, right: Any) -> ScriptRuntimeError:
    if left is None or right is None:
        return java_error("NullPointerException", f"Cannot apply [{op}] operation to a null value")
    return java_error(
        "ClassCastException",
        f"Cannot apply [{op}] operation to types [{java_class(left)}] and [{java_class(right)}].",
    )


def is_number(value: Any) -> bool:
    """Whether the value is a Java number (booleans are not)."""
    cls = type(value)
    return cls is int or cls is float or cls is JavaFloat


def _int_result(value: int, left: int, right: int) -> int:
    if is_int_range(left) and is_int_range(right):
        return wrap_int(value)
    return wrap_long(value)


def add(left: Any, right: Any, run: Run) -> Any:
    """``+``: string concatenation when either side is a String, else numeric addition."""
    lcls, rcls = type(left), type(right)
    if lcls is str:
        return concat(left, right if rcls is str else to_java_string(right, run), run)
    if rcls is str:
        return concat(to_java_string(left, run), right, run)
    if lcls is int and rcls is int:
        return _int_result(left + right, left, right)
    return arith("+", left, right)


def arith(op: str, left: Any, right: Any) -> Any:
    """Binary ``+ - * / %`` on numbers with Java promotion, overflow and division rules."""
    lcls, rcls = type(left), type(right)
    if lcls is int and rcls is int:
        if op == "+":
            return _int_result(left + right, left, right)
        if op == "-":
            return _int_result(left - right, left, right)
        if op == "*":
            return _int_result(left * right, left, right)
        if right == 0:
            raise java_error("ArithmeticException", "/ by zero")
        quotient = abs(left) // abs(right)
        if (left < 0) != (right < 0):
            quotient = -quotient
        if op == "/":
            return _int_result(quotient, left, right)
        return _int_result(left - right * quotient, left, right)
    if not (is_number(left) and is_number(right)):
        raise _cannot_apply(op, left, right)
    single = (lcls is JavaFloat or rcls is JavaFloat) and lcls is not float and rcls is not float
    a = left.value if lcls is JavaFloat else float(left)
    b = right.value if rcls is JavaFloat else float(right)
    result = _float_op(op, a, b)
    return JavaFloat(result) if single else result


def _float_op(op: str, a: float, b: float) -> float:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            if a == 0 or a != a:
                return math.nan
            return math.copysign(math.inf, a) * math.copysign(1.0, b)
        return a / b
    if b == 0 or math.isinf(a) or a != a or b != b:
        return math.nan
    return math.fmod(a, b)


def negate(value: Any) -> Any:
    """Unary minus."""
    cls = type(value)
    if cls is int:
        return wrap_int(-value) if is_int_range(value) else wrap_long(-value)
    if cls is float:
        return -value
    if cls is JavaFloat:
        return JavaFloat(-value.value)
    if value is None:
        raise java_error("NullPointerException", "Cannot apply [-] operation to a null value")
    raise java_error("ClassCastException", f"Cannot apply [-] operation to type [{java_class(value)}].")


def compare(op: str, left: Any, right: Any) -> bool:
    """``< <= > >=`` on numbers."""
    if not (is_number(left) and is_number(right)):
        raise _cannot_apply(op, left, right)
    a = left.value if type(left) is JavaFloat else left
    b = right.value if type(right) is JavaFloat else right
    if type(a) is not type(b):
        a, b = float(a), float(b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def java_eq(left: Any, right: Any, run: Run) -> bool:
    """Painless ``==``: numbers compare by value after promotion, other values with ``equals``."""
    if left is right:
        return left is not None or right is None
    if left is None or right is None:
        return False
    if is_number(left) and is_number(right):
        a = left.value if type(left) is JavaFloat else left
        b = right.value if type(right) is JavaFloat else right
        if type(a) is not type(b):
            return float(a) == float(b)
        return bool(a == b)
    return java_equals(left, right, run)


def java_equals(left: Any, right: Any, run: Run) -> bool:
    """``Object.equals``: same class and same value; collections element by element (charged per
    element visited, so shared sub-collections compared again are paid for again)."""
    lcls, rcls = type(left), type(right)
    if left is right:
        return True
    if left is None or right is None:
        return False
    if lcls is int and rcls is int:
        return bool(left == right) and is_int_range(left) == is_int_range(right)
    if lcls is float and rcls is float:
        return bool(left == right or (left != left and right != right))
    if lcls is str:
        if rcls is not str or len(left) != len(right):
            return False
        run.charge(len(left) * READ)
        return bool(left == right)
    if lcls is bool or lcls is JavaFloat or lcls is Decimal:
        return lcls is rcls and bool(left == right)
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return False
        run.charge(len(left) * VISIT)
        return all(java_equals(a, b, run) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        if len(left) != len(right):
            return False
        run.charge(len(left) * VISIT)
        return all(key in right and java_equals(item, right[key], run) for key, item in left.items())
    return False


def truth(value: Any) -> bool:
    """A condition must be a boolean; Painless does not coerce."""
    if value is True or value is False:
        return bool(value)
    if value is None:
        raise java_error("NullPointerException", "Cannot cast null to a primitive type [boolean]")
    raise java_error("ClassCastException", f"Cannot cast {java_class(value)} to boolean")


def is_instance(value: Any, type_name: str, dims: int) -> bool:
    """``value instanceof T``."""
    if value is None:
        return False
    if dims:
        return type(value) is JavaArray and value.elem == type_name
    cls = type(value)
    checks = {
        "def": True,
        "Object": True,
        "String": cls is str,
        "CharSequence": cls is str or cls is StringBuilder,
        "Integer": cls is int and is_int_range(value),
        "Long": cls is int and not is_int_range(value),
        "Double": cls is float,
        "Float": cls is JavaFloat,
        "Number": cls in NUMERIC or cls is Decimal,
        "Boolean": cls is bool,
        "Map": isinstance(value, dict),
        "HashMap": isinstance(value, dict),
        "List": cls is list,
        "ArrayList": cls is list,
        "Collection": cls is list,
        "StringBuilder": cls is StringBuilder,
        "BigDecimal": cls is Decimal,
    }
    return checks.get(type_name, False)
