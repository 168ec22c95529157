"""``GET /_prometheus/metrics``: the Telemetry port's metrics plus gauges read at scrape time.

Models by state and tasks by type and state describe the cluster (they come from the store), so the
worker that answers the scrape reads them and adds them once; gauges of one process (its connector
pools) are read by the telemetry at every flush and scrape (see bootstrap).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from mlgate.domain import model as mdomain
from mlgate.domain import task as tdomain
from mlgate.domain import telemetry as tm
from mlgate.remote.client import ClientPool
from mlgate.storage.store import Store


def pool_readings(pool: ClientPool) -> Iterator[tm.Reading]:
    """In-use, waiting and max connections of each open connector pool of this process."""
    for key, limit, in_flight in pool.usage():
        yield tm.Reading(tm.POOL_IN_USE, (key,), float(min(in_flight, limit)))
        yield tm.Reading(tm.POOL_WAITING, (key,), float(max(0, in_flight - limit)))
        yield tm.Reading(tm.POOL_MAX, (key,), float(limit))


class MetricsService:
    """Renders the metrics exposition with the cluster's model and task gauges."""

    def __init__(self, store: Store, telemetry: tm.Telemetry) -> None:
        self._store = store
        self._telemetry = telemetry

    @property
    def content_type(self) -> bytes:
        """The exposition's media type."""
        return self._telemetry.content_type

    async def exposition(self) -> bytes:
        """Every metric, in the telemetry's format."""
        readings: list[tm.Reading] = []
        models = Counter(
            str(doc.source.get("model_state") or mdomain.REGISTERED)
            for doc in await self._store.load_all(mdomain.INDEX)
        )
        readings.extend(tm.Reading(tm.MODELS, (state,), float(n)) for state, n in sorted(models.items()))
        tasks = Counter(
            (str(doc.source.get("task_type") or "unknown"), str(doc.source.get("state") or "unknown"))
            for doc in await self._store.load_all(tdomain.INDEX)
        )
        readings.extend(tm.Reading(tm.TASKS, labels, float(n)) for labels, n in sorted(tasks.items()))
        return self._telemetry.exposition(readings)
