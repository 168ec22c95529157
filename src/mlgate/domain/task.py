"""Tasks: the ML Commons task document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mlgate.domain.records import BOOL, INT, STR, STR_TUPLE, Kind, join, split

INDEX = ".plugins-ml-task"

REGISTER_MODEL = "REGISTER_MODEL"
DEPLOY_MODEL = "DEPLOY_MODEL"

CREATED = "CREATED"
RUNNING = "RUNNING"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
COMPLETED_WITH_ERROR = "COMPLETED_WITH_ERROR"

UNFINISHED_STATES = (CREATED, RUNNING)


def new_task(
    task_type: str, *, worker_nodes: list[str], is_async: bool, now: int, model_id: str | None = None
) -> dict[str, Any]:
    """A task document in state CREATED, fields in ML Commons' order."""
    doc: dict[str, Any] = {}
    if model_id is not None:
        doc["model_id"] = model_id
    doc.update(
        {
            "task_type": task_type,
            "function_name": "REMOTE",
            "state": CREATED,
            "worker_node": list(worker_nodes),
            "create_time": now,
            "last_update_time": now,
            "is_async": is_async,
        }
    )
    return doc


def finish(
    task: dict[str, Any], state: str, *, now: int, model_id: str | None = None, error: str | None = None
) -> dict[str, Any]:
    """The task moved to a final state (model_id kept first, as ML Commons renders it)."""
    done: dict[str, Any] = {}
    if model_id is not None or "model_id" in task:
        done["model_id"] = model_id or task["model_id"]
    done.update({k: v for k, v in task.items() if k != "model_id"})
    done["state"] = state
    done["last_update_time"] = now
    if error is not None:
        done["error"] = error
    return done


_KINDS: dict[str, Kind] = {
    "model_id": STR,
    "task_type": STR,
    "function_name": STR,
    "state": STR,
    "worker_node": STR_TUPLE,
    "create_time": INT,
    "last_update_time": INT,
    "is_async": BOOL,
    "error": STR,
}


@dataclass(frozen=True, slots=True)
class Task:
    """A stored task. ml-commons: common/.../MLTask.java."""

    model_id: str | None = None
    task_type: str | None = None
    function_name: str | None = None
    state: str | None = None
    worker_node: tuple[str, ...] | None = None
    create_time: int | None = None
    last_update_time: int | None = None
    is_async: bool | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    order: tuple[str, ...] = ()

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Task:
        """The record of a stored document (nothing in it is lost)."""
        typed, extra, order = split(doc, _KINDS)
        return cls(**typed, extra=extra, order=order)

    def to_doc(self) -> dict[str, Any]:
        """The stored document, keys in their stored order."""
        return join({key: getattr(self, key) for key in _KINDS}, self.extra, self.order, _KINDS)

    @property
    def is_unfinished(self) -> bool:
        """Created or running."""
        return self.state in UNFINISHED_STATES

    def finished(self, state: str, now: int, error: str | None = None) -> Task:
        """Moved to a final state."""
        return replace(
            self, state=state, last_update_time=now, error=error if error is not None else self.error
        )
