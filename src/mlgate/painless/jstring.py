"""Java's ``String.valueOf`` for runtime values: number formatting, collections, hash-ordered maps."""

from __future__ import annotations

import math
import struct
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from mlgate.painless.cost import FORMAT, HASH, VISIT
from mlgate.painless.limits import Limits
from mlgate.painless.runtime import Run
from mlgate.painless.values import (
    HashMap,
    JavaArray,
    JavaException,
    JavaFloat,
    StringBuilder,
    round_float32,
    wrap_int,
)

_ARRAY_DESCRIPTORS = {"int": "I", "long": "J", "double": "D", "float": "F", "boolean": "Z", "short": "S"}


def to_java_string(value: Any, run: Run | None = None) -> str:
    """Java ``String.valueOf`` semantics, paid for by ``run`` (a run with the default limits if None).

    ``1.0`` -> ``"1.0"``, ``0.0003`` -> ``"3.0E-4"``, ``1e10`` -> ``"1.0E10"``, lists ``"[a, b]"``,
    maps ``"{k=v}"``, null -> ``"null"``, booleans ``"true"``/``"false"``.
    """
    cls = type(value)
    if cls is str:
        return value  # type: ignore[no-any-return]
    if cls is float:
        return format_double(value)
    if cls is int:
        return str(value)
    if value is None:
        return "null"
    if cls is bool:
        return "true" if value else "false"
    if cls is list or cls is tuple:
        return _collection_string(value, run or Run(Limits()))
    if cls is StringBuilder:
        return builder_text(value, run or Run(Limits()))
    if isinstance(value, dict):
        return _map_string(value, run or Run(Limits()))
    if cls is JavaFloat:
        return format_float(value.value)
    if cls is Decimal:
        text = str(value)  # its length follows the digits the script wrote to create it
        if run is not None:
            run.charge_string(len(text))
        return text
    if cls is JavaArray:
        # Java prints the type descriptor and the identity hash; the hash is not reproducible.
        code = _ARRAY_DESCRIPTORS.get(value.elem, f"Ljava.lang.{value.elem};")
        return f"[{code}@{id(value) & 0xFFFFFFF:x}"
    if cls is JavaException:
        qualified = "java.lang." + value.cls
        return qualified if value.message is None else f"{qualified}: {value.message}"
    return str(value)


def builder_text(builder: StringBuilder, run: Run) -> str:
    """The content of a StringBuilder; joining the appended parts is paid for as a new string."""
    if not builder.is_joined():
        run.charge_string(len(builder))
    return builder.text()


# The longest Double.toString plus the ", " separator: a list of at most max_chars // this many doubles
# always fits, so the fast path never builds an oversized string.
_DOUBLE_WIDTH: Final = 26


def _collection_string(items: list[Any] | tuple[Any, ...], run: Run) -> str:
    # The embedding case: thousands of doubles. When every value lies in [1e-3, 1e7) (checked with
    # C-level min/max; a NaN or infinity makes the sum non-finite), Python's repr is exactly Java's
    # Double.toString and the list is joined without a Python-level call per element.
    if (
        items
        and type(items[0]) is float
        and len(items) <= run.max_chars // _DOUBLE_WIDTH
        and all(type(item) is float for item in items)
        and math.isfinite(sum(items))
        and min(map(abs, items)) >= 1e-3
        and max(map(abs, items)) < 1e7
    ):
        run.charge(len(items) * FORMAT)
        text = "[" + ", ".join(map(repr, items)) + "]"
        run.charge_string(len(text))
        return text
    run.charge(VISIT)
    parts = _Parts(run)
    for item in items:
        parts.add("(this Collection)" if item is items else _element_text(item, run))
    return parts.join("[", "]")


def _map_string(mapping: dict[Any, Any], run: Run) -> str:
    entries = hash_order(mapping, run) if type(mapping) is HashMap else list(mapping.items())
    run.charge(VISIT)
    parts = _Parts(run)
    for key, item in entries:
        key_text = "(this Map)" if key is mapping else _element_text(key, run)
        parts.add(key_text + "=" + ("(this Map)" if item is mapping else _element_text(item, run)))
    return parts.join("{", "}")


def _element_text(item: Any, run: Run) -> str:
    """An element of a collection as text, paid for by what converting it costs."""
    cls = type(item)
    if cls is float:
        if 1e-3 <= abs(item) < 1e7:  # repr is Java's form
            run.charge(FORMAT)
            return repr(item)
        run.charge(4 * VISIT)  # format_double takes up to ~4 µs outside that range
        return format_double(item)
    if cls is JavaFloat:
        run.charge(9 * VISIT)  # format_float takes ~9 µs
        return format_float(item.value)
    run.charge(VISIT)
    return to_java_string(item, run)


class _Parts:
    """The texts of a collection's elements, refused as soon as their total passes the size limit
    (a collection that holds one big string many times must not be joined first and measured after)."""

    __slots__ = ("items", "length", "run")

    def __init__(self, run: Run) -> None:
        self.run = run
        self.items: list[str] = []
        self.length = 0

    def add(self, text: str) -> None:
        self.length += len(text) + 2  # with its ", "
        if self.length > self.run.max_chars:
            self.run.charge_string(self.length)  # refused
        self.items.append(text)

    def join(self, opening: str, closing: str) -> str:
        text = opening + ", ".join(self.items) + closing
        self.run.charge_string(len(text))
        return text


def hash_order(mapping: HashMap, run: Run) -> list[tuple[Any, Any]]:
    """The entries in ``java.util.HashMap`` iteration order: by bucket, then by insertion."""
    mask = mapping.capacity - 1

    def bucket(entry: tuple[Any, Any]) -> int:
        code = java_hash(entry[0], run) & 0xFFFFFFFF
        return (code ^ (code >> 16)) & mask

    run.charge(len(mapping) * VISIT)
    return sorted(mapping.items(), key=bucket)


def java_hash(value: Any, run: Run) -> int:
    """``Object.hashCode()`` for the value types a script can use as map keys."""
    cls = type(value)
    if cls is str:
        run.charge(len(value) * HASH)
        code = 0
        for unit in _utf16_units(value):
            code = (31 * code + unit) & 0xFFFFFFFF
        return wrap_int(code)
    if value is None:
        return 0
    if cls is bool:
        return 1231 if value else 1237
    if cls is int:
        return wrap_int(value ^ (value >> 32)) if value.bit_length() > 31 else int(value)
    if cls is float:
        bits: int = struct.unpack(">q", struct.pack(">d", value if value == value else math.nan))[0]
        return wrap_int(bits ^ (bits >> 32))
    if cls is JavaFloat:
        return int(struct.unpack(">i", struct.pack(">f", value.value))[0])
    return id(value) & 0x7FFFFFFF


def _utf16_units(text: str) -> list[int]:
    if text.isascii():
        return [ord(char) for char in text]
    data = text.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]


def format_double(value: float) -> str:
    """Java ``Double.toString``: shortest round-tripping digits, plain in [1e-3, 1e7), else ``d.dEn``."""
    if 1e-3 <= value < 1e7 or -1e7 < value <= -1e-3:
        # Python's repr is the same shortest representation and is plain in this range.
        return repr(value)
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    digits, exponent = _shortest_digits(repr(value))
    if len(digits) == 1:
        digits, exponent = _two_digit_choice(value, digits, exponent, lambda x: x)
    return _java_notation(value < 0, digits, exponent)


def format_float(value: float) -> str:
    """Java ``Float.toString`` of a value already rounded to single precision."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    text = ""
    for precision in range(9):
        text = f"{value:.{precision}e}"
        if round_float32(float(text)) == value:
            break
    digits, exponent = _shortest_digits(text)
    if len(digits) == 1:
        digits, exponent = _two_digit_choice(value, digits, exponent, round_float32)
    return _java_notation(value < 0, digits, exponent)


def _shortest_digits(text: str) -> tuple[str, int]:
    """Significant digits (no leading/trailing zeros) and the decimal exponent of the first digit."""
    _, digit_tuple, exp = Decimal(text).as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    stripped = digits.rstrip("0")
    assert isinstance(exp, int)
    return stripped or "0", exp + len(digits) - 1


def _two_digit_choice(value: float, digit: str, exponent: int, rounding: Any) -> tuple[str, int]:
    """Java prefers the closest two-digit decimal when the shortest one has a single digit.

    This only changes anything for subnormal values, where ``4.9E-324`` is printed instead of ``5e-324``.
    """
    exact = Fraction(abs(value))
    magnitude = exponent
    while Fraction(10) ** magnitude > exact:
        magnitude -= 1
    scale = Fraction(10) ** (magnitude - 1)
    candidate = round(exact / scale)  # Fraction rounding is half-to-even, as Java breaks ties
    if rounding(float(candidate * scale)) != abs(value):
        return digit, exponent
    text = str(candidate)
    if len(text) == 3:  # rounded up to 100: one digit at the next exponent
        return "1", magnitude + 1
    return text.rstrip("0"), magnitude


def _java_notation(negative: bool, digits: str, exponent: int) -> str:
    sign = "-" if negative else ""
    if -3 <= exponent < 7:
        if exponent >= 0:
            whole = digits[: exponent + 1].ljust(exponent + 1, "0")
            fraction = digits[exponent + 1 :] or "0"
        else:
            whole = "0"
            fraction = "0" * (-exponent - 1) + digits
        return f"{sign}{whole}.{fraction}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"
