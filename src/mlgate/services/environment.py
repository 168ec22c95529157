"""Injected time, ids and node identity, so tests control them and nothing reads globals."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mlgate.services.cpu import CpuWorkers


def new_document_id() -> str:
    """A 20-character URL-safe id, the shape of OpenSearch auto-generated ids.

    Ids never start with ``_`` or ``-``: ML Commons refuses such custom ids, and ``_`` marks endpoints.
    """
    while True:
        candidate = base64.urlsafe_b64encode(os.urandom(15)).decode()
        if candidate[0] not in "_-":
            return candidate


def now_millis() -> int:
    """Wall-clock epoch milliseconds."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class Environment:
    """What services need from the world besides storage and the network."""

    node_id: str
    node_name: str
    cluster_name: str = "mlgate"
    now_ms: Callable[[], int] = now_millis
    new_id: Callable[[], str] = new_document_id
    # Threads for CPU-bound work (searches), so the event loop keeps answering meanwhile.
    cpu: CpuWorkers = field(default_factory=CpuWorkers)
