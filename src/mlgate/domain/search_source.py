"""``_source`` filtering of search hits: includes and excludes with ``*`` wildcards.

Follows OpenSearch's rules: a pattern names a dotted path; including a path includes everything below
it; ``*`` matches any run of characters, dots too; excludes win over includes; arrays do not add a path
segment, so ``{"includes": ["a.b"]}`` keeps ``b`` in every object of an array ``a``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlgate.domain.search_pattern import simple_match


@dataclass(frozen=True)
class SourceFilter:
    """Which parts of ``_source`` a hit carries; ``fetch=False`` drops ``_source`` altogether."""

    fetch: bool = True
    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()

    def apply(self, source: Mapping[str, Any]) -> dict[str, Any]:
        """Return the filtered copy of ``source``."""
        if not self.includes and not self.excludes:
            return dict(source)
        return _Filter(self.includes, self.excludes).object(source, "", included=not self.includes)


def _may_hold(pattern: str, path: str) -> bool:
    """Whether ``pattern`` could match some path strictly below ``path``."""
    below = path + "."
    literal, star, _ = pattern.partition("*")
    if not star:
        return literal.startswith(below)
    return literal.startswith(below) or below.startswith(literal)


class _Filter:
    _DROP = object()

    def __init__(self, includes: Sequence[str], excludes: Sequence[str]) -> None:
        self.includes = tuple(includes)
        self.excludes = tuple(excludes)

    def object(self, obj: Mapping[str, Any], prefix: str, *, included: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in obj.items():
            path = f"{prefix}{key}"
            if any(simple_match(p, path) for p in self.excludes):
                continue
            now_included = included or any(simple_match(p, path) for p in self.includes)
            if not now_included and not any(_may_hold(p, path) for p in self.includes):
                continue
            kept = self.value(value, path, included=now_included)
            if kept is not self._DROP:
                out[key] = kept
        return out

    def value(self, value: Any, path: str, *, included: bool) -> Any:
        if isinstance(value, Mapping):
            kept = self.object(value, path + ".", included=included)
            return kept if kept or included else self._DROP
        if isinstance(value, list):
            items = [self.value(item, path, included=included) for item in value]
            kept_items = [item for item in items if item is not self._DROP]
            return kept_items if kept_items or included else self._DROP
        return value if included else self._DROP
