"""Merging a mapping update into an index's mapping (``PUT /{index}/_mapping`` and dynamic updates).

OpenSearch (``MapperService.merge`` → ``FieldMapper.merge`` / ``ObjectMapper.merge``): new fields are
added; a field keeps its type (``mapper [x] cannot be changed from type [a] to [b]``); an object stays an
object; only updatable parameters may change; multi-fields and object properties merge recursively.
"""

from __future__ import annotations

from collections.abc import Mapping

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.indices.mapping import FieldMapping, Mappings

# ParametrizedFieldMapper parameters declared updateable by their mappers.
_UPDATABLE = frozenset(
    {
        "ignore_above",
        "meta",
        "search_analyzer",
        "search_quote_analyzer",
        "fielddata",
        "eager_global_ordinals",
        "ignore_malformed",
        "boost",
        "copy_to",
    }
)


def merge_mappings(current: Mappings, update: Mappings) -> Mappings:
    """``current`` with ``update`` merged in, or InvalidRequestError (``illegal_argument_exception``)."""
    properties = _merge_properties(current.properties, update.properties, "")
    dynamic = update.dynamic if update.dynamic != "true" or current.dynamic == "true" else current.dynamic
    meta = update.meta if update.meta is not None else current.meta
    return Mappings(properties=properties, dynamic=dynamic, meta=meta)


def _merge_properties(
    current: Mapping[str, FieldMapping], update: Mapping[str, FieldMapping], prefix: str
) -> dict[str, FieldMapping]:
    merged = dict(current)
    for name, added in update.items():
        existing = current.get(name)
        merged[name] = added if existing is None else _merge_field(existing, added, prefix + name)
    return merged


def _merge_field(existing: FieldMapping, added: FieldMapping, path: str) -> FieldMapping:
    if existing.is_object != added.is_object:
        if existing.is_object:
            raise InvalidRequestError(f"can't merge a non object mapping [{path}] with an object mapping")
        raise InvalidRequestError(
            f"mapper [{path}] cannot be changed from type [{existing.type}] to [{added.type}]"
        )
    if existing.is_object:
        if existing.type != added.type:
            raise InvalidRequestError(
                f"object mapping [{path}] can't be changed from {_nestedness(existing)} to {_nestedness(added)}"
            )
        params = {**existing.params, **added.params}
        properties = _merge_properties(existing.properties, added.properties, path + ".")
        return FieldMapping(existing.type, params, properties=properties)
    if existing.type != added.type:
        raise InvalidRequestError(
            f"mapper [{path}] cannot be changed from type [{existing.type}] to [{added.type}]"
        )
    conflicts = [
        f"Cannot update parameter [{key}] from [{_show(existing.params.get(key))}] to [{_show(added.params.get(key))}]"
        for key in sorted(set(existing.params) | set(added.params))
        if key not in _UPDATABLE and existing.params.get(key) != added.params.get(key)
    ]
    if conflicts:
        raise InvalidRequestError(
            f"Mapper for [{path}] conflicts with existing mapper:\n\t" + "\n\t".join(conflicts)
        )
    fields = dict(existing.fields)
    for sub_name, sub in added.fields.items():
        known = existing.fields.get(sub_name)
        fields[sub_name] = sub if known is None else _merge_field(known, sub, f"{path}.{sub_name}")
    return FieldMapping(existing.type, {**existing.params, **added.params}, fields=fields, knn=existing.knn)


def _nestedness(mapping: FieldMapping) -> str:
    return "nested" if mapping.type == "nested" else "non-nested"


def _show(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}={_show(inner)}" for key, inner in value.items()) + "}"
    return str(value)
