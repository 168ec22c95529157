"""Index mappings as typed records: parsing a ``mappings`` body, rendering it back.

Field types: ``text`` (standard analyzer), ``keyword``, the numeric types, ``boolean``, ``date``,
``object``, ``nested`` and ``knn_vector`` (k-NN: ``src/main/java/org/opensearch/knn/index/mapper/
KNNVectorFieldMapper.java``, ``.../index/engine/KNNMethodContext.java``). Each record keeps the
parameters as given, so ``GET /{index}/_mapping`` shows the mapping as sent (dotted field names
expanded into objects, as OpenSearch does). Errors are ``mapper_parsing_exception`` wrapped the way
index creation wraps them: ``Failed to parse mapping [_doc]: <reason>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlgate.domain.indices.errors import MapperParsingError
from mlgate.domain.indices.knn import DEFAULT_SPACE, SPACE_TYPES, KnnMethod, parse_knn_field

NUMERIC_TYPES = frozenset(
    {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long"}
)
INTEGER_TYPES = frozenset({"long", "integer", "short", "byte", "unsigned_long"})
_COMMON = frozenset({"index", "store", "doc_values", "boost", "copy_to", "meta", "null_value"})
PARAMETERS: Mapping[str, frozenset[str]] = {
    "text": frozenset(
        {
            "analyzer",
            "search_analyzer",
            "search_quote_analyzer",
            "index",
            "store",
            "fields",
            "boost",
            "norms",
            "similarity",
            "index_options",
            "index_prefixes",
            "index_phrases",
            "fielddata",
            "fielddata_frequency_filter",
            "eager_global_ordinals",
            "position_increment_gap",
            "term_vector",
            "copy_to",
            "meta",
        }
    ),
    "keyword": _COMMON
    | {
        "ignore_above",
        "fields",
        "normalizer",
        "norms",
        "similarity",
        "index_options",
        "eager_global_ordinals",
        "split_queries_on_whitespace",
    },
    "boolean": _COMMON,
    "date": _COMMON | {"format", "locale", "ignore_malformed", "print_format"},
    **{name: _COMMON | {"coerce", "ignore_malformed", "scaling_factor"} for name in NUMERIC_TYPES},
}
_ANALYZERS = frozenset({"standard", "default"})
# Analyzers OpenSearch has built in but mlgate does not implement (only the standard analyzer is).
_UNSUPPORTED_ANALYZERS = frozenset(
    {"simple", "whitespace", "stop", "keyword", "pattern", "fingerprint", "english", "french", "german"}
)


@dataclass(frozen=True)
class FieldMapping:
    """One mapped field: its ``type``, the parameters as given, and its sub-fields (multi-fields for
    ``text``/``keyword``, properties for ``object``/``nested``)."""

    type: str
    params: Mapping[str, Any] = field(default_factory=dict)
    fields: Mapping[str, FieldMapping] = field(default_factory=dict)
    properties: Mapping[str, FieldMapping] = field(default_factory=dict)
    knn: KnnMethod | None = None

    @property
    def is_object(self) -> bool:
        return self.type in ("object", "nested")

    @property
    def ignore_above(self) -> int | None:
        value = self.params.get("ignore_above")
        return int(value) if value is not None else None

    @property
    def is_indexed(self) -> bool:
        return self.params.get("index", True) not in (False, "false")

    @property
    def dynamic(self) -> str | None:
        """``dynamic`` of an object: ``true``/``false``/``strict`` as a string, or None (inherit)."""
        value = self.params.get("dynamic")
        return None if value is None else str(value).lower()

    def to_json(self) -> dict[str, Any]:
        rendered: dict[str, Any] = {}
        if self.type != "object" or not self.properties:
            rendered["type"] = self.type
        rendered.update(self.params)
        if self.fields:
            rendered["fields"] = {name: sub.to_json() for name, sub in self.fields.items()}
        if self.properties:
            rendered["properties"] = {name: sub.to_json() for name, sub in self.properties.items()}
        return rendered


@dataclass(frozen=True)
class Mappings:
    """The root mapping: ``dynamic`` (``true`` default) and the top-level properties."""

    properties: Mapping[str, FieldMapping] = field(default_factory=dict)
    dynamic: str = "true"
    meta: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        rendered: dict[str, Any] = {}
        if self.dynamic != "true":
            rendered["dynamic"] = self.dynamic
        if self.meta is not None:
            rendered["_meta"] = dict(self.meta)
        if self.properties:
            rendered["properties"] = {name: sub.to_json() for name, sub in self.properties.items()}
        return rendered

    def lookup(self, path: str) -> FieldMapping | None:
        """The field at a dotted path (``user.name``, ``title.keyword``), or None."""
        return lookup(self.properties, path)

    def leaves(self) -> dict[str, FieldMapping]:
        """Every non-object field by its full dotted path, multi-fields included."""
        found: dict[str, FieldMapping] = {}

        def walk(prefix: str, properties: Mapping[str, FieldMapping]) -> None:
            for name, mapping in properties.items():
                path = prefix + name
                if mapping.is_object:
                    walk(path + ".", mapping.properties)
                    continue
                found[path] = mapping
                for sub_name, sub in mapping.fields.items():
                    found[f"{path}.{sub_name}"] = sub

        walk("", self.properties)
        return found


def lookup(properties: Mapping[str, FieldMapping], path: str) -> FieldMapping | None:
    head, _, rest = path.partition(".")
    mapping = properties.get(head)
    if mapping is None or not rest:
        return mapping
    if mapping.is_object:
        return lookup(mapping.properties, rest)
    return mapping.fields.get(rest)


def parse_mappings(body: Any, *, knn_enabled: bool = True, index_space_type: str | None = None) -> Mappings:
    """A ``mappings`` object (``{"properties": {...}}``, optionally under ``_doc``) as typed records.

    ``knn_enabled`` is the ``index.knn`` setting (``method`` needs it); ``index_space_type`` the 2.x
    ``index.knn.space_type`` for vector fields that name no space.
    """
    if body is None:
        return Mappings()
    if not isinstance(body, Mapping):
        raise _wrapped("mapper_parsing_exception", "Expected map for property [mappings] on field [_doc]")
    if set(body) == {"_doc"} and isinstance(body["_doc"], Mapping):
        body = body["_doc"]
    dynamic = "true"
    meta: Mapping[str, Any] | None = None
    properties: Mapping[str, FieldMapping] = {}
    context = _Context(knn_enabled, index_space_type)
    for key, value in body.items():
        if key == "properties":
            properties = context.properties(value, "")
        elif key == "dynamic":
            dynamic = _dynamic_value(value, "_doc")
        elif key == "_meta":
            if not isinstance(value, Mapping):
                raise _wrapped(
                    "mapper_parsing_exception", "[_meta] must be an object, got " + type(value).__name__
                )
            meta = dict(value)
        elif key in ("_source", "_routing", "date_detection", "numeric_detection", "dynamic_templates"):
            continue
        else:
            raise _wrapped(
                "mapper_parsing_exception",
                f"Root mapping definition has unsupported parameters:  [{key} : {value}]",
            )
    return Mappings(properties=properties, dynamic=dynamic, meta=meta)


@dataclass(frozen=True)
class _Context:
    knn_enabled: bool
    index_space_type: str | None

    def properties(self, value: Any, prefix: str) -> dict[str, FieldMapping]:
        if not isinstance(value, Mapping):
            raise _wrapped(
                "mapper_parsing_exception",
                f"Expected map for property [properties] on field [{prefix or '_doc'}]",
            )
        parsed: dict[str, FieldMapping] = {}
        for name, definition in value.items():
            if not isinstance(name, str) or not name.strip(". "):
                raise _wrapped("mapper_parsing_exception", "field name cannot be an empty string")
            head, dot, rest = name.partition(".")
            if dot:
                # OpenSearch expands ``"a.b": {...}`` into an object ``a`` holding ``b``.
                definition = {"properties": {rest: definition}}
                name = head
            mapping = self.field(name, definition, prefix)
            existing = parsed.get(name)
            parsed[name] = _merge_expanded(existing, mapping) if existing is not None else mapping
        return parsed

    def field(self, name: str, definition: Any, prefix: str) -> FieldMapping:
        path = prefix + name
        if not isinstance(definition, Mapping):
            raise _wrapped(
                "mapper_parsing_exception", f"Expected map for property [fields] on field [{path}]"
            )
        params = dict(definition)
        kind = params.pop("type", None)
        if kind is None:
            # ObjectMapper.TypeParser: no type is an object only with properties, or with just `enabled`.
            if "properties" not in params and set(params) != {"enabled"}:
                raise _wrapped("mapper_parsing_exception", f"No type specified for field [{name}]")
            kind = "object"
        if not isinstance(kind, str):
            raise _wrapped(
                "mapper_parsing_exception", f"No handler for type [{kind}] declared on field [{name}]"
            )
        if kind in ("object", "nested"):
            children = self.properties(params.pop("properties", {}), path + ".")
            if "dynamic" in params:
                params["dynamic"] = _dynamic_value(params["dynamic"], path)
            allowed = {"dynamic", "enabled"} | (
                {"include_in_parent", "include_in_root"} if kind == "nested" else set()
            )
            _refuse_unknown(params, allowed, name, kind)
            return FieldMapping(kind, params, properties=children)
        if kind == "knn_vector":
            knn = parse_knn_field(
                name, params, knn_enabled=self.knn_enabled, index_space_type=self.index_space_type
            )
            return FieldMapping(kind, params, knn=knn)
        if kind not in PARAMETERS:
            raise _wrapped(
                "mapper_parsing_exception", f"No handler for type [{kind}] declared on field [{name}]"
            )
        fields = params.pop("fields", None)
        _refuse_unknown(params, PARAMETERS[kind] - {"fields"}, name, kind)
        self._check_params(name, kind, params)
        subfields: dict[str, FieldMapping] = {}
        if fields is not None:
            if not isinstance(fields, Mapping):
                raise _wrapped(
                    "mapper_parsing_exception", f"Expected map for property [fields] on field [{name}]"
                )
            for sub_name, sub_definition in fields.items():
                sub = self.field(sub_name, sub_definition, path + ".")
                if sub.is_object:
                    raise _wrapped(
                        "mapper_parsing_exception", f"Type [{sub.type}] cannot be used in multi field"
                    )
                subfields[sub_name] = sub
        return FieldMapping(kind, params, fields=subfields)

    @staticmethod
    def _check_params(name: str, kind: str, params: Mapping[str, Any]) -> None:
        analyzer = params.get("analyzer")
        if analyzer is not None and analyzer not in _ANALYZERS:
            if analyzer in _UNSUPPORTED_ANALYZERS:
                raise _wrapped(
                    "illegal_argument_exception", f"analyzer [{analyzer}] is not supported by mlgate"
                )
            raise _wrapped(
                "mapper_parsing_exception", f"analyzer [{analyzer}] has not been configured in mappings"
            )
        if "ignore_above" in params:
            value = params["ignore_above"]
            if (
                isinstance(value, bool)
                or not isinstance(value, int | str)
                or not str(value).lstrip("-").isdigit()
            ):
                raise _wrapped(
                    "mapper_parsing_exception", f"Failed to parse mapping for [{name}]: ignore_above"
                )
            if int(value) < 0:
                raise _wrapped("mapper_parsing_exception", f"[ignore_above] must be positive, got [{value}]")
        if kind == "scaled_float" and "scaling_factor" not in params:
            raise _wrapped("illegal_argument_exception", "Field [scaling_factor] is required")


def _merge_expanded(existing: FieldMapping, added: FieldMapping) -> FieldMapping:
    """Two dotted names with one head (``a.b`` and ``a.c``) describe one object."""
    if not (existing.is_object and added.is_object):
        raise _wrapped(
            "illegal_argument_exception", "Can't merge a non object mapping with an object mapping"
        )
    return FieldMapping(
        existing.type, existing.params, properties={**existing.properties, **added.properties}
    )


def _dynamic_value(value: Any, path: str) -> str:
    text = str(value).lower() if isinstance(value, bool | str) else None
    if text not in ("true", "false", "strict", "strict_allow_templates"):
        raise _wrapped(
            "mapper_parsing_exception",
            f"Could not convert [{path}.dynamic] to boolean" if path else "dynamic",
        )
    return text


def _refuse_unknown(
    params: Mapping[str, Any], allowed: frozenset[str] | set[str], name: str, kind: str
) -> None:
    for key in params:
        if key not in allowed:
            raise _wrapped(
                "mapper_parsing_exception", f"unknown parameter [{key}] on mapper [{name}] of type [{kind}]"
            )


def _wrapped(inner_type: str, reason: str) -> MapperParsingError:
    return MapperParsingError(f"Failed to parse mapping [_doc]: {reason}", caused_by=(inner_type, reason))


__all__ = ["DEFAULT_SPACE", "SPACE_TYPES", "FieldMapping", "Mappings", "parse_mappings"]
