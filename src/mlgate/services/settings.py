"""Cluster settings use cases: read, update, persist, and tell interested parts of a change."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.settings import ClusterSettings, dump_persistent, load_persistent, nest
from mlgate.storage.store import Store

_META_KEY = "cluster_settings.persistent"


class SettingsService:
    """Holds the current immutable settings snapshot; transient settings live in memory only."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.current = ClusterSettings(persistent={}, transient={})
        self._listeners: list[Callable[[ClusterSettings], None]] = []

    def on_change(self, listener: Callable[[ClusterSettings], None]) -> None:
        """Call ``listener`` with the new snapshot after every change."""
        self._listeners.append(listener)

    async def load(self) -> None:
        """Read the persisted settings at start-up."""
        raw = await self._store.load_meta(_META_KEY)
        stored = orjson.loads(raw) if raw else {}
        self._set(ClusterSettings(persistent=load_persistent(stored), transient={}))

    def _set(self, settings: ClusterSettings) -> None:
        self.current = settings
        for listener in self._listeners:
            listener(settings)

    async def update(self, body: Mapping[str, Any] | None) -> dict[str, Any]:
        """``PUT /_cluster/settings``: validate everything, persist, then publish."""
        if not body:
            raise InvalidRequestError(
                "Validation Failed: 1: no settings to update;",
                error_type="action_request_validation_exception",
            )
        unknown = [k for k in body if k not in ("persistent", "transient")]
        if unknown:
            raise InvalidRequestError(
                f"request [/_cluster/settings] contains unrecognized parameter: [{unknown[0]}]"
            )
        updated, persistent_echo, transient_echo = self.current.apply(
            body.get("persistent"), body.get("transient")
        )
        if updated.persistent != self.current.persistent:
            await self._store.save_meta(_META_KEY, orjson.dumps(dump_persistent(updated.persistent)).decode())
        self._set(updated)
        return {
            "acknowledged": True,
            "persistent": nest({k: v for k, v in persistent_echo.items() if v is not None}),
            "transient": nest({k: v for k, v in transient_echo.items() if v is not None}),
        }

    def render(self, *, flat: bool, include_defaults: bool) -> dict[str, Any]:
        """``GET /_cluster/settings``."""
        shape = (lambda d: d) if flat else nest
        out = {
            "persistent": shape(self.current.rendered("persistent")),
            "transient": shape(self.current.rendered("transient")),
        }
        if include_defaults:
            out["defaults"] = shape(ClusterSettings.rendered_defaults())
        return out
