"""How a stored JSON document looks to a search: indexed field paths, field types and text analysis.

OpenSearch indexes a document as a flat set of dotted field paths; arrays (also arrays of objects)
simply give a path several values, and ``null`` values are not indexed at all. ML Commons' mappings
make a few enum-like fields ``keyword`` (exact match); every other string field is ``text`` analysed by
the standard analyzer, with a ``.keyword`` subfield holding the whole string (up to 256 characters).
This module reproduces that view so queries and sorts can be evaluated in Python.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlgate.domain.search_budget import SearchBudget

KEYWORD_SUFFIX = ".keyword"
# Dynamic ``.keyword`` subfields in OpenSearch skip strings longer than this (``ignore_above``).
KEYWORD_IGNORE_ABOVE = 256

# A rough standard tokenizer (Unicode UAX#29 word boundaries): runs of word characters, kept together
# across "." or "'" between letters ("amazon.titan") and across "." "," ";" "'" between digits ("1.5").
_TOKEN = re.compile(
    r"\w+(?:(?:(?<=[^\W\d_])[.'’](?=[^\W\d_])|(?<=\d)[.,;'’](?=\d))\w+)*",
)


def analyze(text: str) -> list[str]:
    """Split ``text`` into lower-cased tokens the way OpenSearch's standard analyzer roughly does."""
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True)
class IndexedDoc:
    """A document flattened into indexed paths: ``fields["owner.name"] == ["bob"]``."""

    id: str
    fields: Mapping[str, Sequence[Any]]
    # Kept for ``nested`` queries, which look at each object under a path on its own.
    source: Mapping[str, Any]
    unsearchable_prefixes: tuple[str, ...]
    # The search's budget: every read of a field's values is charged to it (see ``field_values``).
    budget: SearchBudget = dataclasses.field(default_factory=SearchBudget)
    # The values (and their analysis) of each field already asked for: clauses on one field share them.
    values: dict[str, FieldValues] = dataclasses.field(default_factory=dict, compare=False)

    def has_path(self, path: str) -> bool:
        """Whether ``path`` holds a value, or is an object with at least one indexed value below it."""
        if path in self.fields:
            return True
        below = path + "."
        return any(key.startswith(below) for key in self.fields)


def is_unsearchable(path: str, unsearchable_prefixes: Sequence[str]) -> bool:
    """Whether ``path`` is one of ``unsearchable_prefixes`` or lies below one of them."""
    return any(path == prefix or path.startswith(prefix + ".") for prefix in unsearchable_prefixes)


def index_document(
    source: Mapping[str, Any],
    doc_id: str,
    unsearchable_prefixes: Sequence[str],
    budget: SearchBudget | None = None,
) -> IndexedDoc:
    """Flatten ``source`` into its indexed paths, leaving out everything under ``unsearchable_prefixes``.

    ``budget`` is the search's (a fresh one when None); the flattening itself is charged to it.
    """
    fields: dict[str, list[Any]] = {}

    def walk(value: Any, path: str) -> None:
        if value is None or is_unsearchable(path, unsearchable_prefixes):
            return
        if isinstance(value, Mapping):
            for key, child in value.items():
                walk(child, f"{path}.{key}")
        elif isinstance(value, list):
            for item in value:
                walk(item, path)
        else:
            fields.setdefault(path, []).append(value)

    for key, value in source.items():
        walk(value, str(key))
    budget = budget or SearchBudget()
    budget.charge(1 + sum(len(values) for values in fields.values()))
    return IndexedDoc(
        id=doc_id,
        fields=fields,
        source=source,
        unsearchable_prefixes=tuple(unsearchable_prefixes),
        budget=budget,
    )


def nested_documents(doc: IndexedDoc, path: str) -> list[IndexedDoc]:
    """Each object under ``path`` as a document of its own (keeping full paths), as ``nested`` sees it."""
    if is_unsearchable(path, doc.unsearchable_prefixes):
        return []
    objects: list[Any] = [doc.source]
    for key in path.split("."):
        children = (o.get(key) for o in objects if isinstance(o, Mapping))
        objects = [item for child in children for item in (child if isinstance(child, list) else [child])]
    wrapped = []
    for obj in objects:
        if isinstance(obj, Mapping):
            for key in reversed(path.split(".")):
                obj = {key: obj}
            wrapped.append(obj)
    return [index_document(source, doc.id, doc.unsearchable_prefixes, doc.budget) for source in wrapped]


@dataclass(frozen=True)
class FieldValues:
    """The values of one queried field in one document, split by how OpenSearch indexes them."""

    keywords: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    numbers: tuple[int | float, ...] = ()
    booleans: tuple[bool, ...] = ()

    @functools.cached_property
    def phrases(self) -> tuple[tuple[str, ...], ...]:
        """The tokens of each text value, in order (analysed once, however many clauses ask)."""
        return tuple(tuple(analyze(text)) for text in self.texts)

    @functools.cached_property
    def _tokens(self) -> frozenset[str]:
        return frozenset(token for phrase in self.phrases for token in phrase)

    def tokens(self) -> frozenset[str]:
        """Every token of every text value: an array of text is one field with all their tokens."""
        return self._tokens

    def is_empty(self) -> bool:
        """Whether the field has no indexed value at all."""
        return not (self.keywords or self.texts or self.numbers or self.booleans)


def is_number(value: Any) -> bool:
    """Whether ``value`` is a JSON number (``bool`` is not, although Python says so)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_keyword_field(name: str, keyword_fields: frozenset[str]) -> bool:
    """Whether ``name`` is listed in ``keyword_fields``, itself or below an ``"<object>.*"`` entry.

    The ``.*`` form declares ``flat_object`` fields such as a connector's ``parameters``, whose
    subfields are all searched as exact strings.
    """
    if name in keyword_fields:
        return True
    parts = name.split(".")
    return any(".".join(parts[:i]) + ".*" in keyword_fields for i in range(1, len(parts)))


def field_values(doc: IndexedDoc, field: str, keyword_fields: frozenset[str]) -> FieldValues:
    """The values of ``field`` (``name``, ``name.keyword``, ``owner.name``, ``_id``) in ``doc``.

    The first read of a field charges the search budget for its characters, before anything scans
    them; later reads (other clauses on the same field) share the values and their analysis.
    """
    doc.budget.charge(1)
    known = doc.values.get(field)
    if known is None:
        known = doc.values[field] = _read_values(doc, field, keyword_fields)
    return known


def _read_values(doc: IndexedDoc, field: str, keyword_fields: frozenset[str]) -> FieldValues:
    if field == "_id":
        doc.budget.charge(len(doc.id))
        return FieldValues(keywords=(doc.id,))
    subfield = field.endswith(KEYWORD_SUFFIX) and field not in doc.fields
    base = field[: -len(KEYWORD_SUFFIX)] if subfield else field
    raw = doc.fields.get(base, ())
    doc.budget.charge(sum(len(value) for value in raw if isinstance(value, str)))
    if subfield:
        # A keyword field has no ``.keyword`` subfield in OpenSearch; accepting it anyway is harmless.
        limit = None if is_keyword_field(base, keyword_fields) else KEYWORD_IGNORE_ABOVE
        keywords = tuple(
            value for value in raw if isinstance(value, str) and (limit is None or len(value) <= limit)
        )
        return FieldValues(keywords=keywords)
    strings = tuple(value for value in raw if isinstance(value, str))
    numbers = tuple(value for value in raw if is_number(value))
    booleans = tuple(value for value in raw if isinstance(value, bool))
    if is_keyword_field(field, keyword_fields):
        return FieldValues(keywords=strings, numbers=numbers, booleans=booleans)
    return FieldValues(texts=strings, numbers=numbers, booleans=booleans)


def is_text_field(field: str, keyword_fields: frozenset[str]) -> bool:
    """Whether string values of ``field`` are analysed text (not a keyword field or subfield)."""
    return (
        field != "_id" and not field.endswith(KEYWORD_SUFFIX) and not is_keyword_field(field, keyword_fields)
    )
