"""Tasks: the ML Commons task document."""

from __future__ import annotations

from typing import Any

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
