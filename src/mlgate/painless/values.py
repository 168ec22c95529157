"""Runtime representation of Java values.

JSON-shaped values are used as they are, so ``params`` never needs converting: ``None`` is null,
``bool`` Boolean, ``int`` Integer (Long outside the int range), ``float`` Double, ``str`` String,
``list`` ArrayList and ``dict`` a LinkedHashMap. The classes below cover what JSON cannot express.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

INT_MIN: Final = -(2**31)
INT_MAX: Final = 2**31 - 1
LONG_MIN: Final = -(2**63)
LONG_MAX: Final = 2**63 - 1


def wrap_int(value: int) -> int:
    """Wrap to a 32-bit two's complement int, as Java int arithmetic does."""
    return ((value + 2**31) & 0xFFFFFFFF) - 2**31


def wrap_long(value: int) -> int:
    """Wrap to a 64-bit two's complement long."""
    return ((value + 2**63) & 0xFFFFFFFFFFFFFFFF) - 2**63


def is_int_range(value: int) -> bool:
    """Whether an integer is an Integer (rather than a Long)."""
    return INT_MIN <= value <= INT_MAX


def round_float32(value: float) -> float:
    """Round a double to the nearest float (IEEE single), overflowing to infinity as Java does."""
    try:
        result: float = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)
    return result


class JavaFloat:
    """A Java ``float``: the value is always exactly representable in single precision."""

    __slots__ = ("value",)

    def __init__(self, value: float) -> None:
        self.value = round_float32(value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JavaFloat) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return f"JavaFloat({self.value!r})"


class StringBuilder:
    """``java.lang.StringBuilder``: appends are collected and joined on demand."""

    __slots__ = ("_ascii", "_length", "_parts")

    def __init__(self, initial: str = "") -> None:
        self._parts: list[str] = [initial] if initial else []
        self._length = len(initial)
        self._ascii = initial.isascii()

    def append(self, text: str) -> None:
        """Append already-converted text."""
        self._parts.append(text)
        self._length += len(text)
        self._ascii = self._ascii and text.isascii()

    def __len__(self) -> int:
        return self._length

    def is_ascii(self) -> bool:
        """Whether the content is ASCII, so that its length in UTF-16 units is ``len``."""
        return self._ascii

    def is_joined(self) -> bool:
        """Whether ``text`` returns the content without joining (copying) anything."""
        return len(self._parts) <= 1

    def text(self) -> str:
        """The current content."""
        parts = self._parts
        if len(parts) != 1:
            joined = "".join(parts)
            self._parts = [joined] if joined else []
            return joined
        return parts[0]

    def set_text(self, text: str) -> None:
        """Replace the content."""
        self._parts = [text] if text else []
        self._length = len(text)
        self._ascii = text.isascii()


class HashMap(dict[Any, Any]):
    """A map created by the script (``new HashMap()``, ``[:]``); Java iterates it in hash order.

    ``capacity`` tracks the bucket-table size of the Java map it stands for, which never shrinks.
    """

    __slots__ = ("capacity",)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.capacity = 16
        self.grow()

    def grow(self) -> None:
        """Double the table while the size is past the 0.75 load factor, as ``java.util.HashMap``."""
        while len(self) > self.capacity * 3 // 4:
            self.capacity *= 2


class JavaArray:
    """A fixed-length Java array.

    ``elem`` is the element type name (``Double``, ``int``, ``int[]``…) and ``store`` the conversion
    applied to a value stored into it (None: any value).
    """

    __slots__ = ("elem", "items", "store")

    def __init__(self, elem: str, items: list[Any], store: Callable[[Any], Any] | None) -> None:
        self.elem = elem
        self.items = items
        self.store = store


class JavaException:
    """An exception object created with ``new IllegalArgumentException(msg)`` and the like."""

    __slots__ = ("cls", "message")

    def __init__(self, cls: str, message: str | None) -> None:
        self.cls = cls
        self.message = message


BOXED_NAMES: Final = {
    "int": "java.lang.Integer",
    "long": "java.lang.Long",
    "short": "java.lang.Short",
    "byte": "java.lang.Byte",
    "float": "java.lang.Float",
    "double": "java.lang.Double",
    "boolean": "java.lang.Boolean",
}

_CLASS_NAMES: Final[dict[type, str]] = {
    str: "java.lang.String",
    bool: "java.lang.Boolean",
    float: "java.lang.Double",
    list: "java.util.ArrayList",
    dict: "java.util.LinkedHashMap",
    HashMap: "java.util.HashMap",
    JavaFloat: "java.lang.Float",
    StringBuilder: "java.lang.StringBuilder",
    Decimal: "java.math.BigDecimal",
}


def java_class(value: Any) -> str:
    """The Java class name of a runtime value, as Painless error messages spell it."""
    if value is None:
        return "null"
    cls = type(value)
    if cls is int:
        return "java.lang.Integer" if is_int_range(value) else "java.lang.Long"
    if cls is JavaArray:
        return java_type_name(str(value.elem)) + "[]"
    if cls is JavaException:
        return "java.lang." + str(value.cls)
    return _CLASS_NAMES.get(cls, "java.lang.Object")


def java_type_name(name: str) -> str:
    """Qualify a script-level type name for messages: ``String`` -> ``java.lang.String``."""
    if name in BOXED_NAMES or name == "def":
        return name
    if name in {"Map", "List", "HashMap", "ArrayList", "LinkedHashMap"}:
        return "java.util." + name
    if name == "BigDecimal":
        return "java.math.BigDecimal"
    return "java.lang." + name
