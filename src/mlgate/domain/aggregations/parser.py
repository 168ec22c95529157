"""Parse a search's ``aggs`` (or ``aggregations``) object into ``AggNode`` trees.

The tree rules and messages are OpenSearch's ``AggregatorFactories.parseAggregators``; each type's
options are read by ``options.py`` (field-reading types) or here (``filter``, ``filters``,
``top_hits``). Aggregation types OpenSearch knows but mlgate does not implement are refused by name;
unknown ones get OpenSearch's "did you mean" suggestion.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from mlgate.domain.aggregations import options
from mlgate.domain.aggregations.node import AggNode, AggSpec, DateHistogram, Filter, Filters, Terms, TopHits
from mlgate.domain.aggregations.order import validate_order
from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.fields import token_name
from mlgate.domain.search_clause import Clause
from mlgate.domain.search_field import is_number
from mlgate.domain.search_sort import parse_sort
from mlgate.domain.search_source import SourceFilter

PARSING = "parsing_exception"
# Deep enough for any dashboard; keeps parsing and evaluation far from Python's recursion limit.
MAX_DEPTH = 32
# OpenSearch: index.max_inner_result_window.
MAX_INNER_RESULT_WINDOW = 100
_VALID_NAME = re.compile(r"[^\[\]>]+")
# Every aggregation a stock OpenSearch distribution registers (SearchModule and bundled modules): the
# candidates of the "did you mean" suggestion, and the types refused as not implemented by mlgate.
OPENSEARCH_TYPES = frozenset(
    [
        "adjacency_matrix",
        "auto_date_histogram",
        "avg",
        "avg_bucket",
        "bucket_script",
        "bucket_selector",
        "bucket_sort",
        "cardinality",
        "children",
        "composite",
        "cumulative_sum",
        "date_histogram",
        "date_range",
        "derivative",
        "diversified_sampler",
        "extended_stats",
        "extended_stats_bucket",
        "filter",
        "filters",
        "geo_bounds",
        "geo_centroid",
        "geo_distance",
        "geohash_grid",
        "geotile_grid",
        "global",
        "histogram",
        "ip_range",
        "matrix_stats",
        "max",
        "max_bucket",
        "median_absolute_deviation",
        "min",
        "min_bucket",
        "missing",
        "moving_avg",
        "moving_fn",
        "multi_terms",
        "nested",
        "parent",
        "percentile_ranks",
        "percentiles",
        "percentiles_bucket",
        "range",
        "rare_terms",
        "reverse_nested",
        "sampler",
        "scripted_metric",
        "serial_diff",
        "significant_terms",
        "significant_text",
        "stats",
        "stats_bucket",
        "sum",
        "sum_bucket",
        "terms",
        "top_hits",
        "value_count",
        "variable_width_histogram",
        "weighted_avg",
    ]
)
_LEAF_TYPES = options.METRIC_TYPES | {"top_hits"}

CompileFilter = Callable[[Mapping[str, Any]], Clause]


def parse_aggregations(raw: Mapping[str, Any], compile_filter: CompileFilter) -> tuple[AggNode, ...]:
    """Parse the ``aggs`` object; ``compile_filter`` turns a query object into a clause."""
    return _Parser(compile_filter).tree(raw, depth=1)


def _error(message: str) -> InvalidRequestError:
    return InvalidRequestError(message, error_type=PARSING)


class _Parser:
    def __init__(self, compile_filter: CompileFilter) -> None:
        self.compile_filter = compile_filter
        self.types: dict[str, Callable[[str, Mapping[str, Any]], AggSpec]] = {
            "terms": options.parse_terms,
            "range": options.parse_range,
            "date_histogram": options.parse_date_histogram,
            "filter": self.filter,
            "filters": self.filters,
            "top_hits": self.top_hits,
        }
        for kind in options.METRIC_TYPES:
            self.types[kind] = functools.partial(options.parse_metric, kind)

    def tree(self, raw: Mapping[str, Any], depth: int) -> tuple[AggNode, ...]:
        if depth > MAX_DEPTH:
            raise _error(f"aggregations are nested more than [{MAX_DEPTH}] levels deep")
        return tuple(self.node(name, definition, depth) for name, definition in raw.items())

    def node(self, name: str, definition: Any, depth: int) -> AggNode:
        if not _VALID_NAME.fullmatch(name):
            raise _error(
                f"Invalid aggregation name [{name}]. Aggregation names can contain any character except '[', "
                "']', and '>'"
            )
        if not isinstance(definition, Mapping):
            raise _error(
                f"Aggregation definition for [{name} starts with a [{token_name(definition)}], expected a "
                "[START_OBJECT]."
            )
        spec: AggSpec | None = None
        type_name = ""
        subs: tuple[AggNode, ...] | None = None
        meta: Mapping[str, Any] | None = None
        for key, value in definition.items():
            if not isinstance(value, Mapping):
                raise _error(
                    f"Expected [START_OBJECT] under [{key}], but got a [{token_name(value)}] in [{name}]"
                )
            if key == "meta":
                meta = value
            elif key in ("aggs", "aggregations"):
                if subs is not None:
                    raise _error(f"Found two sub aggregation definitions under [{name}]")
                subs = self.tree(value, depth + 1)
            else:
                if spec is not None:
                    raise _error(
                        f"Found two aggregation type definitions in [{name}]: [{type_name}] and [{key}]"
                    )
                spec, type_name = self.spec(name, key, value), key
        if spec is None:
            raise _error(f"Missing definition for aggregation [{name}]")
        if subs and type_name in _LEAF_TYPES:
            raise InvalidRequestError(
                f"Aggregator [{name}] of type [{type_name}] cannot accept sub-aggregations",
                error_type="aggregation_initialization_exception",
            )
        node = AggNode(name=name, spec=spec, subs=subs or (), meta=meta)
        if isinstance(spec, Terms | DateHistogram):
            validate_order(spec.order, node)
        return node

    def spec(self, name: str, type_name: str, body: Mapping[str, Any]) -> AggSpec:
        parser = self.types.get(type_name)
        if parser is not None:
            return parser(name, body)
        if type_name in OPENSEARCH_TYPES:
            raise _error(f"aggregation type [{type_name}] is not supported by mlgate")
        raise InvalidRequestError(
            f"Unknown aggregation type [{type_name}]{options.suggest(type_name, sorted(OPENSEARCH_TYPES))}",
            error_type=PARSING,
            caused_by=("named_object_not_found_exception", f"unknown field [{type_name}]"),
        )

    def filter(self, name: str, body: Mapping[str, Any]) -> AggSpec:
        return Filter(self.compile_filter(body))

    def filters(self, name: str, body: Mapping[str, Any]) -> AggSpec:
        """``filters``: named (an object, buckets sorted by name) or anonymous (a list)."""
        named: list[tuple[str, Clause]] | None = None
        anonymous: list[Clause] | None = None
        other_bucket: bool | None = None
        other_key: str | None = None
        for key, value in body.items():
            unknown = _error(f"Unknown key for a {token_name(value)} in [{name}]: [{key}].")
            if key == "filters" and isinstance(value, Mapping):
                named = [(str(k), self.compile_filter(_query(v))) for k, v in value.items()]
            elif key == "filters" and isinstance(value, list):
                anonymous = [self.compile_filter(_query(v)) for v in value]
            elif key == "other_bucket" and isinstance(value, bool):
                other_bucket = value
            elif key == "other_bucket_key" and isinstance(value, str):
                other_key = value
            else:
                raise unknown
        if not named and not anonymous:
            raise InvalidRequestError("[filters] cannot be empty.")
        if other_bucket is None and other_key is not None:
            other_bucket = True  # a key alone asks for the other bucket, as OpenSearch documents
        other = (other_key or "_other_") if other_bucket else None
        if named is not None:
            return Filters(tuple(sorted(named, key=lambda item: item[0])), keyed=True, other_bucket_key=other)
        return Filters(
            tuple((str(i), c) for i, c in enumerate(anonymous or ())), keyed=False, other_bucket_key=other
        )

    def top_hits(self, name: str, body: Mapping[str, Any]) -> AggSpec:
        """``top_hits``: ``from``, ``size``, ``sort``, ``_source``, ``version``, ``seq_no_primary_term``."""
        numbers: dict[str, int] = {"from": 0, "size": 3}
        flags = {"version": False, "seq_no_primary_term": False, "track_scores": False, "explain": False}
        sort = None
        source = SourceFilter()
        for key, value in body.items():
            if key in numbers and is_number(value):
                numbers[key] = int(value)
            elif key in flags and isinstance(value, bool):
                flags[key] = value
            elif key == "sort" and isinstance(value, str | list | Mapping):
                sort = parse_sort(value)
            elif key == "_source" and isinstance(value, bool | str | list | Mapping):
                source = _source_filter(value)
            else:
                raise _error(f"Unknown key for a {token_name(value)} in [{key}].")
        if flags["explain"]:
            raise _error("[top_hits] option [explain] is not supported by mlgate")
        for key in ("from", "size"):
            if numbers[key] < 0:
                raise InvalidRequestError(
                    f"[{key}] must be greater than or equal to 0. Found [{numbers[key]}] in [{name}]"
                )
        window = numbers["from"] + numbers["size"]
        if window > MAX_INNER_RESULT_WINDOW:
            raise InvalidRequestError(
                f"Top hits result window is too large, the top hits aggregator [{name}]'s from + size must be less "
                f"than or equal to: [{MAX_INNER_RESULT_WINDOW}] but was [{window}]. This limit can be set by "
                "changing the [index.max_inner_result_window] index level setting."
            )
        return TopHits(
            start=numbers["from"],
            size=numbers["size"],
            sort=sort,
            source=source,
            version=flags["version"],
            seq_no_primary_term=flags["seq_no_primary_term"],
            track_scores=flags["track_scores"],
        )


def _query(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _error("[_na] query malformed, must start with start_object")
    return value


def _patterns(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise _error(f"[{what}] must be a string or an array of strings")


def _source_filter(spec: Any) -> SourceFilter:
    """``_source`` of ``top_hits``: ``false``, a pattern or patterns, or ``includes``/``excludes``."""
    if isinstance(spec, bool):
        return SourceFilter(fetch=spec)
    if not isinstance(spec, Mapping):
        return SourceFilter(includes=_patterns(spec, "_source"))
    for key, value in spec.items():
        if key not in ("includes", "include", "excludes", "exclude"):
            raise _error(f"Unknown key for a {token_name(value)} in [{key}].")
    return SourceFilter(
        includes=_patterns(spec.get("includes", spec.get("include")), "includes"),
        excludes=_patterns(spec.get("excludes", spec.get("exclude")), "excludes"),
    )
