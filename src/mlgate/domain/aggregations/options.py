"""Options of the field-reading aggregations (``terms``, ``range``, ``date_histogram``, metrics), read
the way OpenSearch's ``ObjectParser`` reads them: unknown keys and wrongly typed values are refused
(``x_content_parse_exception``), a setter's refusal is wrapped in ``[type] failed to parse field [x]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mlgate.domain.aggregations.dates import (
    Interval,
    calendar_interval,
    fixed_interval,
    legacy_interval,
    parse_date,
    parse_time_value,
    parse_time_zone,
)
from mlgate.domain.aggregations.format import parse_date_format
from mlgate.domain.aggregations.node import (
    DateHistogram,
    Metric,
    OrderKey,
    Range,
    RangeSpec,
    Terms,
    ValuesSource,
)
from mlgate.domain.aggregations.order import parse_path
from mlgate.domain.errors import InvalidRequestError, MlgateError
from mlgate.domain.fields import token_name
from mlgate.domain.search_field import is_number

PARSE = "x_content_parse_exception"
_SOURCE_KEYS = ("field", "missing", "value_type", "script")
# Keys OpenSearch declares that mlgate refuses rather than ignores.
_UNSUPPORTED = frozenset({"script", "value_type", "hard_bounds"})


def levenshtein_similarity(left: str, right: str) -> float:
    """Lucene's ``LevenshteinDistance.getDistance``: 1 - edits / longest length."""
    if not left or not right:
        return 1.0 if left == right else 0.0
    previous = list(range(len(left) + 1))
    for j, char in enumerate(right, 1):
        current = [j]
        for i, other in enumerate(left, 1):
            current.append(min(current[i - 1] + 1, previous[i] + 1, previous[i - 1] + (char != other)))
        previous = current
    return 1.0 - previous[-1] / max(len(left), len(right))


def suggest(unknown: str, candidates: Iterable[str]) -> str:
    """OpenSearch's ``SuggestingErrorOnUnknown.suggest``: `` did you mean [x]?`` or ``""``."""
    scored = [(levenshtein_similarity(unknown, c), c) for c in candidates]
    close = sorted((item for item in scored if item[0] > 0.5), key=lambda item: (-item[0], item[1]))
    if not close:
        return ""
    names = [name for _, name in close]
    return (
        f" did you mean [{names[0]}]?" if len(names) == 1 else f" did you mean any of [{', '.join(names)}]?"
    )


class Options:
    """The options object of one aggregation, read once, key by key."""

    def __init__(self, type_name: str, body: Mapping[str, Any], declared: Iterable[str]) -> None:
        self.type_name, self.body = type_name, body
        declared = frozenset(declared)
        for key in body:
            if key not in declared:
                raise InvalidRequestError(
                    f"[{type_name}] unknown field [{key}]{suggest(key, sorted(declared))}", error_type=PARSE
                )
            if key in _UNSUPPORTED:
                raise InvalidRequestError(
                    f"[{type_name}] option [{key}] is not supported by mlgate", error_type="parsing_exception"
                )

    def failed(self, key: str, cause: MlgateError | None = None) -> InvalidRequestError:
        """``[type] failed to parse field [key]``, with the setter's refusal as the cause."""
        caused_by = None if cause is None else (cause.error_type, cause.message)
        return InvalidRequestError(
            f"[{self.type_name}] failed to parse field [{key}]", error_type=PARSE, caused_by=caused_by
        )

    def setter(
        self, key: str, default: Any, read: Callable[[Any], Any], accepts: Callable[[Any], bool] | None = None
    ) -> Any:
        """``read(value)`` for a present key, its refusal wrapped as OpenSearch's parser wraps it; a
        value of a JSON type the key never ``accepts`` is refused as such first."""
        if key not in self.body:
            return default
        value = self.body[key]
        if accepts is not None and not accepts(value):
            raise self._wrong_type(key, value)
        try:
            return read(value)
        except InvalidRequestError as err:
            raise self.failed(key, err) from err

    def _wrong_type(self, key: str, value: Any) -> InvalidRequestError:
        return InvalidRequestError(
            f"[{self.type_name}] {key} doesn't support values of type: {token_name(value)}", error_type=PARSE
        )

    def string(self, key: str, default: str | None = None) -> str | None:
        if key in self.body and not isinstance(self.body[key], str):
            raise self._wrong_type(key, self.body[key])
        value = self.body.get(key, default)
        return None if value is None else str(value)

    def integer(self, key: str, default: int, check: Callable[[int], str | None] = lambda n: None) -> int:
        def read(value: Any) -> int:
            try:
                number = int(float(value)) if isinstance(value, str) else int(value)
            except (ValueError, OverflowError) as err:
                raise InvalidRequestError(
                    f'For input string: "{value}"', error_type="number_format_exception"
                ) from err
            problem = check(number)
            if problem is not None:
                raise InvalidRequestError(problem)
            return number

        return int(self.setter(key, default, read, lambda v: is_number(v) or isinstance(v, str)))

    def boolean(self, key: str, default: bool) -> bool:
        def read(value: Any) -> bool:
            return value is True or value == "true"

        return bool(self.setter(key, default, read, lambda v: isinstance(v, bool) or v in ("true", "false")))

    def source(self, formattable: bool = True) -> ValuesSource:
        """``field``, ``missing`` and ``format``; a field is required as OpenSearch requires one."""
        field = self.string("field")
        if field is None:
            raise InvalidRequestError("Required one of fields [field, script], but none were specified. ")
        missing = self.body.get("missing")
        if isinstance(missing, Mapping | list):
            raise self._wrong_type("missing", missing)
        fmt = self.setter("format", None, lambda v: parse_date_format(str(v))) if formattable else None
        return ValuesSource(field=field, missing=missing, format=fmt)

    def order(self) -> tuple[OrderKey, ...]:
        """``order``: ``{"_count": "desc"}`` or a list of such objects (OpenSearch ``InternalOrder.Parser``)."""

        def read(raw: Any) -> tuple[OrderKey, ...]:
            items = raw if isinstance(raw, list) else [raw]
            return tuple(_order_key(item) for item in items)

        return tuple(self.setter("order", (), read))


def _order_key(item: Any) -> OrderKey:
    if not isinstance(item, Mapping):
        raise InvalidRequestError(
            f"Unexpected token [{token_name(item)}] for [order]", error_type="parsing_exception"
        )
    if not item:
        raise InvalidRequestError(
            "Must specify at least one field for [order]", error_type="parsing_exception"
        )
    # Several keys in one object: the last one counts, as OpenSearch's parser reads them in turn.
    key, ascending = "", False
    for name, direction in item.items():
        key = name
        if not isinstance(direction, str):
            raise InvalidRequestError(
                f"Unexpected token [{token_name(direction)}] for [order]", error_type="parsing_exception"
            )
        if direction.lower() not in ("asc", "desc"):
            raise InvalidRequestError(
                f"Unknown order direction [{direction}]", error_type="parsing_exception"
            )
        ascending = direction.lower() == "asc"
    if key in ("_key", "_term", "_time"):
        return OrderKey("_key", ascending)
    if key == "_count":
        return OrderKey("_count", ascending)
    return OrderKey("path", ascending, path=parse_path(key), text=key)


_VALUES = (*_SOURCE_KEYS, "format")
_TERMS_KEYS = (
    *_VALUES,
    "size",
    "shard_size",
    "min_doc_count",
    "shard_min_doc_count",
    "show_term_doc_count_error",
    "execution_hint",
    "collect_mode",
    "order",
    "include",
    "exclude",
)


def _positive(agg_name: str, label: str) -> Callable[[int], str | None]:
    return lambda n: None if n > 0 else f"[{label}] must be greater than 0. Found [{n}] in [{agg_name}]"


def _non_negative(agg_name: str, label: str) -> Callable[[int], str | None]:
    return lambda n: (
        None if n >= 0 else f"[{label}] must be greater than or equal to 0. Found [{n}] in [{agg_name}]"
    )


def parse_terms(name: str, body: Mapping[str, Any]) -> Terms:
    """``terms``; ``shard_size``, ``shard_min_doc_count``, ``execution_hint`` and ``collect_mode`` are
    accepted and have no effect on one shard."""
    options = Options("terms", body, _TERMS_KEYS)
    options.integer("shard_size", 1, _positive(name, "shardSize"))
    options.integer("shard_min_doc_count", 0, _non_negative(name, "shardMinDocCount"))
    options.string("execution_hint")

    def collect_mode(value: Any) -> str:
        if value not in ("depth_first", "breadth_first"):
            raise InvalidRequestError(
                f"no [collect_mode] found for value [{value}]", error_type="parse_exception"
            )
        return str(value)

    options.setter("collect_mode", None, collect_mode)
    source = options.source()
    return Terms(
        source=source,
        size=options.integer("size", 10, _positive(name, "size")),
        min_doc_count=options.integer("min_doc_count", 1, _non_negative(name, "minDocCount")),
        order=options.order(),
        include=options.setter("include", None, _include_rule),
        exclude=options.setter("exclude", None, _include_rule),
        show_doc_count_error=options.boolean("show_term_doc_count_error", False),
    )


def _include_rule(raw: Any) -> tuple[str, ...] | str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list) and all(isinstance(v, str) or is_number(v) for v in raw):
        return tuple(str(v) if isinstance(v, str) else v for v in raw)
    if isinstance(raw, Mapping) and "partition" in raw:
        raise InvalidRequestError(
            "[include] partitions are not supported by mlgate", error_type="parsing_exception"
        )
    raise InvalidRequestError(
        f"Unknown key for a {token_name(raw)} in [include].", error_type="parsing_exception"
    )


_METRIC_KEYS = {
    "min": _VALUES,
    "max": _VALUES,
    "avg": _VALUES,
    "sum": _VALUES,
    "stats": _VALUES,
    "value_count": _SOURCE_KEYS,
    "cardinality": (*_SOURCE_KEYS, "precision_threshold", "execution_hint"),
}
METRIC_TYPES = frozenset(_METRIC_KEYS)


def parse_metric(kind: str, name: str, body: Mapping[str, Any]) -> Metric:
    """A metric; ``precision_threshold`` is accepted (cardinality is exact here)."""
    options = Options(kind, body, _METRIC_KEYS[kind])
    options.integer("precision_threshold", 0, _non_negative(name, "precisionThreshold"))
    options.string("execution_hint")
    return Metric(kind=kind, source=options.source(formattable=kind not in ("value_count", "cardinality")))


def parse_range(name: str, body: Mapping[str, Any]) -> Range:
    """``range``: ``ranges`` of ``{"key", "from", "to"}``, ``keyed``."""
    options = Options("range", body, (*_VALUES, "keyed", "ranges"))

    def ranges(raw: Any) -> tuple[RangeSpec, ...]:
        return tuple(_range_spec(item) for item in raw)

    parsed: tuple[RangeSpec, ...] = options.setter("ranges", (), ranges, lambda v: isinstance(v, list))
    keyed = options.boolean("keyed", False)
    source = options.source()
    if not parsed:
        raise InvalidRequestError(f"No [ranges] specified for the [{name}] aggregation")
    return Range(source=source, ranges=parsed, keyed=keyed)


def _range_spec(item: Any) -> RangeSpec:
    if not isinstance(item, Mapping):
        raise InvalidRequestError(
            f"[range] Expected START_OBJECT but was: {token_name(item)}", error_type=PARSE
        )
    for key, value in item.items():
        if key not in ("key", "from", "to"):
            raise InvalidRequestError(
                f"[range] unknown field [{key}]{suggest(key, ['from', 'key', 'to'])}", error_type=PARSE
            )
        if isinstance(value, Mapping | list | bool):
            raise InvalidRequestError(
                f"[range] {key} doesn't support values of type: {token_name(value)}", error_type=PARSE
            )
    key = item.get("key")
    return RangeSpec(key=None if key is None else str(key), start=item.get("from"), end=item.get("to"))


_HISTOGRAM_KEYS = (
    *_VALUES,
    "time_zone",
    "interval",
    "calendar_interval",
    "fixed_interval",
    "offset",
    "keyed",
    "min_doc_count",
    "extended_bounds",
    "hard_bounds",
    "order",
)


def parse_date_histogram(name: str, body: Mapping[str, Any]) -> DateHistogram:
    """``date_histogram`` with exactly one of ``calendar_interval``, ``fixed_interval``, ``interval``."""
    options = Options("date_histogram", body, _HISTOGRAM_KEYS)
    interval: Interval | None = None
    chosen: str | None = None
    readers = {
        "calendar_interval": calendar_interval,
        "fixed_interval": fixed_interval,
        "interval": legacy_interval,
    }
    for key in body:
        if key in readers:
            if chosen is not None:
                clash = (
                    "Cannot use [interval] with [fixed_interval] or [calendar_interval] configuration options."
                    if key == "interval"
                    else f"Cannot use [{key}] with [{chosen}] configuration option."
                )
                raise options.failed(key, InvalidRequestError(clash))
            accepts = None if key == "interval" else (lambda v: isinstance(v, str))
            interval = options.setter(key, None, readers[key], accepts)
            chosen = key
    zone = options.setter("time_zone", 0, parse_time_zone)
    offset = options.setter("offset", 0, _offset)
    keyed = options.boolean("keyed", False)
    min_doc_count = options.integer("min_doc_count", 0, _non_negative(name, "minDocCount"))
    bounds = options.setter("extended_bounds", None, _bounds)
    order = options.order()
    source = options.source()
    if interval is None:
        raise InvalidRequestError("Invalid interval specified, must be non-null and non-empty")
    if bounds is not None and None not in bounds and parse_date(bounds[0]) > parse_date(bounds[1]):
        raise InvalidRequestError(
            f"[extended_bounds.min][{parse_date(bounds[0])}] cannot be greater than "
            f"[extended_bounds.max][{parse_date(bounds[1])}] for histogram aggregation [{name}]"
        )
    return DateHistogram(
        source=source,
        interval=interval,
        zone_offset_ms=zone,
        offset_ms=offset,
        min_doc_count=min_doc_count,
        bounds=bounds,
        order=order,
        keyed=keyed,
    )


def _offset(raw: Any) -> int:
    if is_number(raw):
        return int(raw)
    text = str(raw)
    sign = -1 if text.startswith("-") else 1
    return sign * parse_time_value(text.lstrip("+-"), "DateHistogramAggregationBuilder.parseOffset")


def _bounds(raw: Any) -> tuple[Any, Any]:
    if not isinstance(raw, Mapping):
        raise InvalidRequestError(
            f"[extended_bounds] Expected START_OBJECT but was: {token_name(raw)}", error_type=PARSE
        )
    for key in raw:
        if key not in ("min", "max"):
            raise InvalidRequestError(f"[extended_bounds] unknown field [{key}]", error_type=PARSE)
    for value in raw.values():
        parse_date(value)
    return raw.get("min"), raw.get("max")
