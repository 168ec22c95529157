"""The echo of a change a process published is skipped by its id, never by what it names.

Under load the follower can read a change from the feed before ``publish`` returns to the process that
published it (issue 12, item 1: a model controller created on one node was never applied on the node
serving the model). The follower then applies it as a remote change; the next change another node
publishes about the same object must still be applied, not taken for the echo.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from mlgate.services.changes import ChangeHub, Subscriptions
from mlgate.services.cluster import ChangeFollower
from mlgate.services.events import ConnectorChanged, Event, ModelChanged
from mlgate.storage.sqlite import SqliteStore


class FeedReadFirst(SqliteStore):
    """A real store that answers ``publish`` only after ``before_answer`` ran: the interleaving a
    loaded machine produces when the follower wakes up between the commit and the publisher."""

    before_answer: Callable[[], Awaitable[None]] | None = None

    async def publish(self, kind: str, key: str) -> int:
        change_id = await super().publish(kind, key)
        if self.before_answer is not None:
            await self.before_answer()
        return change_id


async def _node(path: Path) -> tuple[FeedReadFirst, ChangeHub, ChangeFollower, list[tuple[str, str]]]:
    store = FeedReadFirst(path)
    await store.open()
    applied: list[tuple[str, str]] = []

    async def record(event: Event) -> None:
        applied.append(("model", event.model_id) if isinstance(event, ModelChanged) else ("other", ""))

    def subscriptions() -> Subscriptions:
        return {ModelChanged: (record,), ConnectorChanged: (record,)}

    hub = ChangeHub(store, subscriptions)
    follower = ChangeFollower(store, hub)
    await follower.start()
    return store, hub, follower, applied


async def test_a_change_read_back_before_publish_returned_hides_no_later_change(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    store, hub, follower, applied = await _node(path)
    other_node = SqliteStore(path)
    await other_node.open()
    try:
        for round_ in range(30):
            key = f"m{round_}"
            store.before_answer = follower.catch_up
            await hub.publish(ModelChanged(key), local=False)
            store.before_answer = None
            assert applied[-1] == ("model", key)  # applied once, as a remote change
            await other_node.publish("model", key)
            await follower.catch_up()
            assert applied[-2:] == [("model", key), ("model", key)], "another node's change was lost"
    finally:
        await other_node.close()
        await store.close()


async def test_an_echo_is_skipped_once_and_only_its_own(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    store, hub, follower, applied = await _node(path)
    other_node = SqliteStore(path)
    await other_node.open()
    try:
        await hub.publish(ModelChanged("m1"))  # applied here at once
        await other_node.publish("model", "m1")
        await hub.publish(ConnectorChanged("c1"), local=False)  # not applied here
        await follower.catch_up()
        assert applied == [("model", "m1"), ("model", "m1")]
        await follower.catch_up()
        assert applied == [("model", "m1"), ("model", "m1")]
    finally:
        await other_node.close()
        await store.close()
