"""Publishing changes: apply them in this process at once, then tell every other process and node.

Local appliers run immediately so a caller reads its own writes; the same change comes back through
the feed later and is applied again, which every applier tolerates (they reload from the store).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable

from mlgate.storage.store import Store

log = logging.getLogger("mlgate.changes")

Applier = Callable[[str, str], Awaitable[None]]

SETTINGS = "settings"
CONNECTOR = "connector"
MODEL = "model"
MODEL_GROUP = "model_group"
DEPLOY = "deploy"
DEPLOY_REPORT = "deploy_report"
UNDEPLOY = "undeploy"
SECURITY = "security"


class ChangeHub:
    """The appliers of this process, and the way to announce a change to everybody."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._appliers: list[Applier] = []
        # Changes this process already applied when it published them: their echo from the feed is skipped.
        self._echoes: Counter[tuple[str, str]] = Counter()

    def on_change(self, applier: Applier) -> None:
        """Register ``applier(kind, key)``; it sees local and remote changes alike."""
        self._appliers.append(applier)

    async def apply(self, kind: str, key: str) -> None:
        """Run every applier; one failing applier does not keep the others from running."""
        for applier in self._appliers:
            try:
                await applier(kind, key)
            except Exception:
                log.exception("applying change %s %s failed", kind, key)

    async def publish(self, kind: str, key: str, *, local: bool = True) -> None:
        """Record the change in the feed, then (unless ``local`` is False) apply it here at once."""
        await self._store.publish(kind, key)
        self._echoes[(kind, key)] += 1
        if local:
            await self.apply(kind, key)

    async def receive(self, kind: str, key: str) -> None:
        """A change from the feed: apply it unless it is the echo of one this process published."""
        if self._echoes[(kind, key)] > 0:
            self._echoes[(kind, key)] -= 1
            if not self._echoes[(kind, key)]:
                del self._echoes[(kind, key)]
            return
        await self.apply(kind, key)
