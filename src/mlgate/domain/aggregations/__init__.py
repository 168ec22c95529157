"""Search aggregations over stored documents, answered in OpenSearch's ``aggregations`` shape.

``parse_aggregations`` reads a request's ``aggs`` into typed nodes (``node.py``); ``aggregate`` runs
them over the documents a query matched. Buckets: ``terms``, ``filter``, ``filters``, ``range``,
``date_histogram``; metrics: ``min``, ``max``, ``avg``, ``sum``, ``stats``, ``value_count``,
``cardinality``, ``top_hits``. See docs/api.md#search.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mlgate.domain.aggregations.bucket import (
    date_histogram_result,
    filter_result,
    filters_result,
    range_result,
    terms_result,
)
from mlgate.domain.aggregations.context import (
    BOOLEAN,
    DATE,
    DOUBLE,
    LONG,
    UNMAPPED,
    AggContext,
    Budget,
    Hit,
    kind_of_missing,
)
from mlgate.domain.aggregations.metric import metric_result, top_hits_result
from mlgate.domain.aggregations.node import (
    AggNode,
    DateHistogram,
    Filter,
    Filters,
    Metric,
    Range,
    Terms,
    TopHits,
)
from mlgate.domain.aggregations.parser import parse_aggregations

__all__ = ["AggContext", "AggNode", "Budget", "Hit", "aggregate", "parse_aggregations"]

_Bucketing = Callable[
    [AggNode, Sequence[Hit], AggContext, Callable[[Sequence[Hit]], dict[str, Any]]], dict[str, Any]
]
_BUCKETS: dict[type, _Bucketing] = {
    Terms: terms_result,
    Filter: filter_result,
    Filters: filters_result,
    Range: range_result,
    DateHistogram: date_histogram_result,
}


def aggregate(nodes: Sequence[AggNode], hits: Sequence[Hit], ctx: AggContext) -> dict[str, Any]:
    """The ``aggregations`` object: each node's result over ``hits``, in request order."""
    out: dict[str, Any] = {}
    for node in nodes:
        ctx.budget.visit(len(hits))
        body: dict[str, Any] = {} if node.meta is None else {"meta": dict(node.meta)}
        spec = node.spec
        if isinstance(spec, Metric):
            body.update(metric_result(spec, hits, ctx))
        elif isinstance(spec, TopHits):
            body.update(top_hits_result(spec, hits, ctx))
        else:
            subs = node.subs

            def run_subs(bucket: Sequence[Hit], subs: tuple[AggNode, ...] = subs) -> dict[str, Any]:
                return aggregate(subs, bucket, ctx)

            body.update(_BUCKETS[type(spec)](node, hits, ctx, run_subs))
        out[_typed_name(node, ctx) if ctx.typed_keys else node.name] = body
    return out


# OpenSearch's ``typed_keys``: each result is named ``<type>#<name>``; terms tell their key type.
_TERMS_TYPES = {DOUBLE: "dterms", LONG: "lterms", BOOLEAN: "lterms", DATE: "lterms"}


def _typed_name(node: AggNode, ctx: AggContext) -> str:
    spec = node.spec
    type_name = spec.type_name
    if isinstance(spec, Terms):
        kind = ctx.kind(spec.source.field)
        if kind == UNMAPPED and spec.source.missing is not None:
            kind = kind_of_missing(spec.source.missing)
        type_name = _TERMS_TYPES.get(kind, "sterms")
    return f"{type_name}#{node.name}"
