"""Cluster settings use cases: read, update, persist, and tell interested parts of a change."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.settings import ClusterSettings, dump_persistent, load_persistent, nest
from mlgate.services.changes import ChangeHub
from mlgate.services.events import SettingsChanged
from mlgate.storage.store import Store, VersionConflict

_META_KEY = "cluster_settings.persistent"
_TRANSIENT_KEY = "cluster_settings.transient"
_KEYS = (_META_KEY, _TRANSIENT_KEY)
# The store's versions of the persistent and transient values a snapshot was read at.
Versions = tuple[int, int]


class SettingsService:
    """Holds the current immutable settings snapshot; transient settings live in memory only."""

    def __init__(self, store: Store, hub: ChangeHub) -> None:
        self._store = store
        self._hub = hub
        self.current = ClusterSettings(persistent={}, transient={})
        self._versions: Versions = (0, 0)
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
        self._install(*await self._read())

    async def _read(self) -> tuple[ClusterSettings, Versions]:
        """Both scopes as stored, read at one instant, with their versions."""
        entries = await self._store.load_meta_entries(_KEYS)
        persistent, persistent_version = entries.get(_META_KEY, ("{}", 0))
        transient, transient_version = entries.get(_TRANSIENT_KEY, ("{}", 0))
        settings = ClusterSettings(
            persistent=load_persistent(orjson.loads(persistent)),
            transient=load_persistent(orjson.loads(transient)),
        )
        return settings, (persistent_version, transient_version)

    def _install(self, settings: ClusterSettings, versions: Versions) -> None:
        # Reads and writes of several requests finish in any order: never go back to an older snapshot.
        if versions[0] < self._versions[0] or versions[1] < self._versions[1]:
            return
        self._versions = versions
        self.current = settings
        for listener in self._listeners:
            listener(settings)

    async def update(self, body: Mapping[str, Any] | None) -> dict[str, Any]:
        """``PUT /_cluster/settings``: validate everything, persist, then publish.

        The body is applied to the settings as stored and written back only if nobody wrote them
        meanwhile (compare-and-set on their versions), else again: concurrent updates of different keys
        by several admins, processes or nodes all take effect.
        """
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
        while True:
            stored, versions = await self._read()
            updated, persistent_echo, transient_echo = stored.apply(
                body.get("persistent"), body.get("transient")
            )
            writes = {
                key: (orjson.dumps(dump_persistent(new)).decode(), version)
                for key, old, new, version in (
                    (_META_KEY, stored.persistent, updated.persistent, versions[0]),
                    (_TRANSIENT_KEY, stored.transient, updated.transient, versions[1]),
                )
                if new != old
            }
            try:
                if writes:
                    await self._store.save_meta_if(writes)
            except VersionConflict:
                continue
            break
        # Read back rather than install ``updated``: the scope this update did not write may have
        # changed meanwhile, and only a snapshot read at one instant can be ordered against others.
        self._install(*await self._read())
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
