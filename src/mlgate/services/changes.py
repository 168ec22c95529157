"""Publishing changes: apply them in this process at once, then tell every other process and node.

Local appliers run immediately so a caller reads its own writes; the same change comes back through
the feed later and is applied again, which every applier tolerates (they reload from the store).
"""

from __future__ import annotations

import logging
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
    """The appliers of this process, and the way to announce a change to everybody.

    The echo of a change this process published is recognised by its id in the feed, never by its
    kind and key: another node's later change to the same object must still be applied here.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._appliers: list[Applier] = []
        # Ids of changes this process published whose echo from the feed is still to come (and skipped).
        self._echoes: set[int] = set()
        # The newest change id the follower handed over: the feed delivers every later one in order.
        self._received = 0

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
        change_id = await self._store.publish(kind, key)
        # The follower may have read the change before the store answered; it then applied it as a
        # remote change and there is no echo left to skip.
        if change_id > self._received:
            self._echoes.add(change_id)
        if local:
            await self.apply(kind, key)

    def start_after(self, change_id: int) -> None:
        """The follower starts after ``change_id``: changes up to it will not come back."""
        self._received = max(self._received, change_id)
        self._echoes = {echo for echo in self._echoes if echo > change_id}

    async def receive(self, change_id: int, kind: str, key: str) -> None:
        """A change from the feed (in id order): apply it unless this process published it."""
        self._received = change_id
        if change_id in self._echoes:
            self._echoes.discard(change_id)
            return
        if self._echoes and min(self._echoes) < change_id:
            # Older echoes were pruned from the feed before the follower reached them.
            self._echoes = {echo for echo in self._echoes if echo > change_id}
        await self.apply(kind, key)
