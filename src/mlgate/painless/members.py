"""The allow-list: which methods and constructors a script can reach, dispatched on the receiver.

Nothing else is reachable: a method that is not in these tables is a Painless
``dynamic method [class, name/arity] not found`` error, whatever the Python object would offer.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from mlgate.painless.containers import LIST_METHODS, MAP_METHODS
from mlgate.painless.jstring import java_hash, to_java_string
from mlgate.painless.numeric import BOOLEAN_METHODS, DECIMAL_METHODS, NUMBER_METHODS, new_big_decimal
from mlgate.painless.ops import java_equals, java_error
from mlgate.painless.runtime import Run
from mlgate.painless.strings import BUILDER_METHODS, STRING_METHODS, int_arg, text_arg
from mlgate.painless.values import HashMap, JavaArray, JavaException, JavaFloat, StringBuilder, java_class

Method = Callable[[Any, list[Any], Run], Any]
Constructor = Callable[[list[Any], Run], Any]

EXCEPTION_CLASSES: Final = frozenset(
    {
        "Exception",
        "RuntimeException",
        "IllegalArgumentException",
        "IllegalStateException",
        "UnsupportedOperationException",
        "NullPointerException",
        "ArithmeticException",
        "IndexOutOfBoundsException",
        "NumberFormatException",
    }
)

_EXCEPTION_METHODS: Final[dict[tuple[str, int], Method]] = {
    ("getMessage", 0): lambda e, a, r: e.message,
}

_COMMON_METHODS: Final[dict[tuple[str, int], Method]] = {
    ("toString", 0): lambda x, a, r: to_java_string(x, r),
    ("equals", 1): lambda x, a, r: java_equals(x, a[0], r),
    ("hashCode", 0): lambda x, a, r: java_hash(x, r),
}

_EMPTY: Final[dict[tuple[str, int], Method]] = {}

_TABLES: Final[dict[type, dict[tuple[str, int], Method]]] = {
    str: STRING_METHODS,
    list: LIST_METHODS,
    dict: MAP_METHODS,
    HashMap: MAP_METHODS,
    StringBuilder: BUILDER_METHODS,
    int: NUMBER_METHODS,
    float: NUMBER_METHODS,
    JavaFloat: NUMBER_METHODS,
    Decimal: DECIMAL_METHODS,
    bool: BOOLEAN_METHODS,
    JavaException: _EXCEPTION_METHODS,
    JavaArray: _EMPTY,
}


def invoke(receiver: Any, name: str, key: tuple[str, int], args: list[Any], run: Run) -> Any:
    """Call the allow-listed method ``name`` (``key`` = name and arity) on ``receiver``."""
    table = _TABLES.get(type(receiver))
    if table is not None:
        method = table.get(key) or _COMMON_METHODS.get(key)
        if method is not None:
            return method(receiver, args, run)
    if receiver is None:
        raise java_error("NullPointerException", f"Cannot invoke method [{name}] on a null value")
    raise java_error(
        "IllegalArgumentException", f"dynamic method [{java_class(receiver)}, {name}/{key[1]}] not found"
    )


def _new_builder(args: list[Any], run: Run) -> StringBuilder:
    if not args or type(args[0]) is int:  # no argument, or an initial capacity
        if args and int_arg(args[0]) < 0:
            raise java_error("NegativeArraySizeException", str(args[0]))
        return StringBuilder()
    return StringBuilder(text_arg(args[0], run))


def _new_list(args: list[Any], run: Run) -> list[Any]:
    if not args or type(args[0]) is int:
        return []
    source = args[0]
    if type(source) is not list:
        raise java_error("ClassCastException", f"Cannot cast {java_class(source)} to java.util.Collection")
    run.check_size(len(source), len(source))
    return list(source)


def _new_map(ordered: bool) -> Constructor:
    def create(args: list[Any], run: Run) -> dict[Any, Any]:
        source = args[0] if args and type(args[0]) is not int else {}
        if not isinstance(source, dict):
            raise java_error("ClassCastException", f"Cannot cast {java_class(source)} to java.util.Map")
        run.check_size(len(source), len(source))
        if ordered:
            return dict(source)
        created = HashMap(source)
        # new HashMap(m) sizes its table for m up front (tableSizeFor(size / 0.75 + 1)).
        while created.capacity < len(source) / 0.75 + 1:
            created.capacity *= 2
        return created

    return create


def _new_exception(cls: str) -> Constructor:
    def create(args: list[Any], run: Run) -> JavaException:
        message = args[0] if args else None
        if message is not None and type(message) is not str:
            message = text_arg(message, run)
        return JavaException(cls, message)

    return create


_CONSTRUCTORS: Final[dict[tuple[str, int], Constructor]] = {
    ("StringBuilder", 0): _new_builder,
    ("StringBuilder", 1): _new_builder,
    ("ArrayList", 0): _new_list,
    ("ArrayList", 1): _new_list,
    ("HashMap", 0): _new_map(False),
    ("HashMap", 1): _new_map(False),
    ("LinkedHashMap", 0): _new_map(True),
    ("LinkedHashMap", 1): _new_map(True),
    ("BigDecimal", 1): new_big_decimal,
    **{(cls, arity): _new_exception(cls) for cls in EXCEPTION_CLASSES for arity in (0, 1)},
}


def constructor(cls: str, arity: int) -> Constructor | None:
    """The allow-listed constructor ``new cls(...)`` with ``arity`` arguments, if any."""
    return _CONSTRUCTORS.get((cls, arity))
