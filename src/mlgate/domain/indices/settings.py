"""Index settings as OpenSearch normalises them.

A create body's ``settings`` may be flat (``"index.knn": true``), nested (``"index": {"knn": "true"}``)
or mixed, with or without the ``index.`` prefix; values may be strings or JSON scalars. OpenSearch
flattens the object into dotted keys, turns every value into a string and prefixes ``index.``
(``Settings.Builder.loadFromMap`` + ``normalizePrefix``); then each key must be a known index setting
(``IndexScopedSettings.validate``) whose value parses. ``GET /{index}/_settings`` shows them nested by
dot segment, every value a string.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlgate.domain.errors import InvalidRequestError

PREFIX = "index."
# The settings mlgate knows: the k-NN and pipeline ones the tutorials use, the shard counts (accepted
# and reported; every index behaves as one shard) and a few that common scripts send.
_BOOLEAN = frozenset({"index.knn"})
_INTEGER_MIN = {
    "index.number_of_shards": 1,
    "index.number_of_replicas": 0,
    "index.knn.algo_param.ef_search": 2,
    "index.max_result_window": 1,
    "index.mapping.total_fields.limit": 0,
    "index.mapping.depth.limit": 1,
    "index.mapping.nested_fields.limit": 0,
}
_STRING = frozenset(
    {
        "index.default_pipeline",
        "index.final_pipeline",
        "index.search.default_pipeline",
        "index.knn.space_type",
        "index.refresh_interval",
        "index.codec",
        "index.auto_expand_replicas",
    }
)
KNOWN = _BOOLEAN | _STRING | frozenset(_INTEGER_MIN)
# Settings fixed when the index is created (IndexMetadata: final or not Property.Dynamic).
STATIC = frozenset({"index.knn", "index.knn.space_type", "index.number_of_shards", "index.codec"})
# Set by the node when the index is created, never by a request.
_PRIVATE = frozenset({"index.uuid", "index.creation_date", "index.provided_name", "index.version.created"})
DEFAULTS = {"index.number_of_shards": "1", "index.number_of_replicas": "1"}


@dataclass(frozen=True)
class IndexSettings:
    """An index's settings: flat ``index.*`` keys, every value a string (as OpenSearch stores them)."""

    values: Mapping[str, str]

    @property
    def knn(self) -> bool:
        return self.values.get("index.knn") == "true"

    @property
    def default_pipeline(self) -> str | None:
        return self._pipeline("index.default_pipeline")

    @property
    def final_pipeline(self) -> str | None:
        return self._pipeline("index.final_pipeline")

    @property
    def search_default_pipeline(self) -> str | None:
        return self._pipeline("index.search.default_pipeline")

    @property
    def knn_space_type(self) -> str | None:
        """The 2.x index-level space of ``knn_vector`` fields that name none."""
        return self.values.get("index.knn.space_type")

    def _pipeline(self, key: str) -> str | None:
        value = self.values.get(key)
        return None if value in (None, "", "_none") else value

    def to_json(
        self, *, uuid: str, creation_date_ms: int, provided_name: str, version_created: str
    ) -> dict[str, Any]:
        """The ``settings`` object of ``GET /{index}/_settings``: nested by dot segment, strings only."""
        flat = dict(self.values)
        flat.update(
            {
                "index.uuid": uuid,
                "index.creation_date": str(creation_date_ms),
                "index.provided_name": provided_name,
                "index.version.created": version_created,
            }
        )
        return nest(flat)


def flatten(settings: Mapping[str, Any]) -> dict[str, str]:
    """Dotted keys with string values, ``index.`` prefixed, as OpenSearch's settings builder makes them."""
    flat: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(f"{prefix}{key}.", inner)
            return
        key = prefix[:-1]
        if value is None:
            flat.pop(key, None)
        elif isinstance(value, list):
            raise InvalidRequestError(f"Failed to load settings: setting [{key}] is not a single value")
        else:
            flat[key] = _as_string(value)

    walk("", settings)
    return {(key if key.startswith(PREFIX) else PREFIX + key): value for key, value in flat.items()}


def parse_settings(settings: Mapping[str, Any] | None) -> IndexSettings:
    """The settings of a new index from a create body's ``settings`` (defaults filled in)."""
    if settings is not None and not isinstance(settings, Mapping):
        raise InvalidRequestError("Failed to load settings: settings must be an object")
    flat = flatten(settings or {})
    _validate(flat)
    values = dict(DEFAULTS)
    values.update(flat)
    return IndexSettings(values)


def update_settings(
    current: IndexSettings, changes: Mapping[str, Any], *, index: str, uuid: str
) -> IndexSettings:
    """``PUT /{index}/_settings``: dynamic settings change, static ones are refused; ``null`` resets."""
    body = changes.get("settings", changes) if isinstance(changes, Mapping) else changes
    if not isinstance(body, Mapping):
        raise InvalidRequestError("Failed to load settings: settings must be an object")
    flat = _flatten_keeping_nulls(body)
    _validate({key: value for key, value in flat.items() if value is not None})
    static = sorted(key for key in flat if key in STATIC)
    if static:
        raise InvalidRequestError(
            f"Can't update non dynamic settings [[{', '.join(static)}]] for open indices [[{index}/{uuid}]]"
        )
    values = dict(current.values)
    for key, value in flat.items():
        if value is None:
            values.pop(key, None)
            if key in DEFAULTS:
                values[key] = DEFAULTS[key]
        else:
            values[key] = value
    return IndexSettings(values)


def _flatten_keeping_nulls(settings: Mapping[str, Any]) -> dict[str, str | None]:
    flat: dict[str, str | None] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(f"{prefix}{key}.", inner)
        elif isinstance(value, list):
            raise InvalidRequestError(
                f"Failed to load settings: setting [{prefix[:-1]}] is not a single value"
            )
        else:
            flat[prefix[:-1]] = None if value is None else _as_string(value)

    walk("", settings)
    return {(key if key.startswith(PREFIX) else PREFIX + key): value for key, value in flat.items()}


def _validate(flat: Mapping[str, str]) -> None:
    for key, value in flat.items():
        if key in _PRIVATE:
            raise InvalidRequestError(f"private index setting [{key}] can not be set explicitly")
        if key not in KNOWN:
            raise InvalidRequestError(
                f"unknown setting [{key}] please check that any required plugins are installed, or check the "
                "breaking changes documentation for removed settings"
            )
        if key in _BOOLEAN and value not in ("true", "false"):
            raise InvalidRequestError(
                f"Failed to parse value [{value}] as only [true] or [false] are allowed."
            )
        if key in _INTEGER_MIN:
            _check_integer(key, value, _INTEGER_MIN[key])


def _check_integer(key: str, value: str, minimum: int) -> None:
    try:
        number = int(value)
    except ValueError:
        raise InvalidRequestError(f"Failed to parse value [{value}] for setting [{key}]") from None
    if number < minimum:
        raise InvalidRequestError(f"Failed to parse value [{value}] for setting [{key}] must be >= {minimum}")


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        # Jackson reads 1.0 as a double and Settings keeps Double.toString: "1.0".
        return repr(value)
    return str(value)


def nest(flat: Mapping[str, str]) -> dict[str, Any]:
    """``{"index.knn": "true"}`` → ``{"index": {"knn": "true"}}``; a key that is both a value and a
    prefix (``index.knn`` and ``index.knn.space_type``) keeps the value under its last segment's
    dotted form, as OpenSearch's XContent rendering does."""
    nested: dict[str, Any] = {}
    for key in sorted(flat):
        node = nested
        parts = key.split(".")
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            if isinstance(child, str):
                # ``part`` already holds a value: keep the rest of the key flat under it.
                node[".".join(parts[depth:])] = flat[key]
                break
            node = node.setdefault(part, {})
        else:
            node[parts[-1]] = flat[key]
    return nested
