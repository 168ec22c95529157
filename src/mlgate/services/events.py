"""Change events: one frozen record per kind, and their codec for the store's change feed.

The feed carries ``(kind, key)`` strings (storage/store.py). This module is the only place that maps an
event to them and back: a one-id event keys by its id; a deploy order or report, which carries several
fields, keys by their JSON. Every process decodes what it receives here, so no handler sees a key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import orjson


@dataclass(frozen=True, slots=True)
class SettingsChanged:
    """Cluster settings changed: reload them."""

    kind: ClassVar[str] = "settings"


@dataclass(frozen=True, slots=True)
class SecurityChanged:
    """Users, roles or role mappings changed: reload them."""

    kind: ClassVar[str] = "security"


@dataclass(frozen=True, slots=True)
class ConnectorChanged:
    """A standalone connector changed (e.g. its credential rotated)."""

    kind: ClassVar[str] = "connector"
    connector_id: str


@dataclass(frozen=True, slots=True)
class ModelChanged:
    """A model document changed or was deleted."""

    kind: ClassVar[str] = "model"
    model_id: str


@dataclass(frozen=True, slots=True)
class ModelGroupChanged:
    """A model group changed (its access, typically) or was deleted."""

    kind: ClassVar[str] = "model_group"
    group_id: str


@dataclass(frozen=True, slots=True)
class Undeployed:
    """A model was undeployed: every node drops its predictor."""

    kind: ClassVar[str] = "undeploy"
    model_id: str


@dataclass(frozen=True, slots=True)
class DeployOrdered:
    """Task ``task_id`` deploys ``model_id`` to ``nodes``; each of them loads it and reports."""

    kind: ClassVar[str] = "deploy"
    model_id: str
    task_id: str
    nodes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeployReported:
    """A node's outcome of a deploy order: ``error`` is None when it loaded the model."""

    kind: ClassVar[str] = "deploy_report"
    task_id: str
    node_id: str
    error: str | None


Event = (
    SettingsChanged
    | SecurityChanged
    | ConnectorChanged
    | ModelChanged
    | ModelGroupChanged
    | Undeployed
    | DeployOrdered
    | DeployReported
)


def encode(event: Event) -> tuple[str, str]:
    """The ``(kind, key)`` the feed carries for ``event``."""
    match event:
        case SettingsChanged() | SecurityChanged():
            return event.kind, ""
        case ConnectorChanged(connector_id=key) | ModelChanged(model_id=key) | Undeployed(model_id=key):
            return event.kind, key
        case ModelGroupChanged(group_id=key):
            return event.kind, key
        case DeployOrdered() | DeployReported():
            return event.kind, orjson.dumps(asdict(event)).decode()


def decode(kind: str, key: str) -> Event | None:
    """The event of a feed entry; None for a kind this version does not know."""
    match kind:
        case "settings":
            return SettingsChanged()
        case "security":
            return SecurityChanged()
        case "connector":
            return ConnectorChanged(key)
        case "model":
            return ModelChanged(key)
        case "model_group":
            return ModelGroupChanged(key)
        case "undeploy":
            return Undeployed(key)
        case "deploy":
            fields = _fields(key)
            return DeployOrdered(str(fields["model_id"]), str(fields["task_id"]), tuple(fields["nodes"]))
        case "deploy_report":
            fields = _fields(key)
            error = fields.get("error")
            return DeployReported(
                str(fields["task_id"]), str(fields["node_id"]), None if error is None else str(error)
            )
    return None


def _fields(key: str) -> dict[str, Any]:
    value = orjson.loads(key)
    if not isinstance(value, dict):
        raise ValueError(f"a change key that is not an object: {key!r}")
    return value
