"""A document parsed against its index's mapping: what each field indexes, plus the dynamic mapping
update for fields the mapping does not know yet (OpenSearch ``DocumentParser``).

Dynamic mapping (``dynamic: true``, the default): a string becomes ``text`` with a ``keyword``
sub-field (``ignore_above`` 256), or ``date`` when it reads as ``strict_date_optional_time``; an
integer ``long``; a decimal ``float``; a boolean ``boolean``; an object ``object``; an array takes its
first non-null element's type; ``null`` and empty arrays add nothing. A float array is never a
``knn_vector``. ``dynamic: false`` keeps unknown fields in ``_source`` only; ``strict`` refuses them.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.indices.analysis import tokenize
from mlgate.domain.indices.errors import MapperParsingError
from mlgate.domain.indices.floats import f32
from mlgate.domain.indices.knn import parse_vector
from mlgate.domain.indices.mapping import INTEGER_TYPES, NUMERIC_TYPES, FieldMapping, Mappings
from mlgate.domain.indices.mapping_merge import merge_mappings

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2}([.,]\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?")
_INTEGER_RANGES = {
    "byte": (-(2**7), 2**7 - 1),
    "short": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
    "unsigned_long": (0, 2**64 - 1),
}


@dataclass(frozen=True)
class ParsedDocument:
    """What one document indexes, by full field path.

    ``terms``: per indexed value, its tokens (``text``: the analyzer's; ``keyword``: the value itself);
    ``vectors``: ``knn_vector`` values as 32-bit floats; ``values``: doc values of keyword, numeric,
    boolean and date fields (dates as epoch milliseconds) for filters, sorting and aggregations.
    """

    id: str
    source: Mapping[str, Any]
    terms: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    vectors: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    values: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)


def parse_document(
    mappings: Mappings, doc_id: str, source: Mapping[str, Any]
) -> tuple[ParsedDocument, Mappings | None]:
    """Parse ``source``; returns the parsed document and the merged mapping when dynamic fields were
    added (None when the mapping is unchanged). Raises MapperParsingError for a bad value."""
    parser = _Parser(doc_id)
    added = parser.walk(source, mappings.properties, "", mappings.dynamic)
    updated = merge_mappings(mappings, Mappings(properties=added)) if added else None
    if updated is not None:
        # Index the new fields with their new mappings (the first pass only recorded them).
        parser = _Parser(doc_id)
        parser.walk(source, updated.properties, "", "false")
    document = ParsedDocument(
        doc_id,
        source,
        {path: tuple(values) for path, values in parser.terms.items()},
        parser.vectors,
        {path: tuple(values) for path, values in parser.values.items()},
    )
    return document, updated


class _Parser:
    def __init__(self, doc_id: str) -> None:
        self.doc_id = doc_id
        self.terms: dict[str, list[tuple[str, ...]]] = {}
        self.vectors: dict[str, tuple[float, ...]] = {}
        self.values: dict[str, list[Any]] = {}

    def walk(
        self, obj: Mapping[str, Any], properties: Mapping[str, FieldMapping], prefix: str, dynamic: str
    ) -> dict[str, FieldMapping]:
        """Index ``obj``'s fields; returns the mappings of fields to add dynamically."""
        added: dict[str, FieldMapping] = {}
        for name, value in obj.items():
            path = prefix + name
            mapping = properties.get(name)
            if mapping is None:
                if value is None or value == []:
                    continue
                if dynamic == "strict":
                    raise MapperParsingError(
                        f"mapping set to strict, dynamic introduction of [{name}] within [{prefix[:-1] or '_doc'}] is not allowed",
                        error_type="strict_dynamic_mapping_exception",
                    )
                if dynamic == "false":
                    continue
                mapping = _dynamic_mapping(value)
                if mapping is None:
                    continue
                added[name] = mapping
                if mapping.is_object:
                    inner = self.walk_object(value, mapping, path, dynamic)
                    if inner:
                        added[name] = FieldMapping(mapping.type, mapping.params, properties=inner)
                continue
            if mapping.is_object:
                inner = self.walk_object(value, mapping, path, mapping.dynamic or dynamic)
                if inner:
                    added[name] = FieldMapping(mapping.type, {}, properties=inner)
            else:
                self.leaf(path, mapping, value)
        return added

    def walk_object(
        self, value: Any, mapping: FieldMapping, path: str, dynamic: str
    ) -> dict[str, FieldMapping]:
        added: dict[str, FieldMapping] = {}
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if not isinstance(item, Mapping):
                raise MapperParsingError(
                    f"object mapping for [{path}] tried to parse field [{path.rsplit('.', 1)[-1]}] as object, but found a concrete value"
                )
            if mapping.params.get("enabled", True) in (False, "false"):
                continue
            for name, sub in self.walk(item, mapping.properties, path + ".", dynamic).items():
                added[name] = sub
        return added

    def leaf(self, path: str, mapping: FieldMapping, value: Any) -> None:
        if mapping.type == "knn_vector":
            if value is None:
                return
            assert mapping.knn is not None
            try:
                self.vectors[path] = parse_vector(value, mapping.knn)
            except InvalidRequestError as exc:
                raise self._failure(
                    path, mapping, "null", ("illegal_argument_exception", exc.message)
                ) from None
            return
        for item in _flatten(value):
            if item is None:
                continue
            if isinstance(item, Mapping):
                raise self._failure(
                    path,
                    mapping,
                    _preview(item),
                    ("illegal_state_exception", "Can't get text on a START_OBJECT"),
                )
            self.scalar(path, mapping, item)

    def scalar(self, path: str, mapping: FieldMapping, item: Any) -> None:
        kind = mapping.type
        if kind == "text":
            if mapping.is_indexed:
                self.terms.setdefault(path, []).append(tuple(tokenize(_as_text(item))))
        elif kind == "keyword":
            text = _as_text(item)
            limit = mapping.ignore_above
            if limit is not None and len(text) > limit:
                return
            if mapping.is_indexed:
                self.terms.setdefault(path, []).append((text,))
            self.values.setdefault(path, []).append(text)
        elif kind in NUMERIC_TYPES:
            self.values.setdefault(path, []).append(self._number(path, mapping, item))
        elif kind == "boolean":
            self.values.setdefault(path, []).append(self._boolean(path, mapping, item))
        elif kind == "date":
            self.values.setdefault(path, []).append(self._date(path, mapping, item))
        for sub_name, sub in mapping.fields.items():
            self.scalar(f"{path}.{sub_name}", sub, item)

    def _number(self, path: str, mapping: FieldMapping, item: Any) -> int | float:
        try:
            number = float(item) if not isinstance(item, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None or number != number:
            cause = ("number_format_exception", f'For input string: "{_as_text(item)}"')
            raise self._failure(path, mapping, _preview(item), cause)
        if mapping.type in INTEGER_TYPES:
            low, high = _INTEGER_RANGES[mapping.type]
            whole = int(item) if isinstance(item, int) else int(number)
            if not low <= whole <= high:
                cause = (
                    "illegal_argument_exception",
                    f"Value [{_as_text(item)}] is out of range for {_article(mapping.type)}",
                )
                raise self._failure(path, mapping, _preview(item), cause)
            return whole
        return f32(number) if mapping.type in ("float", "half_float") else number

    def _boolean(self, path: str, mapping: FieldMapping, item: Any) -> bool:
        if isinstance(item, bool):
            return item
        if item in ("true", "false", ""):
            return bool(item == "true")
        cause = (
            "illegal_argument_exception",
            f"Failed to parse value [{_as_text(item)}] as only [true] or [false] are allowed.",
        )
        raise self._failure(path, mapping, _preview(item), cause)

    def _date(self, path: str, mapping: FieldMapping, item: Any) -> int:
        if isinstance(item, int) and not isinstance(item, bool):
            return item
        millis = _parse_date(item) if isinstance(item, str) else None
        if millis is None:
            message = f"failed to parse date field [{_as_text(item)}] with format [strict_date_optional_time||epoch_millis]"
            raise self._failure(path, mapping, _preview(item), ("date_time_parse_exception", message))
        return millis

    def _failure(
        self, path: str, mapping: FieldMapping, preview: str, cause: tuple[str, str]
    ) -> MapperParsingError:
        return MapperParsingError(
            f"failed to parse field [{path}] of type [{mapping.type}] in document with id '{self.doc_id}'. "
            f"Preview of field's value: '{preview}'",
            caused_by=cause,
        )


def _dynamic_mapping(value: Any) -> FieldMapping | None:
    sample = next((item for item in _flatten(value) if item is not None), None)
    if sample is None:
        return None
    if isinstance(sample, Mapping):
        return FieldMapping("object")
    if isinstance(sample, bool):
        return FieldMapping("boolean")
    if isinstance(sample, int):
        return FieldMapping("long")
    if isinstance(sample, float):
        return FieldMapping("float")
    if isinstance(sample, str) and _parse_date(sample) is not None:
        return FieldMapping("date")
    sub = FieldMapping("keyword", {"ignore_above": 256})
    return FieldMapping("text", {}, fields={"keyword": sub})


def _flatten(value: Any) -> list[Any]:
    if not isinstance(value, list):
        return [value]
    flat: list[Any] = []
    for item in value:
        flat.extend(_flatten(item))
    return flat


def _parse_date(text: str) -> int | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.replace(",", "."))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp() * 1000)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _preview(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}={_preview(inner)}" for key, inner in value.items()) + "}"
    return _as_text(value)


def _article(type_name: str) -> str:
    return f"an {type_name}" if type_name[0] in "aeiou" else f"a {type_name}"
