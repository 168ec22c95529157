"""The codec every stored-document record shares: typed fields in, the exact stored JSON out.

A record keeps the keys it does not type (``extra``) and the stored key order, so writing a record
back loses nothing another version of mlgate, or ML Commons, put in the document. A known key whose
stored value has an unexpected type stays in ``extra`` untouched rather than being coerced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Kind:
    """How one typed field is recognised in a stored document and read from / written to it."""

    accepts: Callable[[Any], bool]
    load: Callable[[Any], Any] = lambda value: value
    dump: Callable[[Any], Any] = lambda value: value


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_object(value: Any) -> bool:
    return isinstance(value, dict)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


STR = Kind(_is_str)
INT = Kind(_is_int)
BOOL = Kind(_is_bool)
# Nested objects stay plain JSON (copied on the way in and out, so a record never shares them).
OBJECT = Kind(_is_object, load=dict, dump=dict)
STR_TUPLE = Kind(_is_str_list, load=tuple, dump=list)
LIST = Kind(lambda value: isinstance(value, list), load=list, dump=list)


def split(
    doc: Mapping[str, Any], kinds: Mapping[str, Kind]
) -> tuple[dict[str, Any], dict[str, Any], tuple[str, ...]]:
    """A stored document as (typed values by field, untyped keys, stored key order)."""
    typed: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in doc.items():
        kind = kinds.get(key)
        if kind is not None and kind.accepts(value):
            typed[key] = kind.load(value)
        else:
            extra[key] = value
    return typed, extra, tuple(doc)


def join(
    typed: Mapping[str, Any], extra: Mapping[str, Any], order: tuple[str, ...], kinds: Mapping[str, Kind]
) -> dict[str, Any]:
    """The stored document: keys in their stored order, new ones after in field order.

    A typed field that is None is absent, unless the stored document had the key with some value
    the field does not type (then ``extra`` still holds it).
    """
    values = dict(extra)
    for key, value in typed.items():
        if value is not None:
            values[key] = kinds[key].dump(value)
    out = {key: values.pop(key) for key in order if key in values}
    out.update(values)
    return out
