"""Lists, maps and arrays: their methods, brace access (``x[i]``) and dot access (``x.name``).

Methods whose work grows with the collection pay for it: copies and shifts per element copied, lookups
by ``equals`` per element visited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from mlgate.painless.cost import ELEMENT, VISIT
from mlgate.painless.errors import ScriptRuntimeError
from mlgate.painless.jstring import hash_order
from mlgate.painless.ops import java_equals, java_error
from mlgate.painless.runtime import Run
from mlgate.painless.strings import int_arg
from mlgate.painless.values import HashMap, JavaArray, java_class

Method = Callable[[Any, list[Any], Run], Any]


def _bounds_error(index: int, length: int, array: bool = False) -> ScriptRuntimeError:
    name = "ArrayIndexOutOfBoundsException" if array else "IndexOutOfBoundsException"
    return java_error(name, f"Index {index} out of bounds for length {length}")


def _normalize(index: Any, length: int, array: bool) -> int:
    """Painless brace access counts a negative index from the end, once."""
    position = int_arg(index)
    if position < 0:
        position += length
    if not 0 <= position < length:
        raise _bounds_error(position, length, array)
    return position


def index_get(target: Any, index: Any) -> Any:
    """``target[index]`` on a list, array or map."""
    cls = type(target)
    if cls is list:
        return target[_normalize(index, len(target), False)]
    if isinstance(target, dict):
        return target.get(index)
    if cls is JavaArray:
        return target.items[_normalize(index, len(target.items), True)]
    if target is None:
        raise java_error("NullPointerException", "Cannot access an element of a null value")
    raise java_error(
        "IllegalArgumentException",
        f"Attempting to address a non-array type [{java_class(target)}] as an array.",
    )


def index_set(target: Any, index: Any, value: Any, run: Run) -> None:
    """``target[index] = value`` on a list, array (converting to its element type) or map."""
    cls = type(target)
    if cls is list:
        target[_normalize(index, len(target), False)] = value
    elif isinstance(target, dict):
        _put(target, index, value, run)
    elif cls is JavaArray:
        position = _normalize(index, len(target.items), True)
        target.items[position] = value if target.store is None else target.store(value)
    elif target is None:
        raise java_error("NullPointerException", "Cannot store an element into a null value")
    else:
        raise java_error(
            "IllegalArgumentException",
            f"Attempting to address a non-array type [{java_class(target)}] as an array.",
        )


def field_get(target: Any, name: str) -> Any:
    """``target.name``: a map key, or one of the getters Painless exposes as fields."""
    if isinstance(target, dict):
        if name == "empty":  # Map.isEmpty() is a getter, so it wins over the key
            return not target
        return target.get(name)
    cls = type(target)
    if cls is list:
        if name == "length":  # Painless' List.getLength() augmentation
            return len(target)
        if name == "empty":
            return not target
    elif cls is JavaArray:
        if name == "length":
            return len(target.items)
    elif cls is str:
        if name == "empty":
            return not target
    elif target is None:
        raise java_error("NullPointerException", f"Cannot access field [{name}] of a null value")
    raise java_error("IllegalArgumentException", f"dynamic getter [{java_class(target)}, {name}] not found")


def field_set(target: Any, name: str, value: Any, run: Run) -> None:
    """``target.name = value`` (maps only)."""
    if isinstance(target, dict):
        _put(target, name, value, run)
        return
    if target is None:
        raise java_error("NullPointerException", f"Cannot set field [{name}] of a null value")
    raise java_error("IllegalArgumentException", f"dynamic setter [{java_class(target)}, {name}] not found")


def _put(target: dict[Any, Any], key: Any, value: Any, run: Run) -> Any:
    previous = target.get(key)
    target[key] = value
    if type(target) is HashMap:
        target.grow()
    run.check_size(len(target))
    return previous


def _collection(value: Any) -> list[Any]:
    if type(value) is list:
        return value
    if value is None:
        raise java_error("NullPointerException", "Cannot use a null collection")
    raise java_error("ClassCastException", f"Cannot cast {java_class(value)} to java.util.Collection")


def _list_get(items: list[Any], args: list[Any], run: Run) -> Any:
    index = int_arg(args[0])
    if not 0 <= index < len(items):
        raise _bounds_error(index, len(items))
    return items[index]


def _list_add(items: list[Any], args: list[Any], run: Run) -> bool:
    run.check_size(len(items) + 1)
    items.append(args[0])
    return True


def _list_insert(items: list[Any], args: list[Any], run: Run) -> None:
    index = int_arg(args[0])
    if not 0 <= index <= len(items):
        raise _bounds_error(index, len(items))
    run.check_size(len(items) + 1, len(items) - index + 1)  # the elements after it move
    items.insert(index, args[1])


def _list_add_all(items: list[Any], args: list[Any], run: Run) -> bool:
    extra = _collection(args[0])
    run.check_size(len(items) + len(extra), len(extra))
    items.extend(list(extra))
    return bool(extra)


def _list_set(items: list[Any], args: list[Any], run: Run) -> Any:
    index = int_arg(args[0])
    if not 0 <= index < len(items):
        raise _bounds_error(index, len(items))
    previous = items[index]
    items[index] = args[1]
    return previous


def _list_index_of(items: list[Any], value: Any, run: Run) -> int:
    run.charge(len(items) * VISIT)  # the whole list, before the work: a run stops before a long scan
    return next((i for i, item in enumerate(items) if java_equals(value, item, run)), -1)


def _list_remove(items: list[Any], args: list[Any], run: Run) -> Any:
    if type(args[0]) is int:  # remove(int index)
        index = args[0]
        if not 0 <= index < len(items):
            raise _bounds_error(index, len(items))
        run.charge((len(items) - index) * ELEMENT)  # the elements after it move
        return items.pop(index)
    position = _list_index_of(items, args[0], run)  # remove(Object)
    if position < 0:
        return False
    run.charge((len(items) - position) * ELEMENT)
    del items[position]
    return True


LIST_METHODS: Final[dict[tuple[str, int], Method]] = {
    ("size", 0): lambda x, a, r: len(x),
    ("getLength", 0): lambda x, a, r: len(x),
    ("isEmpty", 0): lambda x, a, r: not x,
    ("get", 1): _list_get,
    ("add", 1): _list_add,
    ("add", 2): _list_insert,
    ("addAll", 1): _list_add_all,
    ("set", 2): _list_set,
    ("remove", 1): _list_remove,
    ("contains", 1): lambda x, a, r: _list_index_of(x, a[0], r) >= 0,
    ("indexOf", 1): lambda x, a, r: _list_index_of(x, a[0], r),
    ("clear", 0): lambda x, a, r: x.clear(),
    ("equals", 1): lambda x, a, r: java_equals(x, a[0], r),
}


def map_entries(target: dict[Any, Any], run: Run) -> list[tuple[Any, Any]]:
    """The entries in Java iteration order (hash order for maps the script created), paid as a copy."""
    run.check_size(len(target), len(target))
    return hash_order(target, run) if type(target) is HashMap else list(target.items())


def _map_put_all(target: dict[Any, Any], args: list[Any], run: Run) -> None:
    source = args[0]
    if not isinstance(source, dict):
        raise java_error("ClassCastException", f"Cannot cast {java_class(source)} to java.util.Map")
    run.charge(len(source) * VISIT)
    for key, value in list(source.items()):
        _put(target, key, value, run)


def _map_put_if_absent(target: dict[Any, Any], args: list[Any], run: Run) -> Any:
    current = target.get(args[0])
    if current is None:
        _put(target, args[0], args[1], run)
    return current


def _map_remove(target: dict[Any, Any], args: list[Any], run: Run) -> Any:
    return target.pop(args[0], None)


def _contains_value(target: dict[Any, Any], value: Any, run: Run) -> bool:
    run.charge(len(target) * VISIT)
    return any(java_equals(value, item, run) for item in target.values())


def _map_get_or_default(target: dict[Any, Any], args: list[Any], run: Run) -> Any:
    return target[args[0]] if args[0] in target else args[1]


MAP_METHODS: Final[dict[tuple[str, int], Method]] = {
    ("get", 1): lambda m, a, r: m.get(a[0]),
    ("put", 2): lambda m, a, r: _put(m, a[0], a[1], r),
    ("putAll", 1): _map_put_all,
    ("putIfAbsent", 2): _map_put_if_absent,
    ("getOrDefault", 2): _map_get_or_default,
    ("containsKey", 1): lambda m, a, r: a[0] in m,
    ("containsValue", 1): lambda m, a, r: _contains_value(m, a[0], r),
    ("remove", 1): _map_remove,
    ("size", 0): lambda m, a, r: len(m),
    ("isEmpty", 0): lambda m, a, r: not m,
    ("keySet", 0): lambda m, a, r: [key for key, _ in map_entries(m, r)],
    ("values", 0): lambda m, a, r: [value for _, value in map_entries(m, r)],
    ("clear", 0): lambda m, a, r: m.clear(),
    ("equals", 1): lambda m, a, r: java_equals(m, a[0], r),
}
