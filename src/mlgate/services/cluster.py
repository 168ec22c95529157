"""Keeping processes and nodes coherent: heartbeats, the live-node view and the change feed.

Every write that other processes must see is published to the store's change feed (settings,
connectors, models, model groups). Each process follows the feed — woken at once by PostgreSQL
LISTEN/NOTIFY where available, else by polling a cheap ``changes_since`` — and refreshes only the
affected part of its in-memory view, so the predict path never reads storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mlgate.domain.node import NodeInfo, eligible_nodes, is_alive, node_from_registry
from mlgate.remote.forward import is_node_token
from mlgate.services.changes import ChangeHub
from mlgate.services.environment import Environment
from mlgate.services.settings import SettingsService
from mlgate.storage.store import Store

log = logging.getLogger("mlgate.cluster")


class NodeRegistry:
    """This node's heartbeat and the current view of live nodes."""

    def __init__(
        self,
        store: Store,
        env: Environment,
        me: NodeInfo,
        loaded_models: Callable[[], frozenset[str]],
        *,
        last_access: Callable[[], Mapping[str, int]] = dict,
        interval_s: float = 1.0,
        expiry_ms: int = 5_000,
    ) -> None:
        """``last_access`` gives this process's last use of each model it serves (epoch ms)."""
        self._store = store
        self._env = env
        self.me = me
        self._loaded = loaded_models
        self._last_access = last_access
        # Last use of each model by node, as the nodes' heartbeats reported it.
        self._accessed: dict[str, dict[str, int]] = {}
        self.interval_s = interval_s
        self.expiry_ms = expiry_ms
        self._nodes: dict[str, NodeInfo] = {me.node_id: me}
        self._serving: dict[str, frozenset[str]] = {}

    async def beat(self) -> None:
        """Refresh the view of the nodes, then publish this node's heartbeat: the models it serves and
        when it last used each (read first, so a later use another process of this node reported is
        kept, not overwritten)."""
        await self.refresh()
        info = {**self.me.to_json(), "models": sorted(self._loaded()), "last_access": self.my_last_access()}
        await self._store.heartbeat(self.me.node_id, info, self._env.now_ms())

    async def refresh(self) -> None:
        """Re-read the registry."""
        records = await self._store.load_nodes()
        self._nodes = {node_id: node_from_registry(node_id, info, seen) for node_id, info, seen in records}
        self._nodes.setdefault(self.me.node_id, self.me)
        self._serving = {node_id: frozenset(info.get("models", ())) for node_id, info, _ in records}
        self._accessed = {node_id: dict(info.get("last_access") or {}) for node_id, info, _ in records}

    def my_last_access(self) -> dict[str, int]:
        """This node's last use of each model it serves: this process's, or later when another process
        of the node (``--workers``: one heartbeat row) reported a later one."""
        reported = self._accessed.get(self.me.node_id, {})
        return {model: max(at, reported.get(model, 0)) for model, at in self._last_access().items()}

    def last_access(self, node_id: str, model_id: str) -> int | None:
        """When ``node_id`` last used ``model_id`` (epoch ms), or None if it did not say."""
        if node_id == self.me.node_id:
            return self.my_last_access().get(model_id)
        return self._accessed.get(node_id, {}).get(model_id)

    def workers_of(self, model_id: str) -> list[NodeInfo]:
        """Live nodes that reported serving ``model_id`` (this node from its own runtime)."""
        workers = []
        for node in self.live():
            if node.node_id == self.me.node_id:
                serving = self._loaded()
            else:
                serving = self._serving.get(node.node_id, frozenset())
            if model_id in serving:
                workers.append(node)
        return workers

    def live(self) -> list[NodeInfo]:
        """Nodes whose heartbeat has not expired (this node always counts as alive)."""
        now = self._env.now_ms()
        alive = [
            n
            for n in self._nodes.values()
            if n.node_id == self.me.node_id or is_alive(n, now, self.expiry_ms)
        ]
        return sorted(alive, key=lambda n: n.node_id)

    def expired(self) -> list[NodeInfo]:
        """Nodes whose heartbeat has expired."""
        now = self._env.now_ms()
        return [
            n
            for n in self._nodes.values()
            if n.node_id != self.me.node_id and not is_alive(n, now, self.expiry_ms)
        ]

    def get(self, node_id: str) -> NodeInfo | None:
        """A known node."""
        return self._nodes.get(node_id)

    def eligible(self, settings: SettingsService) -> list[NodeInfo]:
        """Live nodes that may serve remote models under the current settings."""
        current = settings.current
        excluded = [n.strip() for n in str(current.value("exclude_nodes._name")).split(",") if n.strip()]
        return eligible_nodes(
            self.live(),
            remote_roles=current.strings("task_dispatcher.eligible_node_role.remote_model"),
            only_run_on_ml_node=current.flag("only_run_on_ml_node"),
            excluded_names=excluded,
        )


class ChangeFollower:
    """Follows the store's change feed and hands each change to the hub's appliers."""

    def __init__(
        self,
        store: Store,
        hub: ChangeHub,
        *,
        poll_interval_s: float = 0.2,
        alone_poll_interval_s: float = 5.0,
    ) -> None:
        """``poll_interval_s`` applies when other processes may write (``--workers``, PostgreSQL);
        ``alone_poll_interval_s`` when this process is the only writer and the poll is only a safety net.
        """
        self._store = store
        self._hub = hub
        self._poll = poll_interval_s
        self._alone_poll = alone_poll_interval_s
        self._last = 0
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Begin after everything already in the feed (the view was just loaded from the store)."""
        self._last = await self._store.latest_change_id()
        self._hub.start_after(self._last)
        if await self._store.listen(self._wake.set):
            # Pushed wake-ups (PostgreSQL NOTIFY) carry the load; polling only covers a lost connection.
            self._poll = max(self._poll, 1.0)

    def only_writer(self) -> None:
        """No other process shares the store: feed reads cost GIL hand-offs on the hot path for nothing."""
        self._poll = self._alone_poll

    async def catch_up(self) -> None:
        """Apply every change published since the last one seen."""
        async with self._lock:
            while True:
                batch = await self._store.changes_since(self._last)
                if not batch:
                    return
                for change_id, kind, key in batch:
                    self._last = change_id
                    await self._hub.receive(change_id, kind, key)

    async def run(self) -> None:
        """Follow the feed until cancelled; a failing read (database restart) is retried next round."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)
            self._wake.clear()
            try:
                await self.catch_up()
            except Exception:
                log.exception("reading the change feed failed; retrying")


class Background:
    """Long-running loops of a node, started and stopped with it."""

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[Any]] = []

    def spawn(self, loop: Awaitable[Any], name: str) -> None:
        """Start a loop."""
        self._tasks.append(asyncio.ensure_future(loop))
        self._tasks[-1].set_name(name)

    async def stop(self) -> None:
        """Cancel every loop and wait for them."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()


async def every(interval_s: float, action: Callable[[], Awaitable[None]], name: str) -> None:
    """Run ``action`` periodically; failures are logged and the loop goes on."""
    while True:
        try:
            await action()
        except Exception:
            log.exception("%s failed", name)
        await asyncio.sleep(interval_s)


class NodeAuth:
    """Verifies the token another node presents on node-to-node routes."""

    def __init__(self, master_key: bytes) -> None:
        self._master_key = master_key

    def verify(self, token: str | None) -> bool:
        """Whether ``token`` is this cluster's node token."""
        return is_node_token(token, self._master_key)
