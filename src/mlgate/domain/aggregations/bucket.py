"""Bucket aggregations: ``terms``, ``filter``, ``filters``, ``range`` and ``date_histogram``.

Each splits the documents it is given into buckets, counts them, and runs the sub-aggregations on
every bucket it returns (``subs``). Response shapes are OpenSearch's (``StringTerms``, ``LongTerms``,
``InternalFilter(s)``, ``InternalRange``, ``InternalDateHistogram``); every returned bucket counts
towards ``search.max_buckets``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from mlgate.domain.aggregations.context import (
    BOOLEAN,
    DATE,
    DOUBLE,
    KEYWORD,
    LONG,
    NUMERIC_KINDS,
    TEXT,
    UNMAPPED,
    AggContext,
    Hit,
    check_format,
    date_format_for,
    fielddata_error,
    kind_of_missing,
    unsupported_type,
)
from mlgate.domain.aggregations.dates import parse_date
from mlgate.domain.aggregations.format import DEFAULT_DATE_FORMAT, java_double
from mlgate.domain.aggregations.node import AggNode, DateHistogram, Filter, Filters, OrderKey, Range, Terms
from mlgate.domain.aggregations.order import sort_buckets, with_tie_breaker
from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.search_regexp import regexp_pattern

SubAggs = Callable[[Sequence[Hit]], dict[str, Any]]
_DEFAULT_TERMS_ORDER = (OrderKey("_count", ascending=False),)


def _field_kind(ctx: AggContext, field: str, missing: Any) -> str:
    kind = ctx.kind(field)
    return kind_of_missing(missing) if kind == UNMAPPED and missing is not None else kind


def _values_or_missing(ctx: AggContext, hit: Hit, field: str, kind: str, missing: Any) -> list[Any]:
    found = ctx.values(hit[1], field, kind)
    return found if found or missing is None else [missing]


def _key_json(kind: str, key: Any) -> Any:
    return float(key) if kind == DOUBLE else key


def terms_result(node: AggNode, hits: Sequence[Hit], ctx: AggContext, subs: SubAggs) -> dict[str, Any]:
    """``terms``: one bucket per distinct value, ``size`` of them in ``order``."""
    spec = node.spec
    assert isinstance(spec, Terms)
    field = spec.source.field
    kind = _field_kind(ctx, field, spec.source.missing)
    if kind == TEXT:
        raise fielddata_error(field)
    check_format(node.name, field, kind, spec.source.format)
    missing = None if spec.source.missing is None else ctx.missing_value(spec.source.missing, kind)
    allowed = _term_filter(node, spec, kind, ctx)
    groups: dict[Any, list[Hit]] = {}
    for hit in hits:
        for key in _values_or_missing(ctx, hit, field, kind, missing):
            groups.setdefault(key, []).append(hit)
    if spec.min_doc_count == 0:
        ctx.budget.visit(len(ctx.universe))
        for hit in ctx.universe:
            for key in _values_or_missing(ctx, hit, field, kind, missing):
                groups.setdefault(key, [])
    buckets = [
        (key, found) for key, found in groups.items() if len(found) >= spec.min_doc_count and allowed(key)
    ]
    order = with_tie_breaker(spec.order or _DEFAULT_TERMS_ORDER)
    ranked = sort_buckets(buckets, order, node, ctx)
    top, rest = ranked[: spec.size], ranked[spec.size :]
    ctx.budget.add_buckets(len(top))
    fmt = date_format_for(kind, spec.source.format)
    rendered = []
    for key, found in top:
        bucket: dict[str, Any] = {"key": _key_json(kind, key)}
        if kind == BOOLEAN:
            bucket["key_as_string"] = "true" if key else "false"
        elif fmt is not None:
            bucket["key_as_string"] = fmt.format(key)
        bucket["doc_count"] = len(found)
        if spec.show_doc_count_error:
            bucket["doc_count_error_upper_bound"] = 0
        bucket.update(subs(found))
        rendered.append(bucket)
    return {
        "doc_count_error_upper_bound": 0,
        "sum_other_doc_count": sum(len(found) for _, found in rest),
        "buckets": rendered,
    }


def _term_filter(node: AggNode, spec: Terms, kind: str, ctx: AggContext) -> Callable[[Any], bool]:
    """``include``/``exclude``: a list of exact terms, or for strings a Lucene regular expression (run as
    an automaton, as the ``regexp`` query is, charged to the search budget)."""
    steps = ctx.budget.steps

    def matcher(rule: tuple[str, ...] | str) -> Callable[[Any], bool]:
        if isinstance(rule, str):
            if kind not in (KEYWORD, UNMAPPED):
                raise InvalidRequestError(
                    f"Aggregation [{node.name}] cannot support regular expression style include/exclude settings "
                    "as they can only be applied to string fields. Use an array of numeric values for "
                    "include/exclude clauses used to filter numeric fields"
                )
            pattern = regexp_pattern(rule, {}, steps)
            return lambda key: pattern.matches(str(key), steps)
        if kind in NUMERIC_KINDS:
            numbers = {float(parse_date(v)) if kind == DATE else _to_float(v) for v in rule}
            return lambda key: float(key) in numbers
        texts = frozenset(rule)
        return lambda key: key in texts

    include = matcher(spec.include) if spec.include is not None else None
    exclude = matcher(spec.exclude) if spec.exclude is not None else None
    return lambda key: (include is None or include(key)) and (exclude is None or not exclude(key))


def _to_float(raw: Any) -> float:
    try:
        return float(raw)
    except (TypeError, ValueError) as err:
        raise InvalidRequestError(f'For input string: "{raw}"', error_type="number_format_exception") from err


def filter_result(node: AggNode, hits: Sequence[Hit], ctx: AggContext, subs: SubAggs) -> dict[str, Any]:
    """``filter``: the documents matching one query, as a single bucket."""
    spec = node.spec
    assert isinstance(spec, Filter)
    matched = [hit for hit in hits if spec.clause.test(hit[1])]
    return {"doc_count": len(matched), **subs(matched)}


def filters_result(node: AggNode, hits: Sequence[Hit], ctx: AggContext, subs: SubAggs) -> dict[str, Any]:
    """``filters``: one bucket per query (keyed by name, or a list), plus the ``other`` bucket."""
    spec = node.spec
    assert isinstance(spec, Filters)
    ctx.budget.visit(len(hits) * len(spec.filters))
    ctx.budget.add_buckets(len(spec.filters) + (spec.other_bucket_key is not None))
    buckets: list[tuple[str, list[Hit]]] = []
    claimed: set[int] = set()
    for key, clause in spec.filters:
        matched = [hit for hit in hits if clause.test(hit[1])]
        claimed.update(id(hit) for hit in matched)
        buckets.append((key, matched))
    if spec.other_bucket_key is not None:
        buckets.append((spec.other_bucket_key, [hit for hit in hits if id(hit) not in claimed]))
    rendered = [(key, {"doc_count": len(found), **subs(found)}) for key, found in buckets]
    if spec.keyed:
        return {"buckets": dict(rendered)}
    return {"buckets": [body for _, body in rendered]}


def _bound(raw: Any, kind: str, fallback: float) -> float:
    if raw is None:
        return fallback
    if kind == DATE and not (isinstance(raw, int | float) and not isinstance(raw, bool)):
        return float(parse_date(raw))
    return _to_float(raw)


def range_result(node: AggNode, hits: Sequence[Hit], ctx: AggContext, subs: SubAggs) -> dict[str, Any]:
    """``range``: a bucket per range, ``from`` included and ``to`` excluded, sorted by ``from`` then ``to``."""
    spec = node.spec
    assert isinstance(spec, Range)
    field = spec.source.field
    kind = _field_kind(ctx, field, spec.source.missing)
    if kind not in NUMERIC_KINDS and kind != UNMAPPED:
        raise unsupported_type(field, kind, "range")
    check_format(node.name, field, kind, spec.source.format)
    missing = None if spec.source.missing is None else ctx.missing_value(spec.source.missing, kind)
    ranges = sorted(
        ((r.key, _bound(r.start, kind, -math.inf), _bound(r.end, kind, math.inf)) for r in spec.ranges),
        key=lambda r: (r[1], r[2]),
    )
    ctx.budget.visit(len(hits) * len(ranges))
    ctx.budget.add_buckets(len(ranges))
    values = [(hit, _values_or_missing(ctx, hit, field, kind, missing)) for hit in hits]
    fmt = date_format_for(kind, spec.source.format)

    def text(value: float) -> str:
        return fmt.format(value) if fmt is not None else java_double(value)

    rendered: list[tuple[str, dict[str, Any]]] = []
    for key, start, end in ranges:
        found = [hit for hit, vals in values if any(start <= v < end for v in vals)]
        name = (
            key
            if key is not None
            else f"{'*' if start == -math.inf else text(start)}-{'*' if end == math.inf else text(end)}"
        )
        bucket: dict[str, Any] = {} if spec.keyed else {"key": name}
        for label, bound in (("from", start), ("to", end)):
            if math.isfinite(bound):
                bucket[label] = bound
                if fmt is not None:
                    bucket[f"{label}_as_string"] = fmt.format(bound)
        bucket["doc_count"] = len(found)
        bucket.update(subs(found))
        rendered.append((name, bucket))
    if spec.keyed:
        return {"buckets": dict(rendered)}
    return {"buckets": [body for _, body in rendered]}


def date_histogram_result(
    node: AggNode, hits: Sequence[Hit], ctx: AggContext, subs: SubAggs
) -> dict[str, Any]:
    """``date_histogram``: a bucket per interval; with ``min_doc_count`` 0 the gaps (and the
    ``extended_bounds``) are filled with empty buckets, as OpenSearch does."""
    spec = node.spec
    assert isinstance(spec, DateHistogram)
    field = spec.source.field
    kind = ctx.kind(field)
    if kind == UNMAPPED:
        kind = DATE  # OpenSearch's default value type for this aggregation
    if kind not in (DATE, LONG, DOUBLE):
        raise unsupported_type(field, kind, "date_histogram")
    missing = None if spec.source.missing is None else ctx.missing_value(spec.source.missing, kind)
    fmt = spec.source.format or (DEFAULT_DATE_FORMAT if kind == DATE else None)
    zone, shift = spec.zone_offset_ms, spec.offset_ms

    def round_down(value: float) -> int:
        return spec.interval.round_down(math.floor(value) - shift, zone) + shift

    def next_key(key: int) -> int:
        return spec.interval.next_key(key - shift, zone) + shift

    groups: dict[int, list[Hit]] = {}
    for hit in hits:
        for key in dict.fromkeys(round_down(v) for v in _values_or_missing(ctx, hit, field, kind, missing)):
            groups.setdefault(key, []).append(hit)
    keys = sorted(key for key, found in groups.items() if len(found) >= max(spec.min_doc_count, 1))
    ctx.budget.add_buckets(len(keys))
    if spec.min_doc_count == 0:
        keys = _with_empty_buckets(keys, spec, ctx, round_down, next_key)
    buckets: list[tuple[Any, Sequence[Hit]]] = [(key, groups.get(key, [])) for key in keys]
    if spec.order and not (spec.order[0].target == "_key" and spec.order[0].ascending):
        buckets = sort_buckets(buckets, with_tie_breaker(spec.order), node, ctx)
    rendered: list[tuple[str, dict[str, Any]]] = []
    for key, found in buckets:
        label = fmt.format(key, zone) if fmt is not None else str(key)
        bucket: dict[str, Any] = {"key_as_string": label} if fmt is not None else {}
        bucket["key"] = key
        bucket["doc_count"] = len(found)
        bucket.update(subs(found))
        rendered.append((label, bucket))
    if spec.keyed:
        return {"buckets": dict(rendered)}
    return {"buckets": [body for _, body in rendered]}


def _with_empty_buckets(
    keys: list[int],
    spec: DateHistogram,
    ctx: AggContext,
    round_down: Callable[[float], int],
    next_key: Callable[[int], int],
) -> list[int]:
    """OpenSearch's ``InternalDateHistogram.addEmptyBuckets``: fill gaps, then extend to the bounds."""
    low = high = None
    if spec.bounds is not None:
        low = None if spec.bounds[0] is None else round_down(parse_date(spec.bounds[0]))
        high = None if spec.bounds[1] is None else round_down(parse_date(spec.bounds[1]))
    filled: list[int] = []

    def add_empty(key: int) -> None:
        ctx.budget.add_buckets(1)
        filled.append(key)

    if not keys:
        if low is not None and high is not None:
            key = low
            while key <= high:
                add_empty(key)
                key = next_key(key)
        return filled
    if low is not None:
        key = low
        while key < keys[0]:
            add_empty(key)
            key = next_key(key)
    for index, present in enumerate(keys):
        if index > 0:
            key = next_key(keys[index - 1])
            while key < present:
                add_empty(key)
                key = next_key(key)
        filled.append(present)
    if high is not None:
        key = next_key(keys[-1])
        while key <= high:
            add_empty(key)
            key = next_key(key)
    return filled
