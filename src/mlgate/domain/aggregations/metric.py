"""Metric aggregations: ``min``, ``max``, ``avg``, ``sum``, ``stats``, ``value_count``, ``cardinality``,
``top_hits``, in OpenSearch's response shapes (``InternalMin``, ``InternalStats``, ``InternalTopHits``...).

Values are doubles as in OpenSearch; ``min``/``max``/``avg`` of no value are ``null``, ``sum`` is 0;
date fields add ``value_as_string``. Numeric fields keep repeated values (``[1, 1]`` sums to 2) as
OpenSearch's numeric doc values do; keyword values count once per document.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from mlgate.domain.aggregations.context import (
    BOOLEAN,
    KEYWORD,
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
from mlgate.domain.aggregations.node import Metric, TopHits
from mlgate.domain.search_sort import sort_hits, sort_values
from mlgate.domain.search_source import SourceFilter

_CONSTANT_SCORE = 1.0


def read_values(metric: Metric, hits: Sequence[Hit], ctx: AggContext) -> tuple[str, list[Any]]:
    """The field's type and every value the metric sees (``missing`` standing in for absent values)."""
    source = metric.source
    kind = ctx.kind(source.field)
    if kind == UNMAPPED and source.missing is not None:
        kind = kind_of_missing(source.missing)
    counts_values = metric.kind in ("value_count", "cardinality")
    if kind == TEXT:
        raise (
            fielddata_error(source.field)
            if counts_values
            else unsupported_type(source.field, kind, metric.kind)
        )
    if not counts_values and kind not in NUMERIC_KINDS and kind != UNMAPPED:
        raise unsupported_type(source.field, kind, metric.kind)
    check_format(metric.kind, source.field, kind, source.format)
    missing = None if source.missing is None else ctx.missing_value(source.missing, kind)
    values: list[Any] = []
    for _, doc in hits:
        found = ctx.values(doc, source.field, kind, distinct=kind == KEYWORD)
        if found:
            values.extend(found)
        elif missing is not None:
            values.append(missing)
    return kind, values


def sort_value(metric: Metric, hits: Sequence[Hit], ctx: AggContext, key: str | None) -> float:
    """The value buckets are ordered by: the metric's value, or ``key`` of ``stats``."""
    _, values = read_values(metric, hits, ctx)
    name = key if metric.kind == "stats" else metric.kind
    return _statistic(name, values)


def _statistic(name: str | None, values: list[Any]) -> float:
    if name in ("count", "value_count"):
        return float(len(values))
    if name == "cardinality":
        return float(len(set(values)))
    if name == "sum":
        return math.fsum(values)
    if name == "avg":
        return math.fsum(values) / len(values) if values else math.nan
    if name == "min":
        return float(min(values)) if values else math.inf
    return float(max(values)) if values else -math.inf


def metric_result(metric: Metric, hits: Sequence[Hit], ctx: AggContext) -> dict[str, Any]:
    """The metric's response body."""
    kind, values = read_values(metric, hits, ctx)
    if metric.kind in ("value_count", "cardinality"):
        return {"value": int(_statistic(metric.kind, values))}
    fmt = date_format_for(kind, metric.source.format)

    def as_string(value: float) -> str | None:
        if kind == BOOLEAN:
            return "true" if value != 0 else "false"
        return fmt.format(value) if fmt is not None else None

    if metric.kind == "stats":
        body: dict[str, Any] = {"count": len(values)}
        if not values:
            return body | {"min": None, "max": None, "avg": None, "sum": 0.0}
        stats = {name: _statistic(name, values) for name in ("min", "max", "avg", "sum")}
        body.update(stats)
        for name, value in stats.items():
            text = as_string(value)
            if text is not None:
                body[f"{name}_as_string"] = text
        return body
    if not values and metric.kind != "sum":
        return {"value": None}
    value = _statistic(metric.kind, values)
    body = {"value": value}
    text = as_string(value)
    if text is not None:
        body["value_as_string"] = text
    return body


def top_hits_result(spec: TopHits, hits: Sequence[Hit], ctx: AggContext) -> dict[str, Any]:
    """``top_hits``: the best ``size`` documents of the bucket, shaped like the search's ``hits``."""
    ordered = sort_hits(hits, spec.sort, ctx.keyword_fields) if spec.sort is not None else list(hits)
    page = ordered[spec.start : spec.start + spec.size]
    scored = spec.sort is None or spec.track_scores or all(k.field == "_score" for k in spec.sort)
    score = _CONSTANT_SCORE if scored else None
    source = SourceFilter(
        fetch=spec.source.fetch,
        includes=spec.source.includes,
        excludes=spec.source.excludes + ctx.source_excludes,
    )
    rendered = []
    for (position, doc), indexed in page:
        hit: dict[str, Any] = {"_index": ctx.index, "_id": doc.id}
        if spec.version:
            hit["_version"] = doc.version
        if spec.seq_no_primary_term:
            hit["_seq_no"] = doc.seq_no
            hit["_primary_term"] = doc.primary_term
        hit["_score"] = score
        if source.fetch:
            hit["_source"] = source.apply(doc.source)
        if spec.sort is not None:
            hit["sort"] = sort_values(indexed, position, spec.sort, ctx.keyword_fields)
        rendered.append(hit)
    total: Any = len(hits) if ctx.total_as_int else {"value": len(hits), "relation": "eq"}
    return {"hits": {"total": total, "max_score": score if hits else None, "hits": rendered}}
