"""Publishing changes: apply them in this process at once, then tell every other process and node.

Local handlers run immediately so a caller reads its own writes; the same change comes back through
the feed later and is applied again, which every handler tolerates (they reload from the store).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from mlgate.services.events import Event, decode, encode
from mlgate.storage.store import Store

log = logging.getLogger("mlgate.changes")

Handler = Callable[[Any], Awaitable[None]]
# Who follows which event: event class → its handlers, called in order.
Subscriptions = Mapping[type, Sequence[Handler]]


def publish_only() -> Subscriptions:
    """The table of a process that follows nothing (the ``mlgate security`` commands)."""
    return {}


class ChangeHub:
    """The handlers of this process, and the way to announce a change to everybody."""

    def __init__(self, store: Store, subscriptions: Callable[[], Subscriptions]) -> None:
        """``subscriptions()`` builds the node's whole table of who follows which event (bootstrap's);
        it is read once, when the first change is applied, since its handlers publish through this hub."""
        self._store = store
        self._table = subscriptions
        self._subscriptions: Subscriptions | None = None
        # Changes this process already applied when it published them: their echo from the feed is skipped.
        self._echoes: Counter[tuple[str, str]] = Counter()

    async def apply(self, event: Event) -> None:
        """Run the event's handlers; one failing handler does not keep the others from running."""
        if self._subscriptions is None:
            self._subscriptions = self._table()
        for handler in self._subscriptions.get(type(event), ()):
            try:
                await handler(event)
            except Exception:
                log.exception("applying change %s failed", event)

    async def publish(self, event: Event, *, local: bool = True) -> None:
        """Record the change in the feed, then (unless ``local`` is False) apply it here at once."""
        kind, key = encode(event)
        await self._store.publish(kind, key)
        self._echoes[(kind, key)] += 1
        if local:
            await self.apply(event)

    async def receive(self, kind: str, key: str) -> None:
        """A change from the feed: apply it unless it is the echo of one this process published."""
        if self._echoes[(kind, key)] > 0:
            self._echoes[(kind, key)] -= 1
            if not self._echoes[(kind, key)]:
                del self._echoes[(kind, key)]
            return
        try:
            event = decode(kind, key)
        except (ValueError, KeyError, TypeError):
            log.exception("undecodable change %s %s", kind, key)
            return
        if event is not None:
            await self.apply(event)
