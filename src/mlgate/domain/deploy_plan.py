"""How deploys, undeploys and node changes rewrite a model document's state and worker plan, and when
an idle model's time to live has run out. Pure: each change is a function applied to the document."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mlgate.domain import model as mdomain

SERVING_STATES = (mdomain.DEPLOYED, mdomain.PARTIALLY_DEPLOYED)

Change = Callable[[dict[str, Any]], None]


def is_serving(model: Mapping[str, Any]) -> bool:
    """Whether the model is deployed (fully or on some of its nodes)."""
    return model.get("model_state") in SERVING_STATES


def deploying(targets: list[str], *, deploy_to_all: bool) -> Change:
    """A deploy to ``targets`` started."""

    def change(doc: dict[str, Any]) -> None:
        doc["model_state"] = mdomain.DEPLOYING
        doc["planning_worker_node_count"] = len(targets)
        doc["planning_worker_nodes"] = list(targets)
        doc["deploy_to_all_nodes"] = deploy_to_all

    return change


def deployed(state: str, loaded: int, now: int) -> Change:
    """A deploy ended in ``state`` with ``loaded`` nodes serving."""

    def change(doc: dict[str, Any]) -> None:
        doc["model_state"] = state
        doc["current_worker_node_count"] = loaded
        if loaded:
            doc["last_deployed_time"] = now
            doc.setdefault("auto_redeploy_retry_times", 0)

    return change


def undeployed(now: int) -> Change:
    """The model was undeployed from every node."""

    def change(doc: dict[str, Any]) -> None:
        doc["model_state"] = mdomain.UNDEPLOYED
        doc["last_undeployed_time"] = now
        doc["planning_worker_nodes"] = []
        doc["planning_worker_node_count"] = 0
        doc["current_worker_node_count"] = 0

    return change


def with_worker(node_id: str) -> Change:
    """A node joined the model's plan."""

    def change(doc: dict[str, Any]) -> None:
        nodes = [n for n in doc.get("planning_worker_nodes") or () if n != node_id] + [node_id]
        doc["planning_worker_nodes"] = nodes
        doc["planning_worker_node_count"] = len(nodes)
        doc["current_worker_node_count"] = min(len(nodes), int(doc.get("current_worker_node_count", 0)) + 1)

    return change


def without_worker(node_id: str) -> Change:
    """A node left the model's plan; with none left, the deploy has failed."""

    def change(doc: dict[str, Any]) -> None:
        nodes = [n for n in doc.get("planning_worker_nodes") or () if n != node_id]
        doc["planning_worker_nodes"] = nodes
        doc["planning_worker_node_count"] = len(nodes)
        doc["current_worker_node_count"] = max(0, int(doc.get("current_worker_node_count", 0)) - 1)
        if not nodes and doc.get("model_state") in SERVING_STATES:
            doc["model_state"] = mdomain.DEPLOY_FAILED

    return change


def ttl_ms(model: Mapping[str, Any]) -> int | None:
    """The model's time to live when idle, in milliseconds (None: never expires).

    ``deploy_setting.model_ttl_minutes``, -1 by default; a negative value never expires (ML Commons'
    ``MLDeploySetting``).
    """
    setting = model.get("deploy_setting")
    minutes = setting.get("model_ttl_minutes") if isinstance(setting, Mapping) else None
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 0:
        return None
    return minutes * 60_000


def has_expired(model: Mapping[str, Any], last_access_ms: int, now_ms: int) -> bool:
    """A serving model unused since ``last_access_ms`` for at least its TTL (whole seconds compared, as
    ML Commons' ``MLModelCacheHelper.getExpiredModels`` does)."""
    ttl = ttl_ms(model)
    if ttl is None or not is_serving(model):
        return False
    return (now_ms - last_access_ms) // 1000 >= ttl // 1000
