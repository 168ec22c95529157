"""Publishing changes: apply them in this process at once, then tell every other process and node.

Local handlers run immediately so a caller reads its own writes; the same change comes back through
the feed later and is applied again, which every handler tolerates (they reload from the store).
"""

from __future__ import annotations

import logging
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
    """The handlers of this process, and the way to announce a change to everybody.

    The echo of a change this process published is recognised by its id in the feed, never by its
    kind and key: another node's later change to the same object must still be applied here.
    """

    def __init__(self, store: Store, subscriptions: Callable[[], Subscriptions]) -> None:
        """``subscriptions()`` builds the node's whole table of who follows which event (bootstrap's);
        it is read once, when the first change is applied, since its handlers publish through this hub."""
        self._store = store
        self._table = subscriptions
        self._subscriptions: Subscriptions | None = None
        # Ids of changes this process published whose echo from the feed is still to come (and skipped).
        self._echoes: set[int] = set()
        # The newest change id the follower handed over: the feed delivers every later one in order.
        self._received = 0

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
        change_id = await self._store.publish(kind, key)
        # The follower may have read the change before the store answered; it then applied it as a
        # remote change and there is no echo left to skip.
        if change_id > self._received:
            self._echoes.add(change_id)
        if local:
            await self.apply(event)

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
        try:
            event = decode(kind, key)
        except (ValueError, KeyError, TypeError):
            log.exception("undecodable change %s %s", kind, key)
            return
        if event is not None:
            await self.apply(event)
