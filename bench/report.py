"""The one table: req/s, p50/p99, latency added over the direct call, and issue 7's ratios."""

from __future__ import annotations

import math
import os
import platform
import resource
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from loadgen import Result

Cell = tuple[str, int, int]  # workload, concurrency, delay_ms


@dataclass(frozen=True)
class Summary:
    """The median of a cell's repeated runs for one target."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    runs: int

    @classmethod
    def of(cls, results: list[Result]) -> Summary:
        """Median req/s, p50 and p99 (each on its own; latency only of runs that finished requests)."""
        timed = [r for r in results if r.requests > 0] or results
        return cls(
            rps=statistics.median(r.rps for r in results),
            p50_ms=statistics.median(r.p50_ms for r in timed) if timed[0].requests else math.nan,
            p99_ms=statistics.median(r.p99_ms for r in timed) if timed[0].requests else math.nan,
            errors=sum(r.errors for r in results),
            runs=len(results),
        )


def machine() -> str:
    """nproc, CPU model and memory, from /proc."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:", 1)[1].split()[0])
        mem = f", {kib / 1024 / 1024:.1f} GiB RAM"
    return f"{os.cpu_count()} cores ({model}){mem}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def revision() -> str:
    """The git commit measured (``+dirty`` with uncommitted changes)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


class CpuMeter:
    """CPU time spent on this machine by processes outside the benchmark while it ran (noise).

    Busy time from /proc/stat minus the CPU time of this process and its reaped children (all the
    benchmark's processes are stopped, hence reaped, before :meth:`foreign_share` is called).
    """

    def __init__(self) -> None:
        self._busy0 = _busy_seconds()
        self._own0 = _own_seconds()
        self._t0 = time.monotonic()
        self._load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0

    def summary(self) -> str:
        """One sentence: load averages and the share of a core used by other processes."""
        elapsed = time.monotonic() - self._t0
        busy = _busy_seconds() - self._busy0
        own = _own_seconds() - self._own0
        foreign = max(0.0, busy - own)
        load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        text = (
            f"Noise: other processes used {foreign:.0f} CPU-s over {elapsed:.0f} s "
            f"({foreign / elapsed * 100 if elapsed else 0:.0f}% of one core); "
            f"1-min load average {self._load0:.2f} at start, {load1:.2f} at end."
        )
        if elapsed and foreign / elapsed > 0.1:
            text += " Figures are disturbed by other work on this machine: rerun on a quiet machine."
        return text


def _busy_seconds() -> float:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def table(summaries: dict[tuple[Cell, str], Summary], cells: list[Cell], targets: list[str]) -> list[str]:
    """The main markdown table, one row per (cell, target)."""
    lines = [
        "| workload | conc | delay | target | req/s | p50 ms | p99 ms | +p50 ms | +p99 ms | errors |",
        "|---|--:|--:|---|--:|--:|--:|--:|--:|--:|",
    ]
    for cell in cells:
        workload, conc, delay = cell
        direct = summaries.get((cell, "direct"))
        for target in targets:
            s = summaries.get((cell, target))
            if s is None:
                continue
            add50 = s.p50_ms - direct.p50_ms if direct and target != "direct" else None
            add99 = s.p99_ms - direct.p99_ms if direct and target != "direct" else None
            lines.append(
                f"| {workload} | {conc} | {delay} ms | {target} | {_fmt(s.rps, 0)} | {_fmt(s.p50_ms)} | "
                f"{_fmt(s.p99_ms)} | {_fmt(add50)} | {_fmt(add99)} | {s.errors} |"
            )
    return lines


def ratios(summaries: dict[tuple[Cell, str], Summary], workloads: list[str]) -> list[str]:
    """Issue 7's targets, computed from the medians; a goal shows ✔ or ✘."""
    lines = ["| ratio (issue 7) | workload | value | goal | met |", "|---|---|--:|--:|:-:|"]

    def get(cell: Cell, target: str) -> Summary | None:
        return summaries.get((cell, target))

    def row(label: str, workload: str, value: float | None, goal: str, ok: bool | None) -> None:
        mark = "" if ok is None or value is None else ("✔" if ok else "✘")
        lines.append(f"| {label} | {workload} | {_fmt(value)} | {goal} | {mark} |")

    for w in workloads:
        m, f = get((w, 64, 0), "mlgate"), get((w, 64, 0), "forwarder")
        value = m.rps / f.rps if m and f and f.rps else None
        row(
            "mlgate ÷ forwarder req/s, c=64, no delay", w, value, "≥ 0.70", value is not None and value >= 0.7
        )
    for w in workloads:
        m, d = get((w, 1, 0), "mlgate"), get((w, 1, 0), "direct")
        add50 = m.p50_ms - d.p50_ms if m and d else None
        add99 = m.p99_ms - d.p99_ms if m and d else None
        row("mlgate added p50 ms, c=1, no delay", w, add50, "≤ 0.5", add50 is not None and add50 <= 0.5)
        row("mlgate added p99 ms, c=1, no delay", w, add99, "≤ 2.0", add99 is not None and add99 <= 2.0)
    for w in workloads:
        goal = 0.95 if w == "chat" else 0.8
        d = get((w, 64, 50), "direct")
        for target in ("mlgate", "forwarder", "litellm"):
            t = get((w, 64, 50), target)
            value = t.rps / d.rps if t and d and d.rps else None
            if value is None:
                continue
            ok = value >= goal if target == "mlgate" else None
            row(
                f"{target} ÷ direct req/s, c=64, 50 ms delay",
                w,
                value,
                f"≥ {goal:.2f}" if ok is not None else "",
                ok,
            )
    for w in workloads:
        lit, m = get((w, 64, 0), "litellm"), get((w, 64, 0), "mlgate")
        if lit and m and lit.rps:
            row("mlgate ÷ litellm req/s, c=64, no delay", w, m.rps / lit.rps, "", None)
        f, d = get((w, 1, 0), "forwarder"), get((w, 1, 0), "direct")
        if f and d:
            row("forwarder added p50 ms, c=1, no delay (reference)", w, f.p50_ms - d.p50_ms, "", None)
    return lines


def scaling(summaries: dict[tuple[str, int], Summary], workloads: list[str], workers: int) -> list[str]:
    """The ``--workers`` table: req/s with one worker and with ``workers``, and the speed-up."""
    goal = 0.8 * workers
    lines = [
        f"| `--workers` scaling (issue 7) | workload | 1 worker req/s | {workers} workers req/s | speed-up | goal | met |",
        "|---|---|--:|--:|--:|--:|:-:|",
    ]
    for w in workloads:
        one, many = summaries.get((w, 1)), summaries.get((w, workers))
        if one is None or many is None or not one.rps:
            continue
        speedup = many.rps / one.rps
        mark = "✔" if speedup >= goal else "✘"
        lines.append(
            f"| c=64, no delay | {w} | {_fmt(one.rps, 0)} | {_fmt(many.rps, 0)} | {speedup:.2f}× | "
            f"≥ {goal:.2f}× | {mark} |"
        )
    return lines
