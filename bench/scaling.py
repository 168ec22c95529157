"""``--workers N`` scaling: one mlgate worker on one core against N workers free to use every core.

The N-worker server is unpinned; the provider and the load generator stay on the side core, so on a
small machine the workers share a core with them and the figure is a lower bound of the scaling.
"""

from __future__ import annotations

import os
from pathlib import Path

import gateways
import report
from loadgen import LoadGenerator, Result
from procs import Processes
from provider import Provider

CONCURRENCY = 64


def workers_wanted() -> int:
    """One worker per core."""
    return os.cpu_count() or 1


def measure(
    procs: Processes,
    workdir: Path,
    provider: Provider,
    load: LoadGenerator,
    single: gateways.Target,
    workloads: list[str],
    security: bool,
    *,
    warmup: float,
    repeat: int,
    duration: float,
) -> dict[tuple[str, int], report.Summary]:
    """(workload, workers) → the median of ``repeat`` interleaved runs at c=64 with no provider delay.

    ``single`` is the already running one-worker mlgate pinned to the gateway core.
    """
    workers = workers_wanted()
    many = gateways.start_mlgate(
        procs, workdir, provider, workloads, [0], security, workers=workers, core=None
    )
    targets = {1: single, workers: many}
    out: dict[tuple[str, int], report.Summary] = {}
    for workload in workloads:
        print(f"bench: [scaling] {workload} c={CONCURRENCY}, 1 vs {workers} workers", flush=True)
        runs: dict[int, list[Result]] = {n: [] for n in targets}
        requests = {n: t.request(workload, 0) for n, t in targets.items()}
        for n, (url, body) in _present(requests).items():
            if warmup > 0:
                load.run(url, body, targets[n].headers, CONCURRENCY, warmup)
        for _ in range(repeat):
            for n, (url, body) in _present(requests).items():
                runs[n].append(load.run(url, body, targets[n].headers, CONCURRENCY, duration))
        for n, results in runs.items():
            out[(workload, n)] = summary = report.Summary.of(results)
            print(f"bench:     {n} worker(s) {summary.rps:9,.0f} req/s  errors {summary.errors}", flush=True)
    return out


def _present(requests: dict[int, tuple[str, bytes] | None]) -> dict[int, tuple[str, bytes]]:
    return {n: r for n, r in requests.items() if r is not None}
