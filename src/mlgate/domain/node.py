"""Nodes of a cluster: roles, liveness and which nodes may serve remote models.

ml-commons: plugin/.../cluster/DiscoveryNodeHelper.java.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ROLES = ("data", "ml")
# The header a node presents its cluster token in on node-to-node calls.
NODE_TOKEN_HEADER = "x-mlgate-node-token"


@dataclass(frozen=True)
class NodeInfo:
    """A node as the registry knows it."""

    node_id: str
    name: str
    roles: tuple[str, ...]
    url: str
    last_seen_ms: int

    def to_json(self) -> dict[str, Any]:
        """What a node publishes with its heartbeat."""
        return {"name": self.name, "roles": list(self.roles), "url": self.url}


def node_from_registry(node_id: str, info: Mapping[str, Any], last_seen_ms: int) -> NodeInfo:
    """Rebuild a NodeInfo from a heartbeat record."""
    return NodeInfo(
        node_id=node_id,
        name=str(info.get("name", node_id)),
        roles=tuple(str(r) for r in info.get("roles", ROLES)),
        url=str(info.get("url", "")),
        last_seen_ms=last_seen_ms,
    )


def parse_roles(text: str) -> tuple[str, ...]:
    """``--roles ml,data``; unknown roles are refused."""
    roles = tuple(r.strip() for r in text.split(",") if r.strip())
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValueError(f"unknown node role(s) {unknown or [text]}; use a comma list of {', '.join(ROLES)}")
    return roles


def is_alive(node: NodeInfo, now_ms: int, expiry_ms: int) -> bool:
    """A node is alive while its last heartbeat is younger than the expiry."""
    return now_ms - node.last_seen_ms <= expiry_ms


def eligible_nodes(
    nodes: Iterable[NodeInfo],
    *,
    remote_roles: Sequence[str],
    only_run_on_ml_node: bool,
    excluded_names: Sequence[str] = (),
) -> list[NodeInfo]:
    """Nodes that may host remote models, in id order.

    A node qualifies with any role in ``eligible_node_role.remote_model``. mlgate also honours
    ``only_run_on_ml_node`` for remote models as ML Commons 2.9 did: when it is on and any ``ml`` node
    qualifies, only ``ml`` nodes serve (data-only nodes forward their predicts).
    """
    candidates = [n for n in nodes if set(n.roles) & set(remote_roles) and n.name not in excluded_names]
    if only_run_on_ml_node:
        ml = [n for n in candidates if "ml" in n.roles]
        if ml:
            candidates = ml
    return sorted(candidates, key=lambda n: n.node_id)
