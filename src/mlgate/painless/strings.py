"""Methods of ``String`` and ``StringBuilder``, each paid for by the size of what it reads and writes.

Java strings are UTF-16: lengths and indices count UTF-16 code units, so text outside the Basic
Multilingual Plane (emoji) counts two. ASCII text takes the fast path (``str.isascii`` is O(1)); other
text is converted, which is paid for by its length.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from mlgate.painless.cost import READ, VISIT, WRITE
from mlgate.painless.jstring import builder_text, java_hash, to_java_string
from mlgate.painless.ops import concat, java_equals, java_error
from mlgate.painless.runtime import Run
from mlgate.painless.values import StringBuilder, java_class

Method = Callable[[Any, list[Any], Run], Any]

# Java's String.trim() removes every character up to and including the space.
_TRIMMED: Final = "".join(chr(code) for code in range(33))
_REGEX_META: Final = frozenset(".$|()[{^?*+\\")


def utf16_length(text: str) -> int:
    """``String.length()``."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _utf16_slice(text: str, begin: int, end: int) -> str:
    if text.isascii():
        return text[begin:end]
    data = text.encode("utf-16-le", "surrogatepass")
    return data[2 * begin : 2 * end].decode("utf-16-le", "surrogatepass")


def _utf16_index(text: str, index: int) -> int:
    """Convert a code-point index found by Python into a UTF-16 index."""
    if index < 0 or text.isascii():
        return index
    return utf16_length(text[:index])


def _from_utf16_index(text: str, index: int) -> int:
    if text.isascii():
        return index
    return len(_utf16_slice(text, 0, index))


def _read(text: str, run: Run) -> str:
    """Pay for an operation that scans ``text`` once, or converts it to UTF-16 when it is not ASCII."""
    run.charge(len(text) * READ)
    return text


def _units(text: str, run: Run) -> str:
    """Pay for the UTF-16 conversions of an index-based operation on non-ASCII ``text``."""
    if not text.isascii():
        run.charge(len(text) * READ * 4)
    return text


def int_arg(value: Any) -> int:
    """An argument Java declares as ``int``."""
    if type(value) is int:
        return value
    if value is None:
        raise java_error("NullPointerException", "Cannot cast null to a primitive type [int]")
    raise java_error("ClassCastException", f"Cannot cast {java_class(value)} to int")


def text_arg(value: Any, run: Run) -> str:
    """An argument Java declares as ``String`` or ``CharSequence``."""
    if type(value) is str:
        return value
    if type(value) is StringBuilder:
        return builder_text(value, run)
    if value is None:
        raise java_error("NullPointerException", "Cannot invoke a String method with a null argument")
    raise java_error("ClassCastException", f"Cannot cast {java_class(value)} to java.lang.String")


def _substring(text: str, args: list[Any], run: Run) -> str:
    length = utf16_length(_units(text, run))
    begin = int_arg(args[0])
    end = int_arg(args[1]) if len(args) > 1 else length
    if begin < 0 or end > length or begin > end:
        raise java_error("StringIndexOutOfBoundsException", f"begin {begin}, end {end}, length {length}")
    run.charge_string(end - begin)
    return _utf16_slice(text, begin, end)


def _char_at(text: str, args: list[Any], run: Run) -> str:
    index = int_arg(args[0])
    length = utf16_length(_units(text, run))
    if not 0 <= index < length:
        raise java_error(
            "StringIndexOutOfBoundsException", f"Index {index} out of bounds for length {length}"
        )
    return _utf16_slice(text, index, index + 1)


def _index_of(text: str, args: list[Any], run: Run) -> int:
    needle = text_arg(args[0], run)
    _read(_units(text, run), run)
    start = _from_utf16_index(text, max(0, int_arg(args[1]))) if len(args) > 1 else 0
    return _utf16_index(text, text.find(needle, start))


def _last_index_of(text: str, args: list[Any], run: Run) -> int:
    needle = text_arg(args[0], run)
    return _utf16_index(text, _read(_units(text, run), run).rfind(needle))


def _replace(text: str, args: list[Any], run: Run) -> str:
    target, replacement = text_arg(args[0], run), text_arg(args[1], run)
    if not target:  # Java inserts the replacement around every character
        run.charge_string(len(text) + (len(text) + 1) * len(replacement))
    else:
        # Counted first (a scan), so that an expanding replace is refused before it is built.
        count = _read(text, run).count(target)
        run.charge_string(len(text) + count * (len(replacement) - len(target)))
    return text.replace(target, replacement)


def _compare_to(text: str, args: list[Any], run: Run) -> int:
    other = text_arg(args[0], run)
    run.charge(min(len(text), len(other)) * VISIT)  # compared unit by unit in Python
    mine = text.encode("utf-16-be", "surrogatepass")
    theirs = other.encode("utf-16-be", "surrogatepass")
    for i in range(0, min(len(mine), len(theirs)), 2):
        a, b = int.from_bytes(mine[i : i + 2], "big"), int.from_bytes(theirs[i : i + 2], "big")
        if a != b:
            return a - b
    return (len(mine) - len(theirs)) // 2


def _split(text: str, args: list[Any], run: Run) -> list[str]:
    separator = text_arg(args[0], run)
    if any(char in _REGEX_META for char in separator) or not separator:
        raise java_error("UnsupportedOperationException", "split with a regular expression is not supported")
    pieces = _read(text, run).count(separator) + 1
    run.check_size(pieces, pieces)
    run.charge(len(text) * WRITE)
    parts = text.split(separator)
    while parts and parts[-1] == "" and len(parts) > 1:
        parts.pop()  # Java's split drops trailing empty strings
    return parts


def _repeat(text: str, args: list[Any], run: Run) -> str:
    count = int_arg(args[0])
    if count < 0:
        raise java_error("IllegalArgumentException", f"count is negative: {count}")
    run.charge_string(len(text) * count)
    return text * count


def _case(text: str, run: Run, upper: bool) -> str:
    run.charge_string(len(text))
    # A few characters grow when their case changes ("ß" -> "SS"): measured again once built.
    changed = text.upper() if upper else text.lower()
    if len(changed) > len(text):
        run.charge_string(len(changed))
    return changed


def _trimmed(text: str, run: Run, characters: str | None) -> str:
    run.charge(len(text) * WRITE)
    return text.strip(characters)


def _equals_ignore_case(text: str, other: Any, run: Run) -> bool:
    if type(other) is not str:
        return False
    run.charge((len(text) + len(other)) * READ * 4)
    return text.lower() == other.lower()


def _hash_code(text: str, args: list[Any], run: Run) -> int:
    return java_hash(text, run)


STRING_METHODS: Final[dict[tuple[str, int], Method]] = {
    ("length", 0): lambda s, a, r: utf16_length(_units(s, r)),
    ("isEmpty", 0): lambda s, a, r: not s,
    ("isBlank", 0): lambda s, a, r: not _read(s, r).strip(),
    ("charAt", 1): _char_at,
    ("substring", 1): _substring,
    ("substring", 2): _substring,
    ("indexOf", 1): _index_of,
    ("indexOf", 2): _index_of,
    ("lastIndexOf", 1): _last_index_of,
    ("contains", 1): lambda s, a, r: text_arg(a[0], r) in _read(s, r),
    ("startsWith", 1): lambda s, a, r: s.startswith(_read(text_arg(a[0], r), r)),
    ("endsWith", 1): lambda s, a, r: s.endswith(_read(text_arg(a[0], r), r)),
    ("equals", 1): lambda s, a, r: java_equals(s, a[0], r),
    ("equalsIgnoreCase", 1): lambda s, a, r: _equals_ignore_case(s, a[0], r),
    ("replace", 2): _replace,
    ("toLowerCase", 0): lambda s, a, r: _case(s, r, upper=False),
    ("toUpperCase", 0): lambda s, a, r: _case(s, r, upper=True),
    ("trim", 0): lambda s, a, r: _trimmed(s, r, _TRIMMED),
    ("strip", 0): lambda s, a, r: _trimmed(s, r, None),
    ("concat", 1): lambda s, a, r: concat(s, text_arg(a[0], r), r),
    ("compareTo", 1): _compare_to,
    ("split", 1): _split,
    ("splitOnToken", 1): _split,
    ("repeat", 1): _repeat,
    ("toString", 0): lambda s, a, r: s,
    ("hashCode", 0): _hash_code,
}


def append(builder: StringBuilder, value: Any, run: Run) -> StringBuilder:
    """``builder.append(value)``: the appended text is paid for as written, refused past the size limit."""
    text = to_java_string(value, run)
    run.charge_string(len(builder) + len(text), len(text))
    builder.append(text)
    return builder


def _insert(builder: StringBuilder, args: list[Any], run: Run) -> StringBuilder:
    content = _units(builder_text(builder, run), run)
    offset = int_arg(args[0])
    length = utf16_length(content)
    if not 0 <= offset <= length:
        raise java_error("StringIndexOutOfBoundsException", f"offset {offset}, length {length}")
    inserted = to_java_string(args[1], run)
    run.charge_string(len(content) + len(inserted))
    builder.set_text(_utf16_slice(content, 0, offset) + inserted + _utf16_slice(content, offset, length))
    return builder


def _set_length(builder: StringBuilder, args: list[Any], run: Run) -> None:
    size = int_arg(args[0])
    if size < 0:
        raise java_error("StringIndexOutOfBoundsException", f"String index out of range: {size}")
    run.charge_string(size)  # before padding: the size may be anything up to 2**31 - 1
    content = _units(builder_text(builder, run), run)
    length = utf16_length(content)
    padded = _utf16_slice(content, 0, size) if size <= length else content + "\0" * (size - length)
    builder.set_text(padded)


def _reverse(builder: StringBuilder, args: list[Any], run: Run) -> StringBuilder:
    content = builder_text(builder, run)
    run.charge_string(len(content))
    builder.set_text(content[::-1])
    return builder


def _builder_length(builder: StringBuilder, args: list[Any], run: Run) -> int:
    if builder.is_ascii():
        return len(builder)
    return utf16_length(_units(builder_text(builder, run), run))


BUILDER_METHODS: Final[dict[tuple[str, int], Method]] = {
    ("append", 1): lambda b, a, r: append(b, a[0], r),
    ("toString", 0): lambda b, a, r: builder_text(b, r),
    ("length", 0): _builder_length,
    ("isEmpty", 0): lambda b, a, r: len(b) == 0,
    ("charAt", 1): lambda b, a, r: _char_at(builder_text(b, r), a, r),
    ("indexOf", 1): lambda b, a, r: _index_of(builder_text(b, r), a, r),
    ("insert", 2): _insert,
    ("setLength", 1): _set_length,
    ("reverse", 0): _reverse,
}
