"""Run an OpenSearch search request over stored documents and build the OpenSearch search response.

ML Commons' ``_search`` endpoints pass the request body (a search source: ``query``, ``size``,
``from``, ``sort``, ``_source``, ...) to OpenSearch and return its ``SearchResponse`` verbatim; here the
same body is evaluated in Python. Scores are constant (1.0 for every hit) and hits keep input order
unless a sort is given. Unsupported keys are refused, never ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlgate.domain.aggregations import AggContext, Budget, aggregate, parse_aggregations
from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.fields import token_name
from mlgate.domain.search_budget import SearchBudget
from mlgate.domain.search_clause import Clause
from mlgate.domain.search_field import IndexedDoc, index_document
from mlgate.domain.search_query import Query, compile_query
from mlgate.domain.search_sort import SortKey, parse_sort, parse_sort_param, sort_hits, sort_values
from mlgate.domain.search_source import SourceFilter
from mlgate.domain.search_value import PARSING

__all__ = ["Query", "StoredDoc", "compile_query", "search"]

DEFAULT_SIZE = 10
MAX_RESULT_WINDOW = 10_000
# Without ``track_total_hits`` OpenSearch counts exactly up to this many hits, then says "gte".
DEFAULT_TRACK_TOTAL_HITS = 10_000
_CONSTANT_SCORE = 1.0
_SHARDS = {"total": 1, "successful": 1, "skipped": 0, "failed": 0}
# Generic REST parameters the HTTP edge handles itself; they are not search options.
_REST_PARAMS = frozenset({"pretty", "human", "error_trace", "filter_path", "source", "source_content_type"})


@dataclass(frozen=True)
class StoredDoc:
    """One stored document as a search sees it."""

    id: str
    source: Mapping[str, Any]
    version: int = 1
    seq_no: int = 0
    primary_term: int = 1


@dataclass(frozen=True)
class _Request:
    query: Mapping[str, Any] | None
    post_filter: Mapping[str, Any] | None
    start: int
    size: int
    sort: tuple[SortKey, ...] | None
    source: SourceFilter
    track_total_hits: bool | int
    track_scores: bool
    total_as_int: bool
    typed_keys: bool = False
    aggs: Mapping[str, Any] | None = None


def search(
    docs: Iterable[StoredDoc],
    body: Mapping[str, Any] | None,
    *,
    index: str,
    extra_filter: Mapping[str, Any] | None = None,
    source_excludes: Sequence[str] = (),
    keyword_fields: frozenset[str] = frozenset(),
    date_fields: frozenset[str] = frozenset(),
    url_params: Mapping[str, str] | None = None,
    took_ms: int = 0,
    budget: SearchBudget | None = None,
) -> dict[str, Any]:
    """Search ``docs`` with the search source ``body`` and return OpenSearch's search response.

    ``extra_filter`` is AND-ed with the caller's query (access control). Paths in ``source_excludes``
    are removed from every ``_source`` and can never be matched by a query. ``url_params`` are the
    query-string options (``size``, ``from``, ``sort``, ``_source``...) and override the body.
    ``_version``, ``_seq_no`` and ``_primary_term`` are always returned, as ML Commons forces them on.
    ``aggs`` run over the documents the query matched (before ``post_filter``, as in OpenSearch);
    ``date_fields`` are the fields mapped as ``date``. The work (aggregations included) is bounded by
    ``budget`` (a fresh ``SearchBudget`` when None): past it the search is refused with
    ``SearchBudgetExceededError``. Raises ``InvalidRequestError`` for anything malformed or
    unsupported, ``LimitExceededError`` past ``search.max_buckets``.
    """
    budget = budget or SearchBudget()
    request = _parse_request(body or {}, url_params or {}, source_excludes)

    def compile_clause(query: Mapping[str, Any] | None) -> Clause:
        # Each query is compiled on its own, so the access filter never counts towards the caller's depth.
        return compile_query(
            query, keyword_fields=keyword_fields, unsearchable_prefixes=source_excludes, budget=budget
        ).root

    query = compile_clause(request.query)
    post_filter = compile_clause(request.post_filter) if request.post_filter is not None else None
    visible = compile_clause(extra_filter)
    aggs = parse_aggregations(request.aggs, compile_clause) if request.aggs is not None else None
    # Each hit remembers its input position: the ``_doc`` sort value.
    universe: list[tuple[tuple[int, StoredDoc], IndexedDoc]] = []
    matched: list[tuple[tuple[int, StoredDoc], IndexedDoc]] = []
    for position, doc in enumerate(docs):
        indexed = index_document(doc.source, doc.id, source_excludes, budget)
        if visible.test(indexed):
            universe.append(((position, doc), indexed))
            if query.test(indexed):
                matched.append(((position, doc), indexed))
    aggregations = None
    if aggs is not None:
        context = AggContext(
            index=index,
            universe=universe,
            budget=Budget(budget),
            keyword_fields=keyword_fields,
            date_fields=date_fields,
            source_excludes=tuple(source_excludes),
            total_as_int=request.total_as_int,
            typed_keys=request.typed_keys,
        )
        aggregations = aggregate(aggs, matched, context)
    if post_filter is not None:
        matched = [hit for hit in matched if post_filter.test(hit[1])]
    if request.sort is not None:
        matched = sort_hits(matched, request.sort, keyword_fields)
    page = matched[request.start : request.start + request.size]

    scored = request.sort is None or request.track_scores or all(k.field == "_score" for k in request.sort)
    score = _CONSTANT_SCORE if scored else None
    hits = []
    for (position, doc), indexed in page:
        hit: dict[str, Any] = {
            "_index": index,
            "_id": doc.id,
            "_version": doc.version,
            "_seq_no": doc.seq_no,
            "_primary_term": doc.primary_term,
            "_score": score,
        }
        if request.source.fetch:
            hit["_source"] = request.source.apply(doc.source)
        if request.sort is not None:
            hit["sort"] = sort_values(indexed, position, request.sort, keyword_fields)
        hits.append(hit)

    envelope: dict[str, Any] = {}
    total = _total_hits(len(matched), request)
    if total is not None:
        envelope["total"] = total
    # OpenSearch reports no max_score when it collected no hits (none matched, or size 0).
    envelope["max_score"] = score if matched and request.size > 0 else None
    envelope["hits"] = hits
    response = {"took": took_ms, "timed_out": False, "_shards": dict(_SHARDS), "hits": envelope}
    if aggregations is not None:
        response["aggregations"] = aggregations
    return response


def _total_hits(count: int, request: _Request) -> dict[str, Any] | int | None:
    track = request.track_total_hits
    if track is False:
        return None
    if request.total_as_int:
        return count
    if track is True or count <= track:
        return {"value": count, "relation": "eq"}
    return {"value": track, "relation": "gte"}


# --- request parsing -----------------------------------------------------------------------------

_BODY_KEYS = frozenset(
    {
        "query",
        "post_filter",
        "from",
        "size",
        "sort",
        "_source",
        "track_total_hits",
        "track_scores",
        "seq_no_primary_term",
        "version",
        "timeout",
        "aggs",
        "aggregations",
    }
)
_VALUE_KEYS = frozenset(
    {"from", "size", "track_total_hits", "track_scores", "seq_no_primary_term", "version", "timeout"}
)
_URL_KEYS = frozenset(
    {
        "size",
        "from",
        "sort",
        "_source",
        "_source_includes",
        "_source_excludes",
        "track_total_hits",
        "track_scores",
        "seq_no_primary_term",
        "version",
        "timeout",
        "rest_total_hits_as_int",
        "typed_keys",
    }
)


def _parse_request(body: Mapping[str, Any], params: Mapping[str, str], excludes: Sequence[str]) -> _Request:
    if not isinstance(body, Mapping):
        raise InvalidRequestError("request body must be a JSON object", error_type=PARSING)
    for key, value in body.items():
        # Keys that take a single value do not take an object or an array, as for unknown keys.
        if key not in _BODY_KEYS or (key in _VALUE_KEYS and isinstance(value, Mapping | list)):
            raise InvalidRequestError(
                f"Unknown key for a {token_name(value)} in [{key}].", error_type=PARSING
            )
    for key in params:
        if key == "q":
            raise InvalidRequestError("query string parameter [q] is not supported")
        if key not in _URL_KEYS and key not in _REST_PARAMS:
            raise InvalidRequestError(f"request contains unrecognized parameter: [{key}]")

    query = body.get("query")
    post_filter = body.get("post_filter")
    for name, clause in (("query", query), ("post_filter", post_filter)):
        if clause is not None and not isinstance(clause, Mapping):
            raise InvalidRequestError(
                f"[{name}] query malformed, must start with start_object", error_type=PARSING
            )
    # Both spellings are accepted; the last one given wins, as in OpenSearch's SearchSourceBuilder.
    aggs = None
    for key, value in body.items():
        if key in ("aggs", "aggregations"):
            if not isinstance(value, Mapping):
                raise InvalidRequestError(
                    f"Unknown key for a {token_name(value)} in [{key}].", error_type=PARSING
                )
            # An empty object asks for no aggregation: OpenSearch then answers without the key.
            aggs = value or None

    for flag in ("seq_no_primary_term", "version"):
        # ML Commons turns both on whatever the caller says; the value must still be a boolean.
        _boolean(params.get(flag, body.get(flag, True)), flag)

    start = (
        _integer(params["from"], "from", url=True)
        if "from" in params
        else _integer(body.get("from", 0), "from")
    )
    size = (
        _integer(params["size"], "size", url=True)
        if "size" in params
        else _integer(body.get("size", DEFAULT_SIZE), "size")
    )
    if start < 0:
        raise InvalidRequestError(f"[from] parameter cannot be negative but was [{start}]")
    if size < 0:
        raise InvalidRequestError(f"[size] parameter cannot be negative, found [{size}]")
    if start + size > MAX_RESULT_WINDOW:
        raise InvalidRequestError(
            f"Result window is too large, from + size must be less than or equal to: [{MAX_RESULT_WINDOW}] "
            f"but was [{start + size}]. See the scroll api for a more efficient way to request large data "
            "sets. This limit can be set by changing the [index.max_result_window] index level setting."
        )

    sort = parse_sort_param(params["sort"]) if "sort" in params else parse_sort(body.get("sort"))
    return _Request(
        query=query,
        post_filter=post_filter,
        start=start,
        size=size,
        sort=sort,
        source=_parse_source(body.get("_source"), params, excludes),
        track_total_hits=_parse_track_total_hits(
            params.get("track_total_hits", body.get("track_total_hits"))
        ),
        track_scores=_boolean(params.get("track_scores", body.get("track_scores", False)), "track_scores"),
        total_as_int=_boolean(params.get("rest_total_hits_as_int", False), "rest_total_hits_as_int"),
        typed_keys=_boolean(params.get("typed_keys", False), "typed_keys"),
        aggs=aggs,
    )


def _integer(value: Any, name: str, *, url: bool = False) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    if url:
        raise InvalidRequestError(f"Failed to parse int parameter [{name}] with value [{value}]")
    raise InvalidRequestError(f"[{name}] failed to parse field [{name}]", error_type=PARSING)


def _boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", ""):
        return True
    if value == "false":
        return False
    raise InvalidRequestError(
        f"Failed to parse value [{value}] as only [true] or [false] are allowed.", error_type=PARSING
    )


def _parse_track_total_hits(value: Any) -> bool | int:
    if value is None:
        return DEFAULT_TRACK_TOTAL_HITS
    if isinstance(value, bool) or value in ("true", "false"):
        return _boolean(value, "track_total_hits")
    count = _integer(value, "track_total_hits")
    if count < -1:
        raise InvalidRequestError(
            f"[track_total_hits] parameter must be positive or equals to -1, got {count}"
        )
    return True if count == -1 else count


def _patterns(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise InvalidRequestError(f"[{name}] must be a string or an array of strings", error_type=PARSING)


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _parse_source(spec: Any, params: Mapping[str, str], always_excluded: Sequence[str]) -> SourceFilter:
    fetch = True
    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    if isinstance(spec, bool):
        fetch = spec
    elif isinstance(spec, str | list):
        includes = _patterns(spec, "_source")
    elif isinstance(spec, Mapping):
        for key in spec:
            if key not in {"includes", "include", "excludes", "exclude"}:
                raise InvalidRequestError(
                    f"Unknown key for a {token_name(spec[key])} in [{key}].", error_type=PARSING
                )
        includes = _patterns(spec.get("includes", spec.get("include")), "includes")
        excludes = _patterns(spec.get("excludes", spec.get("exclude")), "excludes")
    elif spec is not None:
        raise InvalidRequestError(f"Unknown key for a {token_name(spec)} in [_source].", error_type=PARSING)

    if "_source" in params:
        value = params["_source"]
        if value in {"true", "false"}:
            fetch, includes = value == "true", ()
        else:
            fetch, includes = True, _split(value)
    if "_source_includes" in params:
        fetch, includes = True, _split(params["_source_includes"])
    if "_source_excludes" in params:
        fetch, excludes = True, _split(params["_source_excludes"])
    return SourceFilter(fetch=fetch, includes=includes, excludes=excludes + tuple(always_excluded))
