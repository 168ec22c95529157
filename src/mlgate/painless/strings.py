"""Methods of ``String`` and ``StringBuilder``.

Java strings are UTF-16: lengths and indices count UTF-16 code units, so text outside the Basic
Multilingual Plane (emoji) counts two. ASCII text takes the fast path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from mlgate.painless.jstring import java_hash, to_java_string
from mlgate.painless.ops import check_length, java_equals, java_error
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


def int_arg(value: Any) -> int:
    """An argument Java declares as ``int``."""
    if type(value) is int:
        return value
    if value is None:
        raise java_error("NullPointerException", "Cannot cast null to a primitive type [int]")
    raise java_error("ClassCastException", f"Cannot cast {java_class(value)} to int")


def text_arg(value: Any) -> str:
    """An argument Java declares as ``String`` or ``CharSequence``."""
    if type(value) is str:
        return value
    if type(value) is StringBuilder:
        return value.text()
    if value is None:
        raise java_error("NullPointerException", "Cannot invoke a String method with a null argument")
    raise java_error("ClassCastException", f"Cannot cast {java_class(value)} to java.lang.String")


def _substring(text: str, args: list[Any], run: Run) -> str:
    length = utf16_length(text)
    begin = int_arg(args[0])
    end = int_arg(args[1]) if len(args) > 1 else length
    if begin < 0 or end > length or begin > end:
        raise java_error("StringIndexOutOfBoundsException", f"begin {begin}, end {end}, length {length}")
    return _utf16_slice(text, begin, end)


def _char_at(text: str, args: list[Any], run: Run) -> str:
    index = int_arg(args[0])
    length = utf16_length(text)
    if not 0 <= index < length:
        raise java_error(
            "StringIndexOutOfBoundsException", f"Index {index} out of bounds for length {length}"
        )
    return _utf16_slice(text, index, index + 1)


def _index_of(text: str, args: list[Any], run: Run) -> int:
    needle = text_arg(args[0])
    start = _from_utf16_index(text, max(0, int_arg(args[1]))) if len(args) > 1 else 0
    return _utf16_index(text, text.find(needle, start))


def _replace(text: str, args: list[Any], run: Run) -> str:
    return check_length(text.replace(text_arg(args[0]), text_arg(args[1])), run.max_chars)


def _compare_to(text: str, args: list[Any], run: Run) -> int:
    other = text_arg(args[0])
    mine = text.encode("utf-16-be", "surrogatepass")
    theirs = other.encode("utf-16-be", "surrogatepass")
    for i in range(0, min(len(mine), len(theirs)), 2):
        a, b = int.from_bytes(mine[i : i + 2], "big"), int.from_bytes(theirs[i : i + 2], "big")
        if a != b:
            return a - b
    return (len(mine) - len(theirs)) // 2


def _split(text: str, args: list[Any], run: Run) -> list[str]:
    separator = text_arg(args[0])
    if any(char in _REGEX_META for char in separator) or not separator:
        raise java_error("UnsupportedOperationException", "split with a regular expression is not supported")
    parts = text.split(separator)
    while parts and parts[-1] == "" and len(parts) > 1:
        parts.pop()  # Java's split drops trailing empty strings
    return parts


def _repeat(text: str, args: list[Any], run: Run) -> str:
    count = int_arg(args[0])
    if count < 0:
        raise java_error("IllegalArgumentException", f"count is negative: {count}")
    if len(text) * count > run.max_chars:
        check_length("x" * (run.max_chars + 1), run.max_chars)
    return text * count


STRING_METHODS: Final[dict[tuple[str, int], Method]] = {
    ("length", 0): lambda s, a, r: utf16_length(s),
    ("isEmpty", 0): lambda s, a, r: not s,
    ("isBlank", 0): lambda s, a, r: not s.strip(),
    ("charAt", 1): _char_at,
    ("substring", 1): _substring,
    ("substring", 2): _substring,
    ("indexOf", 1): _index_of,
    ("indexOf", 2): _index_of,
    ("lastIndexOf", 1): lambda s, a, r: _utf16_index(s, s.rfind(text_arg(a[0]))),
    ("contains", 1): lambda s, a, r: text_arg(a[0]) in s,
    ("startsWith", 1): lambda s, a, r: s.startswith(text_arg(a[0])),
    ("endsWith", 1): lambda s, a, r: s.endswith(text_arg(a[0])),
    ("equals", 1): lambda s, a, r: java_equals(s, a[0]),
    ("equalsIgnoreCase", 1): lambda s, a, r: type(a[0]) is str and s.lower() == a[0].lower(),
    ("replace", 2): _replace,
    ("toLowerCase", 0): lambda s, a, r: s.lower(),
    ("toUpperCase", 0): lambda s, a, r: s.upper(),
    ("trim", 0): lambda s, a, r: s.strip(_TRIMMED),
    ("strip", 0): lambda s, a, r: s.strip(),
    ("concat", 1): lambda s, a, r: check_length(s + text_arg(a[0]), r.max_chars),
    ("compareTo", 1): _compare_to,
    ("split", 1): _split,
    ("splitOnToken", 1): _split,
    ("repeat", 1): _repeat,
    ("toString", 0): lambda s, a, r: s,
    ("hashCode", 0): lambda s, a, r: java_hash(s),
}


def _append(builder: StringBuilder, args: list[Any], run: Run) -> StringBuilder:
    text = to_java_string(args[0])
    if len(builder) + len(text) > run.max_chars:
        check_length("x" * (run.max_chars + 1), run.max_chars)
    builder.append(text)
    return builder


def _insert(builder: StringBuilder, args: list[Any], run: Run) -> StringBuilder:
    content = builder.text()
    offset = int_arg(args[0])
    length = utf16_length(content)
    if not 0 <= offset <= length:
        raise java_error("StringIndexOutOfBoundsException", f"offset {offset}, length {length}")
    text = _utf16_slice(content, 0, offset) + to_java_string(args[1]) + _utf16_slice(content, offset, length)
    builder.set_text(check_length(text, run.max_chars))
    return builder


def _set_length(builder: StringBuilder, args: list[Any], run: Run) -> None:
    size = int_arg(args[0])
    if size < 0:
        raise java_error("StringIndexOutOfBoundsException", f"String index out of range: {size}")
    content = builder.text()
    length = utf16_length(content)
    padded = _utf16_slice(content, 0, size) if size <= length else content + "\0" * (size - length)
    builder.set_text(check_length(padded, run.max_chars))


def _reverse(builder: StringBuilder, args: list[Any], run: Run) -> StringBuilder:
    builder.set_text(builder.text()[::-1])
    return builder


BUILDER_METHODS: Final[dict[tuple[str, int], Method]] = {
    ("append", 1): _append,
    ("toString", 0): lambda b, a, r: b.text(),
    ("length", 0): lambda b, a, r: utf16_length(b.text()),
    ("isEmpty", 0): lambda b, a, r: len(b) == 0,
    ("charAt", 1): lambda b, a, r: _char_at(b.text(), a, r),
    ("indexOf", 1): lambda b, a, r: _index_of(b.text(), a, r),
    ("insert", 2): _insert,
    ("setLength", 1): _set_length,
    ("reverse", 0): _reverse,
}
