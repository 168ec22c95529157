"""Compile an OpenSearch query DSL object into a predicate over stored JSON documents.

Supported: ``match_all``, ``match_none``, ``term``, ``terms``, ``ids``, ``exists``, ``prefix``,
``wildcard``, ``regexp``, ``range``, ``match``, ``match_phrase``, ``multi_match``, ``bool``, ``constant_score``,
``nested``. Fields need no ``nested`` query to be matched (OpenSearch would insist on one for ``owner``,
which ML Commons maps as nested); a ``nested`` query adds the one-object-at-a-time rule.
Anything else, and any malformed clause, raises ``InvalidRequestError`` with OpenSearch's wording
(``parsing_exception``) rather than being ignored, so a client never gets silently wrong hits.
Patterns are matched in linear time (``search_pattern``, ``search_regexp``), and queries nest at most
``MAX_QUERY_DEPTH`` deep.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.search_budget import SearchBudget
from mlgate.domain.search_clause import (
    AnyOf,
    Bool,
    Clause,
    Exists,
    Ids,
    Match,
    MatchAll,
    MatchNone,
    MatchPhrase,
    Nested,
    Range,
    StringPattern,
    Terms,
)
from mlgate.domain.search_field import analyze, index_document, is_number
from mlgate.domain.search_pattern import PrefixPattern, WildcardPattern
from mlgate.domain.search_regexp import REGEXP_OPTIONS, regexp_pattern
from mlgate.domain.search_value import (
    minimum_should_match,
    parsing_error,
    query_error,
    to_bound,
    to_value,
)

# Query objects may nest this deep (the top-level query is depth 1), as Elasticsearch's
# ``indices.query.bool.max_nested_depth`` has it; OpenSearch parses deeper, but evaluating such a tree
# here recurses once per level.
MAX_QUERY_DEPTH = 20
MAX_TERMS_COUNT = 65_536  # index.max_terms_count

# Real OpenSearch queries mlgate does not implement: refused with a clearer reason than "unknown".
_UNSUPPORTED_QUERIES = frozenset(
    {
        "boosting",
        "combined_fields",
        "dis_max",
        "distance_feature",
        "function_score",
        "fuzzy",
        "has_child",
        "has_parent",
        "hybrid",
        "intervals",
        "knn",
        "match_bool_prefix",
        "match_phrase_prefix",
        "more_like_this",
        "neural",
        "percolate",
        "query_string",
        "rank_feature",
        "script",
        "script_score",
        "simple_query_string",
        "terms_set",
        "wrapper",
    }
)


@dataclass(frozen=True)
class Query:
    """A compiled query: a clause tree plus the paths no query may see."""

    root: Clause
    unsearchable_prefixes: tuple[str, ...] = ()

    def matches(self, source: Mapping[str, Any], doc_id: str) -> bool:
        """Whether the document ``source`` with id ``doc_id`` matches the query."""
        return self.root.test(index_document(source, doc_id, self.unsearchable_prefixes))


def compile_query(
    query: Mapping[str, Any] | None,
    *,
    keyword_fields: frozenset[str] = frozenset(),
    unsearchable_prefixes: Sequence[str] = (),
    budget: SearchBudget | None = None,
) -> Query:
    """Compile the query DSL object ``query`` (``None`` means ``match_all``).

    ``keyword_fields`` names the fields mapped as ``keyword`` (exact match); other string fields are
    analysed text with a ``.keyword`` subfield. Paths under ``unsearchable_prefixes`` never match.
    Compiling is charged to ``budget`` (the search's; a fresh one when None). Raises
    ``InvalidRequestError`` for unknown or malformed clauses.
    """
    parser = _Parser(keyword_fields, budget or SearchBudget())
    root: Clause = MatchAll() if query is None else parser.parse(query)
    return Query(root=root, unsearchable_prefixes=tuple(unsearchable_prefixes))


# --- parsing -------------------------------------------------------------------------------------

_COMMON = frozenset({"boost", "_name"})


class _Parser:
    """Turns query DSL objects into clauses for one set of keyword fields."""

    def __init__(self, keyword_fields: frozenset[str], budget: SearchBudget) -> None:
        self.keyword_fields = keyword_fields
        self.budget = budget
        self.depth = 0
        self.parsers: dict[str, Callable[[Any, str], Clause]] = {
            "match_all": self._match_all,
            "match_none": self._match_none,
            "ids": self._ids,
            "exists": self._exists,
            "term": self._term,
            "terms": self._terms,
            "prefix": self._prefix,
            "wildcard": self._wildcard,
            "regexp": self._regexp,
            "range": self._range,
            "match": self._match,
            "match_phrase": self._match_phrase,
            "multi_match": self._multi_match,
            "bool": self._bool,
            "constant_score": self._constant_score,
            "nested": self._nested,
        }

    def parse(self, query: Any) -> Clause:
        """Parse one query object ``{"<type>": {...}}``."""
        if not isinstance(query, Mapping):
            raise parsing_error("[_na] query malformed, must start with start_object")
        if not query:
            raise parsing_error("query malformed, empty clause found")
        name, *rest = query
        if rest:
            raise parsing_error(f"[{name}] malformed query, expected [END_OBJECT] but found [FIELD_NAME]")
        parser = self.parsers.get(name)
        if parser is None:
            if name in _UNSUPPORTED_QUERIES:
                raise parsing_error(f"query [{name}] is not supported by mlgate")
            raise parsing_error(f"unknown query [{name}]")
        body = query[name]
        if not isinstance(body, Mapping):
            raise parsing_error(f"[{name}] query malformed, no start_object after query name")
        self.budget.charge(1)
        self.depth += 1
        try:
            if self.depth > MAX_QUERY_DEPTH:
                raise InvalidRequestError(
                    "The nested depth of the query exceeds the maximum nested depth for queries set in "
                    "[indices.query.bool.max_nested_depth]"
                )
            return parser(body, name)
        finally:
            self.depth -= 1

    # helpers

    @staticmethod
    def _check_keys(body: Mapping[str, Any], name: str, allowed: frozenset[str]) -> None:
        for key in body:
            if key not in allowed and key not in _COMMON:
                raise parsing_error(f"[{name}] query does not support [{key}]")
        boost = body.get("boost", 1.0)
        if not is_number(boost):
            raise parsing_error(f"[{name}] query failed to parse field [boost]")

    @staticmethod
    def _single_field(body: Mapping[str, Any], name: str) -> tuple[str, Any]:
        fields = list(body)
        if not fields:
            raise parsing_error(f"[{name}] query malformed, no field specified")
        if len(fields) > 1:
            raise parsing_error(
                f"[{name}] query doesn't support multiple fields, found [{fields[0]}] and [{fields[1]}]"
            )
        return fields[0], body[fields[0]]

    def _field_options(
        self, body: Mapping[str, Any], name: str, value_key: str, allowed: frozenset[str]
    ) -> tuple[str, Any, Mapping[str, Any]]:
        """``{"f": v}`` or ``{"f": {value_key: v, ...options}}`` → field, value, options."""
        field, spec = self._single_field(body, name)
        if not isinstance(spec, Mapping):
            return field, spec, {}
        aliases = {value_key, name} if name in {"term", "prefix", "wildcard"} else {value_key}
        self._check_keys(spec, name, allowed | aliases)
        present = [key for key in aliases if key in spec]
        if not present:
            raise parsing_error(f"[{name}] query malformed, no value specified for field [{field}]")
        return field, spec[present[0]], spec

    @staticmethod
    def _flag(options: Mapping[str, Any], key: str, name: str) -> bool:
        value = options.get(key, False)
        if not isinstance(value, bool):
            raise parsing_error(f"[{name}] query failed to parse field [{key}]")
        return value

    def _clauses(self, raw: Any) -> tuple[Clause, ...]:
        items = raw if isinstance(raw, list) else [raw]
        return tuple(self.parse(item) for item in items)

    # query types

    def _match_all(self, body: Mapping[str, Any], name: str) -> Clause:
        self._check_keys(body, name, frozenset())
        return MatchAll()

    def _match_none(self, body: Mapping[str, Any], name: str) -> Clause:
        self._check_keys(body, name, frozenset())
        return MatchNone()

    def _ids(self, body: Mapping[str, Any], name: str) -> Clause:
        self._check_keys(body, name, frozenset({"values", "type"}))
        values = body.get("values", [])
        if not isinstance(values, list) or not all(isinstance(v, str | int) for v in values):
            raise parsing_error("[ids] failed to parse field [values]")
        return Ids(frozenset(str(v) for v in values))

    def _exists(self, body: Mapping[str, Any], name: str) -> Clause:
        self._check_keys(body, name, frozenset({"field"}))
        field = body.get("field")
        if not isinstance(field, str) or not field:
            raise parsing_error("[exists] must be provided with a [field]")
        return Exists(field, self.keyword_fields)

    def _term(self, body: Mapping[str, Any], name: str) -> Clause:
        field, raw, options = self._field_options(body, name, "value", frozenset({"case_insensitive"}))
        insensitive = self._flag(options, "case_insensitive", name)
        return Terms(field, (to_value(raw, name),), self.keyword_fields, insensitive)

    def _terms(self, body: Mapping[str, Any], name: str) -> Clause:
        # Besides boost and _name, every key of a terms query is a field name.
        fields = [key for key in body if key not in _COMMON]
        self._check_keys(body, name, frozenset(fields))
        if len(fields) != 1:
            raise parsing_error(f"[{name}] query requires exactly one field, found {len(fields)}")
        raw = body[fields[0]]
        if isinstance(raw, Mapping):
            raise parsing_error("[terms] query lookup is not supported by mlgate")
        if not isinstance(raw, list):
            raise parsing_error(f"[{name}] query does not support [{fields[0]}]")
        if len(raw) > MAX_TERMS_COUNT:
            raise query_error(
                f"The number of terms [{len(raw)}] used in the Terms Query request has exceeded the allowed "
                f"maximum of [{MAX_TERMS_COUNT}]. This maximum can be set by changing the "
                "[index.max_terms_count] index level setting."
            )
        self.budget.charge(len(raw))
        return Terms(fields[0], tuple(to_value(v, name) for v in raw), self.keyword_fields)

    def _string_value(self, raw: Any, name: str) -> str:
        if not isinstance(raw, str | int | float) or isinstance(raw, bool):
            raise parsing_error(f"[{name}] query does not support array of values")
        return str(raw)

    def _prefix(self, body: Mapping[str, Any], name: str) -> Clause:
        allowed = frozenset({"case_insensitive", "rewrite"})
        field, raw, options = self._field_options(body, name, "value", allowed)
        prefix = self._string_value(raw, name)
        self.budget.charge(len(prefix))
        pattern = PrefixPattern.compile(prefix, self._flag(options, "case_insensitive", name))
        return StringPattern(field, pattern, self.keyword_fields)

    def _wildcard(self, body: Mapping[str, Any], name: str) -> Clause:
        allowed = frozenset({"case_insensitive", "rewrite"})
        field, raw, options = self._field_options(body, name, "value", allowed)
        text = self._string_value(raw, name)
        self.budget.charge(len(text))
        pattern = WildcardPattern.compile(text, self._flag(options, "case_insensitive", name))
        return StringPattern(field, pattern, self.keyword_fields)

    def _regexp(self, body: Mapping[str, Any], name: str) -> Clause:
        field, raw, options = self._field_options(body, name, "value", REGEXP_OPTIONS)
        pattern = regexp_pattern(self._string_value(raw, name), options, self.budget)
        return StringPattern(field, pattern, self.keyword_fields)

    def _range(self, body: Mapping[str, Any], name: str) -> Clause:
        field, spec = self._single_field(body, name)
        if not isinstance(spec, Mapping):
            raise parsing_error(f"[{name}] query malformed, no start_object after field name [{field}]")
        bounds = frozenset(
            {"gt", "gte", "lt", "lte", "from", "to", "include_lower", "include_upper", "format"}
        )
        self._check_keys(spec, name, bounds)
        lower_key = next((k for k in ("gt", "gte", "from") if k in spec), None)
        upper_key = next((k for k in ("lt", "lte", "to") if k in spec), None)
        include_lower = spec.get("include_lower", True) if lower_key == "from" else lower_key == "gte"
        include_upper = spec.get("include_upper", True) if upper_key == "to" else upper_key == "lte"
        lower_raw = spec.get(lower_key) if lower_key else None
        upper_raw = spec.get(upper_key) if upper_key else None
        return Range(
            field=field,
            lower=None if lower_raw is None else to_bound(lower_raw, name),
            upper=None if upper_raw is None else to_bound(upper_raw, name),
            include_lower=bool(include_lower) or lower_key is None,
            include_upper=bool(include_upper) or upper_key is None,
            keyword_fields=self.keyword_fields,
        )

    def _text_options(self, options: Mapping[str, Any], name: str) -> bool:
        """Validate analyser options shared by the full-text queries; return ``zero_terms_query: all``."""
        analyzer = options.get("analyzer", "standard")
        if analyzer not in {"standard", "default"}:
            raise parsing_error(f"[{name}] analyzer [{analyzer}] is not supported by mlgate")
        fuzziness = options.get("fuzziness", 0)
        if fuzziness not in {0, "0"}:
            raise parsing_error(f"[{name}] query option [fuzziness] is not supported by mlgate")
        zero_terms = str(options.get("zero_terms_query", "none")).lower()
        if zero_terms not in {"none", "all"}:
            raise parsing_error(f"[{name}] unsupported zero_terms_query value [{zero_terms}]")
        return zero_terms == "all"

    def _operator_required(self, options: Mapping[str, Any], name: str) -> Callable[[int], int]:
        operator = str(options.get("operator", "or")).lower()
        if operator not in {"or", "and"}:
            raise parsing_error(f"[{name}] query does not support [operator] value [{options['operator']}]")
        if operator == "and":
            return lambda n: n
        return minimum_should_match(options.get("minimum_should_match"), name)

    _MATCH_OPTIONS = frozenset(
        {
            "operator",
            "minimum_should_match",
            "analyzer",
            "fuzziness",
            "zero_terms_query",
            "lenient",
            "auto_generate_synonyms_phrase_query",
        }
    )

    def _match(self, body: Mapping[str, Any], name: str) -> Clause:
        field, raw, options = self._field_options(body, name, "query", self._MATCH_OPTIONS)
        value = to_value(raw, name)
        return Match(
            field=field,
            query=value,
            tokens=tuple(analyze(value.text)),
            required=self._operator_required(options, name),
            zero_terms_all=self._text_options(options, name),
            keyword_fields=self.keyword_fields,
        )

    def _match_phrase(self, body: Mapping[str, Any], name: str) -> Clause:
        allowed = frozenset({"slop", "analyzer", "zero_terms_query"})
        field, raw, options = self._field_options(body, name, "query", allowed)
        if options.get("slop", 0) != 0:
            raise parsing_error(f"[{name}] query option [slop] is not supported by mlgate")
        value = to_value(raw, name)
        return MatchPhrase(
            field=field,
            query=value,
            tokens=tuple(analyze(value.text)),
            zero_terms_all=self._text_options(options, name),
            keyword_fields=self.keyword_fields,
        )

    def _multi_match(self, body: Mapping[str, Any], name: str) -> Clause:
        self._check_keys(body, name, self._MATCH_OPTIONS | {"query", "fields", "type", "slop"})
        if "query" not in body:
            raise parsing_error("No text specified for multi_match query")
        fields = body.get("fields")
        if isinstance(fields, str):
            fields = [fields]
        if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
            raise parsing_error(f"[{name}] query requires a non-empty list of [fields]")
        kind = body.get("type", "best_fields")
        if kind not in {"best_fields", "most_fields", "phrase"}:
            raise parsing_error(f"[{name}] query type [{kind}] is not supported by mlgate")
        per_field = "match_phrase" if kind == "phrase" else "match"
        # Each per-field query takes only the options it understands.
        accepted = (
            {"query", "slop", "analyzer", "zero_terms_query"}
            if kind == "phrase"
            else self._MATCH_OPTIONS | {"query"}
        )
        options = {k: v for k, v in body.items() if k in accepted or k in _COMMON}
        clauses = []
        for spec in fields:
            field = spec.split("^", 1)[0]  # a per-field boost does not change which documents match
            if "*" in field:
                raise parsing_error(f"[{name}] wildcard field names are not supported by mlgate")
            clauses.append(self.parse({per_field: {field: options}}))
        return AnyOf(tuple(clauses))

    def _bool(self, body: Mapping[str, Any], name: str) -> Clause:
        occurs = frozenset({"must", "filter", "should", "must_not"})
        self._check_keys(body, name, occurs | {"minimum_should_match", "adjust_pure_negative"})
        must = self._clauses(body.get("must", [])) + self._clauses(body.get("filter", []))
        should = self._clauses(body.get("should", []))
        must_not = self._clauses(body.get("must_not", []))
        required = minimum_should_match(body.get("minimum_should_match"), name)(len(should))
        if should and not must:
            # Without must/filter clauses, a bool of should clauses is a disjunction: one must match.
            required = max(required, 1)
        if required > len(should):
            return MatchNone()
        return Bool(must=must, should=should, must_not=must_not, required_should=required)

    def _constant_score(self, body: Mapping[str, Any], name: str) -> Clause:
        self._check_keys(body, name, frozenset({"filter"}))
        if "filter" not in body:
            raise parsing_error("[constant_score] requires a 'filter' element")
        return self.parse(body["filter"])

    def _nested(self, body: Mapping[str, Any], name: str) -> Clause:
        self._check_keys(body, name, frozenset({"path", "query", "score_mode", "ignore_unmapped"}))
        path = body.get("path")
        if not isinstance(path, str) or not path:
            raise parsing_error("[nested] requires 'path' field")
        if "query" not in body:
            raise parsing_error("[nested] requires 'query' field")
        if body.get("score_mode", "avg") not in {"avg", "sum", "min", "max", "none"}:
            raise parsing_error(f"[nested] illegal score_mode [{body['score_mode']}]")
        return Nested(path, self.parse(body["query"]))
