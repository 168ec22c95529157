"""Parsed aggregation requests: an ``AggNode`` per named aggregation, holding its type's typed options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlgate.domain.aggregations.dates import Interval
from mlgate.domain.aggregations.format import DateFormat
from mlgate.domain.search_clause import Clause
from mlgate.domain.search_sort import SortKey
from mlgate.domain.search_source import SourceFilter


@dataclass(frozen=True)
class ValuesSource:
    """The field an aggregation reads, the value standing in for documents without one, a format."""

    field: str
    missing: Any = None
    format: DateFormat | None = None


@dataclass(frozen=True)
class PathElement:
    """One step of a bucket order path such as ``filtered>stats.avg``."""

    name: str
    key: str | None = None


@dataclass(frozen=True)
class OrderKey:
    """One bucket order criterion: ``_count``, ``_key`` or a path to a sub-aggregation's value."""

    target: str  # "_count", "_key" or "path"
    ascending: bool
    path: tuple[PathElement, ...] = ()
    text: str = ""


@dataclass(frozen=True)
class Terms:
    source: ValuesSource
    size: int = 10
    min_doc_count: int = 1
    order: tuple[OrderKey, ...] = ()
    include: tuple[str, ...] | str | None = None
    exclude: tuple[str, ...] | str | None = None
    show_doc_count_error: bool = False
    type_name = "terms"


@dataclass(frozen=True)
class Filter:
    clause: Clause
    type_name = "filter"


@dataclass(frozen=True)
class Filters:
    filters: tuple[tuple[str, Clause], ...]
    keyed: bool
    other_bucket_key: str | None = None
    type_name = "filters"


@dataclass(frozen=True)
class RangeSpec:
    """One ``range`` bucket: ``from`` inclusive, ``to`` exclusive (raw: a number or a date string)."""

    key: str | None
    start: Any = None
    end: Any = None


@dataclass(frozen=True)
class Range:
    source: ValuesSource
    ranges: tuple[RangeSpec, ...]
    keyed: bool = False
    type_name = "range"


@dataclass(frozen=True)
class DateHistogram:
    source: ValuesSource
    interval: Interval
    zone_offset_ms: int = 0
    offset_ms: int = 0
    min_doc_count: int = 0
    bounds: tuple[Any, Any] | None = None
    order: tuple[OrderKey, ...] = ()
    keyed: bool = False
    type_name = "date_histogram"


@dataclass(frozen=True)
class Metric:
    """``min``, ``max``, ``avg``, ``sum``, ``stats``, ``value_count`` or ``cardinality``."""

    kind: str
    source: ValuesSource

    @property
    def type_name(self) -> str:
        return self.kind


@dataclass(frozen=True)
class TopHits:
    start: int = 0
    size: int = 3
    sort: tuple[SortKey, ...] | None = None
    source: SourceFilter = field(default_factory=SourceFilter)
    version: bool = False
    seq_no_primary_term: bool = False
    track_scores: bool = False
    type_name = "top_hits"


AggSpec = Terms | Filter | Filters | Range | DateHistogram | Metric | TopHits
SINGLE_VALUE_METRICS = frozenset({"min", "max", "avg", "sum", "value_count", "cardinality"})
STATS_KEYS = ("count", "min", "max", "avg", "sum")


@dataclass(frozen=True)
class AggNode:
    """One named aggregation of a request: its options, its sub-aggregations, its ``meta``."""

    name: str
    spec: AggSpec
    subs: tuple[AggNode, ...] = ()
    meta: Mapping[str, Any] | None = None

    def sub(self, name: str) -> AggNode | None:
        """The sub-aggregation called ``name``."""
        return next((node for node in self.subs if node.name == name), None)
