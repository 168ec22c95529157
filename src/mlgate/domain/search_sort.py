"""Sorting of search hits: the ``sort`` option of a search request.

Accepts every shape OpenSearch does for field sorts: ``"f"``, ``{"f": "desc"}``,
``{"f": {"order": "desc", "missing": "_first", "mode": "max"}}``, a list of those, plus ``_score``,
``_id`` and ``_doc``. Documents without a value sort last (``missing: _last``) whatever the order; a
multi-valued field sorts by its smallest value ascending and its largest descending. Ties keep input
order. Sorting on an analysed text field is refused, as OpenSearch refuses it (use ``f.keyword``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.search_field import FieldValues, IndexedDoc, field_values, is_text_field

_SPECIAL = frozenset({"_score", "_doc", "_id"})
_SORT_OPTIONS = frozenset({"order", "missing", "mode", "unmapped_type", "format", "numeric_type"})
_T = TypeVar("_T")


@dataclass(frozen=True)
class SortKey:
    """One sort criterion."""

    field: str
    descending: bool
    missing_first: bool = False
    missing_value: Any = None
    mode: str | None = None


def _order(value: Any) -> bool:
    """``True`` for descending."""
    if isinstance(value, str) and value.lower() in {"asc", "desc"}:
        return value.lower() == "desc"
    raise InvalidRequestError(f"Unknown SortOrder [{value}]")


def _key(field: str, spec: Any) -> SortKey:
    if field.startswith("_") and field not in _SPECIAL:
        raise InvalidRequestError(f"sort [{field}] is not supported", error_type="parsing_exception")
    default_desc = field == "_score"
    if spec is None:
        return SortKey(field, default_desc)
    if isinstance(spec, str):
        return SortKey(field, _order(spec))
    if not isinstance(spec, Mapping):
        raise InvalidRequestError(
            f"[{field}] malformed sort, expected an order or an object", error_type="parsing_exception"
        )
    for option in spec:
        if option not in _SORT_OPTIONS:
            raise InvalidRequestError(
                f"[field_sort] unknown field [{option}]", error_type="parsing_exception"
            )
    descending = _order(spec["order"]) if "order" in spec else default_desc
    missing = spec.get("missing", "_last")
    mode = spec.get("mode")
    if mode is not None and mode not in {"min", "max"}:
        raise InvalidRequestError(f"sort mode [{mode}] is not supported", error_type="parsing_exception")
    return SortKey(
        field=field,
        descending=descending,
        missing_first=missing == "_first",
        missing_value=None if missing in {"_first", "_last"} else missing,
        mode=mode,
    )


def parse_sort(spec: Any) -> tuple[SortKey, ...] | None:
    """Parse the body's ``sort`` (``None`` when absent); raises ``InvalidRequestError`` when malformed."""
    if spec is None:
        return None
    items = spec if isinstance(spec, list) else [spec]
    keys: list[SortKey] = []
    for item in items:
        if isinstance(item, str):
            keys.append(_key(item, None))
        elif isinstance(item, Mapping) and item:
            keys.extend(_key(field, options) for field, options in item.items())
        else:
            raise InvalidRequestError(
                "malformed sort format, within the sort array", error_type="parsing_exception"
            )
    return tuple(keys)


def parse_sort_param(value: str) -> tuple[SortKey, ...]:
    """Parse the URL form ``sort=f:desc,g``."""
    keys = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        field, _, order = part.partition(":")
        keys.append(_key(field, order or None))
    return tuple(keys)


def _candidates(values: FieldValues) -> list[tuple[int, Any]]:
    """Sortable values, ranked so that numbers come before strings when a field mixes them."""
    numbers = [*values.numbers, *(int(b) for b in values.booleans)]
    return [(0, n) for n in numbers] + [(1, s) for s in values.keywords]


def _chosen(doc: IndexedDoc, key: SortKey, keyword_fields: frozenset[str]) -> tuple[int, Any] | None:
    values = field_values(doc, key.field, keyword_fields)
    if values.texts and is_text_field(key.field, keyword_fields):
        raise InvalidRequestError(
            "Text fields are not optimised for operations that require per-document field data like "
            "aggregations and sorting, so these operations are disabled by default. Please use a keyword "
            f"field instead. Alternatively, set fielddata=true on [{key.field}] in order to load field data "
            "by uninverting the inverted index. Note that this can use significant memory."
        )
    candidates = _candidates(values)
    if not candidates:
        if key.missing_value is None:
            return None
        return (
            (0, key.missing_value)
            if isinstance(key.missing_value, int | float)
            else (1, str(key.missing_value))
        )
    use_max = key.mode == "max" or (key.mode is None and key.descending)
    return max(candidates) if use_max else min(candidates)


def _value(
    doc: IndexedDoc, position: int, key: SortKey, keyword_fields: frozenset[str]
) -> tuple[int, Any] | None:
    if key.field == "_score":
        return (0, 1.0)
    if key.field == "_doc":
        return (0, position)
    return _chosen(doc, key, keyword_fields)


def sort_hits(
    hits: Sequence[tuple[_T, IndexedDoc]], keys: Sequence[SortKey], keyword_fields: frozenset[str]
) -> list[tuple[_T, IndexedDoc]]:
    """Sort ``hits`` (anything paired with its indexed document) by ``keys``; stable on ties."""
    values = [
        [_value(doc, position, key, keyword_fields) for key in keys] for position, (_, doc) in enumerate(hits)
    ]

    def compare(left: int, right: int) -> int:
        for key, a, b in zip(keys, values[left], values[right], strict=True):
            if a == b:
                continue
            if a is None or b is None:
                # Missing values go last (or first) whichever the order.
                return (1 if a is None else -1) * (-1 if key.missing_first else 1)
            result = -1 if a < b else 1
            return -result if key.descending else result
        return 0

    order = sorted(range(len(hits)), key=functools.cmp_to_key(compare))
    return [hits[i] for i in order]


def sort_values(
    doc: IndexedDoc, position: int, keys: Sequence[SortKey], keyword_fields: frozenset[str]
) -> list[Any]:
    """The hit's ``sort`` array: the value each key sorted on (``None`` where the document had none)."""
    values = []
    for key in keys:
        chosen = _value(doc, position, key, keyword_fields)
        values.append(None if chosen is None else chosen[1])
    return values
