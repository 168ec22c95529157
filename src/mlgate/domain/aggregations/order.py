"""Bucket order of ``terms`` and ``date_histogram``: ``_count``, ``_key`` and sub-aggregation paths.

Follows OpenSearch's ``InternalOrder`` and ``AggregationPath``: a path such as ``ok>stats.avg`` walks
zero or more single-bucket aggregations (``filter``) and ends on one of them (its doc count) or on a
metric (its value, or the named value of ``stats``). A criterion other than ``_key`` gets ``_key``
ascending as tie-breaker; a metric without value (``avg`` of nothing) sorts last either way.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

from mlgate.domain.aggregations.context import AggContext, Hit
from mlgate.domain.aggregations.metric import sort_value
from mlgate.domain.aggregations.node import (
    SINGLE_VALUE_METRICS,
    STATS_KEYS,
    AggNode,
    Filter,
    Metric,
    OrderKey,
    PathElement,
)
from mlgate.domain.errors import InvalidRequestError

_NOT_SINGLE_BUCKET = (
    "Buckets can only be sorted on a sub-aggregator path that is built out of zero or more single-bucket "
    "aggregations within the path and a final single-bucket or a metrics aggregation at the path end."
)

Bucket = tuple[Any, Sequence[Hit]]


def parse_path(text: str) -> tuple[PathElement, ...]:
    """``a>b.key`` → elements; the key follows the last ``.`` of an element (OpenSearch's rule)."""
    elements = []
    for part in text.split(">"):
        name, dot, key = part.rpartition(".")
        elements.append(PathElement(name, key) if dot and name else PathElement(part))
    return tuple(elements)


def with_tie_breaker(order: tuple[OrderKey, ...]) -> tuple[OrderKey, ...]:
    """Append ``_key`` ascending unless the order already ends on the key."""
    if order and order[-1].target == "_key":
        return order
    return (*order, OrderKey("_key", ascending=True))


def validate_order(order: Sequence[OrderKey], owner: AggNode) -> None:
    """Refuse paths that do not lead to a single-bucket or metric sub-aggregation of ``owner``."""
    for item in order:
        if item.target == "path":
            _resolve(item, owner)


def _fail(item: OrderKey, reason: str) -> InvalidRequestError:
    return InvalidRequestError(f"Invalid aggregation order path [{item.text}]. {reason}")


def _resolve(item: OrderKey, owner: AggNode) -> AggNode:
    node = owner
    for index, element in enumerate(item.path):
        child = node.sub(element.name)
        if child is None:
            raise _fail(
                item,
                f"The provided aggregation [{element.name}] either does not exist, or is a pipeline "
                "aggregation and cannot be used to sort the buckets.",
            )
        last = index == len(item.path) - 1
        if not last and element.key is not None:
            raise _fail(item, f"Key only allowed on last aggregation path element but got [{element.name}]")
        if not last and not isinstance(child.spec, Filter):
            raise _fail(item, f"{_NOT_SINGLE_BUCKET} [{child.name}] is not single-bucket.")
        node = child
    _check_key(item, node, item.path[-1].key)
    return node


def _check_key(item: OrderKey, node: AggNode, key: str | None) -> None:
    spec = node.spec
    if isinstance(spec, Filter):
        if key not in (None, "_count", "doc_count"):
            raise _fail(
                item,
                "Ordering on a single-bucket aggregation can only be done on its doc_count. Either drop the "
                f'key (a la "{node.name}") or change it to "doc_count" (a la "{node.name}.doc_count") or '
                f'"_count" (a la "{node.name}._count")',
            )
    elif isinstance(spec, Metric) and spec.kind in SINGLE_VALUE_METRICS:
        if key not in (None, "value"):
            raise _fail(
                item,
                "Ordering on a single-value metrics aggregation can only be done on its value. Either drop "
                f'the key (a la "{node.name}") or change it to "value" (a la "{node.name}.value")',
            )
    elif isinstance(spec, Metric):
        if key is None:
            raise _fail(
                item, "When ordering on a multi-value metrics aggregation a metric name must be specified."
            )
        if key not in STATS_KEYS:
            raise _fail(item, f"Unknown metric name [{key}] on multi-value metrics aggregation [{node.name}]")
    else:
        raise _fail(item, _NOT_SINGLE_BUCKET)


def _path_value(item: OrderKey, owner: AggNode, hits: Sequence[Hit], ctx: AggContext) -> float:
    node = owner
    for element in item.path:
        child = node.sub(element.name)
        assert child is not None  # validated when parsed
        node = child
        if isinstance(node.spec, Filter):
            clause = node.spec.clause
            hits = [hit for hit in hits if clause.test(hit[1])]
    if isinstance(node.spec, Metric):
        ctx.budget.visit(len(hits))
        return sort_value(node.spec, hits, ctx, item.path[-1].key)
    return float(len(hits))


def sort_buckets(
    buckets: Sequence[Bucket], order: Sequence[OrderKey], owner: AggNode, ctx: AggContext
) -> list[Bucket]:
    """``buckets`` in ``order`` (which must end with a ``_key`` criterion)."""
    columns: list[list[Any]] = []
    for item in order:
        read: Callable[[Bucket], Any]
        if item.target == "_count":
            read = lambda bucket: len(bucket[1])  # noqa: E731
        elif item.target == "_key":
            read = lambda bucket: bucket[0]  # noqa: E731
        else:
            read = functools.partial(lambda it, bucket: _path_value(it, owner, bucket[1], ctx), item)
        columns.append([read(bucket) for bucket in buckets])

    def compare(left: int, right: int) -> int:
        for item, column in zip(order, columns, strict=True):
            a, b = column[left], column[right]
            a_nan = isinstance(a, float) and math.isnan(a)
            b_nan = isinstance(b, float) and math.isnan(b)
            if a_nan or b_nan:
                if a_nan and b_nan:
                    continue
                return 1 if a_nan else -1
            if a == b:
                continue
            result = -1 if a < b else 1
            return result if item.ascending else -result
        return 0

    ranked = sorted(range(len(buckets)), key=functools.cmp_to_key(compare))
    return [buckets[i] for i in ranked]
