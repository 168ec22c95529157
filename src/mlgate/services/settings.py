"""Cluster settings use cases: read, update, persist, and tell interested parts of a change."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.settings import ClusterSettings, dump_persistent, load_persistent, nest
from mlgate.services.changes import ChangeHub
from mlgate.services.events import SettingsChanged
from mlgate.storage.store import Store

_META_KEY = "cluster_settings.persistent"
_TRANSIENT_KEY = "cluster_settings.transient"


class SettingsService:
    """Holds the current immutable settings snapshot; transient settings live in memory only."""

    def __init__(self, store: Store, hub: ChangeHub) -> None:
        self._store = store
        self._hub = hub
        self.current = ClusterSettings(persistent={}, transient={})
        self._listeners: list[Callable[[ClusterSettings], None]] = []

    def on_change(self, listener: Callable[[ClusterSettings], None]) -> None:
        """Call ``listener`` with the new snapshot after every change."""
        self._listeners.append(listener)

    async def load(self, *, reset_transient: bool = False) -> None:
        """Read the settings from the store (at start-up, and when another process changed them).

        Transient settings are shared by every node through the store but, as in OpenSearch, do not
        survive a full cluster restart: the first node to start clears them (``reset_transient``).
        """
        if reset_transient:
            await self._store.save_meta(_TRANSIENT_KEY, "{}")
        persistent = await self._store.load_meta(_META_KEY)
        transient = await self._store.load_meta(_TRANSIENT_KEY)
        self._set(
            ClusterSettings(
                persistent=load_persistent(orjson.loads(persistent) if persistent else {}),
                transient=load_persistent(orjson.loads(transient) if transient else {}),
            )
        )

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
        if updated.transient != self.current.transient:
            await self._store.save_meta(
                _TRANSIENT_KEY, orjson.dumps(dump_persistent(updated.transient)).decode()
            )
        self._set(updated)
        await self._hub.publish(SettingsChanged(), local=False)
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
