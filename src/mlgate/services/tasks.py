"""Task use cases: get, search, delete, and recovery of tasks a crash left unfinished."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mlgate.domain import task as task_domain
from mlgate.domain.errors import InvalidRequestError, NotFoundError
from mlgate.domain.principal import Principal
from mlgate.services.documents import search_collection, write_response
from mlgate.services.environment import Environment
from mlgate.storage.store import Store

INDEX = task_domain.INDEX

# Refreshes a task from its remote side on GET: (principal, task id, stored document) → document.
Refresher = Callable[[Principal | None, str, dict[str, Any]], Awaitable[dict[str, Any]]]


class TaskService:
    """Tasks record register and deploy operations."""

    def __init__(
        self, store: Store, env: Environment, refreshers: Callable[[], Mapping[str, Refresher]]
    ) -> None:
        """``refreshers()``: by task type, e.g. BATCH_PREDICTION asks the provider for its job's status;
        read when a task is first read (the services it names may be built after this one)."""
        self._store = store
        self._env = env
        self._refreshers = refreshers

    async def create(
        self,
        task_type: str,
        *,
        is_async: bool,
        model_id: str | None = None,
        worker_nodes: list[str] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Persist a new CREATED task (its workers: this node unless given)."""
        task_id = self._env.new_id()
        doc = task_domain.new_task(
            task_type,
            worker_nodes=worker_nodes or [self._env.node_id],
            is_async=is_async,
            now=self._env.now_ms(),
            model_id=model_id,
        )
        await self._store.save(INDEX, task_id, doc)
        return task_id, doc

    async def finish(
        self,
        task_id: str,
        doc: dict[str, Any],
        state: str,
        *,
        model_id: str | None = None,
        error: str | None = None,
    ) -> dict[str, Any]:
        """Move a task to its final state."""
        done = task_domain.finish(doc, state, now=self._env.now_ms(), model_id=model_id, error=error)
        await self._store.save(INDEX, task_id, done)
        return done

    async def get(self, principal: Principal | None, task_id: str) -> dict[str, Any]:
        """``GET /tasks/{id}``."""
        stored = await self._store.load(INDEX, task_id)
        if stored is None:
            raise NotFoundError("Failed to find task")
        source = dict(stored.source)
        refresh = self._refreshers().get(str(source.get("task_type")))
        if refresh is not None:
            return await refresh(principal, task_id, source)
        return source

    async def search(
        self, principal: Principal | None, body: Mapping[str, Any] | None, url_params: Mapping[str, str]
    ) -> dict[str, Any]:
        """``GET|POST /tasks/_search``."""
        return await search_collection(self._store, self._env.cpu, INDEX, body, url_params=url_params)

    async def delete(self, principal: Principal | None, task_id: str) -> dict[str, Any]:
        """``DELETE /tasks/{id}``; running tasks are kept."""
        stored = await self._store.load(INDEX, task_id)
        if stored is None:
            raise NotFoundError("Failed to find task")
        if stored.source.get("state") == task_domain.RUNNING:
            # ML Commons answers 500 `exception`; a busy task is a conflict the caller can retry.
            raise InvalidRequestError(
                "Task cannot be deleted in running state. Try after some time.", error_type="exception"
            )
        deleted = await self._store.delete(INDEX, task_id)
        return write_response(INDEX, task_id, "deleted", deleted)

    async def fail_unfinished(self, reason: str, is_gone: Callable[[str], bool]) -> list[str]:
        """Tasks left CREATED/RUNNING on nodes that are ``gone`` can never finish — fail them.

        At start-up that is this node (its previous process died) and nodes that are not alive; after a
        heartbeat expires it is the dead node. A live coordinator may later overwrite the state with the
        real outcome.
        """
        failed = []
        for doc in await self._store.load_all(INDEX):
            # A batch job runs at the provider, not in this process: it outlives any restart.
            if doc.source.get("task_type") == "BATCH_PREDICTION":
                continue
            workers = doc.source.get("worker_node") or ()
            if doc.source.get("state") in task_domain.UNFINISHED_STATES and any(is_gone(w) for w in workers):
                await self.finish(doc.id, dict(doc.source), task_domain.FAILED, error=reason)
                failed.append(doc.id)
        return failed
