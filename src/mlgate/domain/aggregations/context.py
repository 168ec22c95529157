"""What the aggregations of one search read: field types, typed values, the visible documents, budgets.

ML Commons' indices map a few fields as ``keyword`` and the time fields as ``date``; any other string
field is ``text`` with a ``.keyword`` subfield, and numbers and booleans are mapped on first sight. The
type of a field is therefore read from the declared sets, then from the values of the documents the
caller may see (the same view the query side has, ``domain/search_field.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mlgate.domain.aggregations.dates import parse_date
from mlgate.domain.aggregations.format import DEFAULT_DATE_FORMAT, DateFormat
from mlgate.domain.errors import InvalidRequestError, LimitExceededError
from mlgate.domain.search_budget import VALUE_STEPS, SearchBudget
from mlgate.domain.search_field import (
    KEYWORD_SUFFIX,
    IndexedDoc,
    field_values,
    is_keyword_field,
    is_number,
)

KEYWORD, TEXT, LONG, DOUBLE, BOOLEAN, DATE, UNMAPPED = (
    "keyword",
    "text",
    "long",
    "double",
    "boolean",
    "date",
    "unmapped",
)
NUMERIC_KINDS = frozenset({LONG, DOUBLE, BOOLEAN, DATE})
# OpenSearch: MultiBucketConsumerService.DEFAULT_MAX_BUCKETS (the search.max_buckets setting).
MAX_BUCKETS = 65_535


class HitDoc(Protocol):
    """A stored document as ``top_hits`` renders it."""

    @property
    def id(self) -> str: ...
    @property
    def source(self) -> Mapping[str, Any]: ...
    @property
    def version(self) -> int: ...
    @property
    def seq_no(self) -> int: ...
    @property
    def primary_term(self) -> int: ...


# A matched document: its input position (the ``_doc`` order) and stored form, and its indexed form.
Hit = tuple[tuple[int, HitDoc], IndexedDoc]


def fielddata_error(field_name: str) -> InvalidRequestError:
    """OpenSearch's refusal to aggregate or sort on an analysed text field."""
    return InvalidRequestError(
        "Text fields are not optimised for operations that require per-document field data like "
        "aggregations and sorting, so these operations are disabled by default. Please use a keyword "
        f"field instead. Alternatively, set fielddata=true on [{field_name}] in order to load field data "
        "by uninverting the inverted index. Note that this can use significant memory."
    )


def unsupported_type(field_name: str, kind: str, agg_type: str) -> InvalidRequestError:
    """OpenSearch's refusal of a field type an aggregation cannot read (a number agg on a keyword)."""
    return InvalidRequestError(
        f"Field [{field_name}] of type [{kind}] is not supported for aggregation [{agg_type}]"
    )


@dataclass
class Budget:
    """Counts the buckets of one search (OpenSearch's ``search.max_buckets``) and charges each document
    an aggregation handles to the search's step budget, before handling it."""

    steps: SearchBudget = field(default_factory=SearchBudget)
    max_buckets: int = MAX_BUCKETS
    buckets: int = 0

    def add_buckets(self, count: int) -> None:
        """Record ``count`` new buckets; refuse past the limit as OpenSearch does."""
        self.buckets += count
        if self.buckets > self.max_buckets:
            raise LimitExceededError(
                f"Trying to create too many buckets. Must be less than or equal to: [{self.max_buckets}] but "
                f"was [{self.buckets}]. This limit can be set by changing the [search.max_buckets] cluster "
                "level setting."
            )

    def visit(self, count: int) -> None:
        """Charge ``count`` documents, each read by one aggregation in one bucket."""
        self.steps.charge(count * VALUE_STEPS)


@dataclass
class AggContext:
    """Everything an aggregation needs besides its own documents."""

    index: str
    universe: Sequence[Hit]
    keyword_fields: frozenset[str] = frozenset()
    date_fields: frozenset[str] = frozenset()
    source_excludes: tuple[str, ...] = ()
    total_as_int: bool = False
    typed_keys: bool = False
    budget: Budget = field(default_factory=Budget)
    _kinds: dict[str, str] = field(default_factory=dict)

    def kind(self, name: str) -> str:
        """The mapped type of field ``name`` (``unmapped`` when no visible document has it)."""
        if name not in self._kinds:
            self._kinds[name] = self._infer(name)
        return self._kinds[name]

    def _infer(self, name: str) -> str:
        if name == "_id" or is_keyword_field(name, self.keyword_fields):
            return KEYWORD
        if name in self.date_fields:
            return DATE
        if name.endswith(KEYWORD_SUFFIX) and name not in self.date_fields:
            base = name[: -len(KEYWORD_SUFFIX)]
            has_text = any(isinstance(v, str) for _, doc in self.universe for v in doc.fields.get(base, ()))
            if has_text:
                return KEYWORD
        seen = [v for _, doc in self.universe for v in doc.fields.get(name, ())]
        if any(isinstance(v, str) for v in seen):
            return TEXT
        if any(isinstance(v, float) for v in seen):
            return DOUBLE
        if any(is_number(v) for v in seen):
            return LONG
        return BOOLEAN if any(isinstance(v, bool) for v in seen) else UNMAPPED

    def values(self, doc: IndexedDoc, name: str, kind: str, *, distinct: bool = True) -> list[Any]:
        """The values of ``name`` in ``doc`` as the field's type reads them (each once if ``distinct``)."""
        found = field_values(doc, name, self.keyword_fields)
        out: list[Any]
        if kind == KEYWORD:
            out = [*found.keywords, *(_keyword_text(v) for v in (*found.numbers, *found.booleans))]
        elif kind == DATE:
            out = [int(v) for v in found.numbers] + [_date_or_none(v) for v in found.texts]
            out = [v for v in out if v is not None]
        elif kind == BOOLEAN:
            out = [int(v) for v in found.booleans]
        elif kind in (LONG, DOUBLE):
            out = [float(v) if kind == DOUBLE else v for v in found.numbers]
        else:
            out = []
        return list(dict.fromkeys(out)) if distinct else out

    def missing_value(self, raw: Any, kind: str) -> Any:
        """The request's ``missing`` value read as the field's type."""
        if kind == KEYWORD:
            return _keyword_text(raw)
        if kind == DATE:
            return parse_date(raw)
        if kind == BOOLEAN:
            if isinstance(raw, bool) or raw in ("true", "false"):
                return int(raw in (True, "true"))
            raise InvalidRequestError(f"Can't parse boolean value [{raw}], expected [true] or [false]")
        try:
            number = float(raw) if not is_number(raw) else raw
        except (TypeError, ValueError) as err:
            raise InvalidRequestError(
                f'For input string: "{raw}"', error_type="number_format_exception"
            ) from err
        return float(number) if kind == DOUBLE else number


def kind_of_missing(raw: Any) -> str:
    """The type an unmapped field takes from its ``missing`` value."""
    if isinstance(raw, bool):
        return BOOLEAN
    if isinstance(raw, float):
        return DOUBLE
    return LONG if is_number(raw) else KEYWORD


def check_format(agg_name: str, field_name: str, kind: str, fmt: DateFormat | None) -> None:
    """A ``format`` applies to date fields only here; elsewhere it is refused, never ignored."""
    if fmt is None or kind in (DATE, UNMAPPED):
        return
    if kind in (KEYWORD, TEXT, BOOLEAN):
        raise InvalidRequestError(f"Field [{field_name}] of type [{kind}] does not support custom formats")
    raise InvalidRequestError(
        f"[format] on the numeric field [{field_name}] of aggregation [{agg_name}] is not supported by mlgate"
    )


def date_format_for(kind: str, explicit: DateFormat | None) -> DateFormat | None:
    """The format printing ``*_as_string`` values: a date field's, ``None`` for raw numbers and strings."""
    if kind == DATE:
        return explicit or DEFAULT_DATE_FORMAT
    return None


def _keyword_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _date_or_none(text: str) -> int | None:
    try:
        return parse_date(text)
    except InvalidRequestError:
        return None
