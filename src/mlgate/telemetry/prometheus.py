"""The Prometheus implementation of the Telemetry port, on ``prometheus-client``.

Recording is plain Python on pre-bound children (an add for a counter, a bisect and two adds for a
histogram): no lock and no file write per request. Exposition goes through prometheus-client:

- one process: the children are read directly;
- ``--workers N``: every worker writes its children's totals into its own files in the
  multiprocess directory (``PROMETHEUS_MULTIPROC_DIR``, prometheus-client's file format) once a second,
  at each scrape and at stop; the worker that answers a scrape merges every worker's files with
  prometheus-client's ``MultiProcessCollector``, so counts add up across workers (the others' values
  are at most a second old). Gauges of a process (pool usage) are summed over live workers.
"""

from __future__ import annotations

import os
import sys
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.metrics_core import (
    Metric as PromMetric,
)
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.utils import floatToGoString

from mlgate import __version__
from mlgate.domain.telemetry import BUILD_INFO, COUNTER, GAUGE, HISTOGRAM, Metric, Reading, Span

CONTENT_TYPE: bytes = str(CONTENT_TYPE_PLAIN_0_0_4).encode()
# prometheus-client's live-sum gauge files: dropped when their process dies.
_GAUGE_FILE = "gauge_livesum"


class _Counter:
    __slots__ = ("flushed", "keys", "value")

    def __init__(self) -> None:
        self.value = 0.0
        self.flushed = -1.0
        self.keys: tuple[str, ...] = ()

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class _Histogram:
    __slots__ = ("bounds", "counts", "flushed", "keys", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.sum = 0.0
        self.flushed = -1
        self.keys: tuple[str, ...] = ()

    def observe(self, value: float) -> None:
        # Prometheus buckets hold value <= le: the first bound >= value.
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value


class _NoSpan:
    __slots__ = ()

    def set_attribute(self, key: str, value: str | int | float | bool) -> None:
        return None

    def traceparent(self) -> str | None:
        return None

    def end(self, error_type: str | None = None) -> None:
        return None


NO_SPAN = _NoSpan()


class Tracer(Protocol):
    """Where spans go (mlgate.telemetry.otlp); the Prometheus side only forwards to it."""

    def span(
        self,
        name: str,
        *,
        kind: str,
        attributes: Mapping[str, str | int | float | bool],
        parent: str | None,
        start_ns: int | None,
    ) -> Span:
        """Start a span."""

    def close(self) -> None:
        """Export what is pending and stop."""


class PrometheusTelemetry:
    """Metrics in memory, exposed in Prometheus text format; spans through an optional tracer."""

    def __init__(
        self,
        *,
        multiprocess_dir: Path | None = None,
        process_id: int | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self._dir = multiprocess_dir
        self._pid = os.getpid() if process_id is None else process_id
        self._tracer = tracer
        self._families: dict[str, tuple[Metric, dict[tuple[str, ...], Any]]] = {}
        self._files: dict[str, MmapedDict] = {}
        self._gauge_keys: set[str] = set()
        self._sources: list[Callable[[], Iterable[Reading]]] = []

    # -- the port ---------------------------------------------------------------------------------

    def counter(self, metric: Metric, *labels: str) -> _Counter:
        """The bound child of a counter."""
        child: _Counter = self._child(metric, labels, COUNTER)
        return child

    def histogram(self, metric: Metric, *labels: str) -> _Histogram:
        """The bound child of a histogram."""
        child: _Histogram = self._child(metric, labels, HISTOGRAM)
        return child

    def count(self, metric: Metric, *labels: str, amount: float = 1.0) -> None:
        """Add to a counter."""
        self.counter(metric, *labels).inc(amount)

    def observe(self, metric: Metric, value: float, *labels: str) -> None:
        """Record into a histogram."""
        self.histogram(metric, *labels).observe(value)

    @property
    def content_type(self) -> bytes:
        """Prometheus text format 0.0.4."""
        return CONTENT_TYPE

    @property
    def tracing(self) -> bool:
        """Whether a tracer exports spans."""
        return self._tracer is not None

    def span(
        self,
        name: str,
        *,
        kind: str,
        attributes: Mapping[str, str | int | float | bool],
        parent: str | None = None,
        start_ns: int | None = None,
    ) -> Span:
        """A span of the tracer, or a no-op span when tracing is off."""
        if self._tracer is None:
            return NO_SPAN
        return self._tracer.span(name, kind=kind, attributes=attributes, parent=parent, start_ns=start_ns)

    # -- collection ---------------------------------------------------------------------------------

    def watch(self, source: Callable[[], Iterable[Reading]]) -> None:
        """Read ``source``'s gauges (this process's, e.g. pool usage) at every flush and scrape."""
        self._sources.append(source)

    def _child(self, metric: Metric, labels: tuple[str, ...], kind: str) -> Any:
        family = self._families.get(metric.name)
        if family is None:
            family = self._families[metric.name] = (metric, {})
        children = family[1]
        child = children.get(labels)
        if child is None:
            if metric.kind != kind:
                raise ValueError(f"{metric.name} is a {metric.kind}, not a {kind}")
            if len(labels) != len(metric.labels):
                raise ValueError(f"{metric.name} takes labels {metric.labels}, got {labels}")
            child = _Counter() if kind == COUNTER else _Histogram(metric.buckets)
            children[labels] = child
        return child

    def exposition(self, readings: Iterable[Reading] = ()) -> bytes:
        """Every metric in Prometheus text format: this process's (or every worker's, merged) plus
        ``readings`` — cluster-wide gauges read by the caller — and the build info."""
        if self._dir is not None:
            self.flush()
            metrics: list[PromMetric] = list(MultiProcessCollector(None, path=str(self._dir)).collect())
        else:
            metrics = list(self._memory_metrics())
            metrics.extend(_gauges(reading for source in self._sources for reading in source()))
        build = Reading(BUILD_INFO, (__version__, sys.version.split()[0]), 1.0)
        metrics.extend(_gauges([*readings, build]))
        return bytes(generate_latest(_Collected(metrics)))

    def _memory_metrics(self) -> Iterator[PromMetric]:
        for metric, children in self._families.values():
            if metric.kind == COUNTER:
                counter = CounterMetricFamily(metric.name, metric.help, labels=metric.labels)
                for labels, child in children.items():
                    counter.add_metric(labels, child.value)
                yield counter
            else:
                histogram = HistogramMetricFamily(metric.name, metric.help, labels=metric.labels)
                for labels, child in children.items():
                    cumulative, buckets = 0, []
                    for bound, count in zip((*child.bounds, float("inf")), child.counts, strict=True):
                        cumulative += count
                        buckets.append((floatToGoString(bound), cumulative))
                    histogram.add_metric(labels, buckets, child.sum)
                yield histogram

    # -- multiprocess files -------------------------------------------------------------------------

    def flush(self) -> None:
        """Write this process's totals into its multiprocess files (nothing in single-process mode)."""
        if self._dir is None:
            return
        for metric, children in self._families.values():
            if metric.kind == COUNTER:
                counters = self._file("counter")
                for labels, child in children.items():
                    if child.value != child.flushed:
                        if not child.keys:
                            child.keys = (_key(metric, metric.name + "_total", labels),)
                        counters.write_value(child.keys[0], child.value, 0.0)
                        child.flushed = child.value
            else:
                histograms = self._file("histogram")
                for labels, child in children.items():
                    total = sum(child.counts)
                    if total == child.flushed:
                        continue
                    if not child.keys:
                        child.keys = _histogram_keys(metric, labels)
                    for key, count in zip(child.keys, child.counts, strict=False):
                        histograms.write_value(key, float(count), 0.0)
                    histograms.write_value(child.keys[-1], child.sum, 0.0)
                    child.flushed = total
        self._flush_gauges()

    def _flush_gauges(self) -> None:
        if not self._sources:
            return
        gauges = self._file(_GAUGE_FILE)
        written = set()
        for source in self._sources:
            for reading in source():
                key = _key(reading.metric, reading.metric.name, reading.labels)
                gauges.write_value(key, reading.value, 0.0)
                written.add(key)
        for gone in self._gauge_keys - written:  # e.g. a connector pool closed since the last flush
            gauges.write_value(gone, 0.0, 0.0)
        self._gauge_keys = written

    def _file(self, prefix: str) -> MmapedDict:
        opened = self._files.get(prefix)
        if opened is None:
            assert self._dir is not None
            opened = self._files[prefix] = MmapedDict(str(self._dir / f"{prefix}_{self._pid}.db"))
        return opened

    def close(self) -> None:
        """Flush, close the files and the tracer."""
        self.flush()
        for opened in self._files.values():
            opened.close()
        self._files.clear()
        if self._tracer is not None:
            self._tracer.close()


def _key(metric: Metric, sample: str, labels: tuple[str, ...], extra: tuple[str, str] | None = None) -> str:
    names, values = list(metric.labels), list(labels)
    if extra is not None:
        names.append(extra[0])
        values.append(extra[1])
    return str(mmap_key(metric.name, sample, names, values, metric.help))


def _histogram_keys(metric: Metric, labels: tuple[str, ...]) -> tuple[str, ...]:
    bucket = metric.name + "_bucket"
    keys = [_key(metric, bucket, labels, ("le", floatToGoString(b))) for b in (*metric.buckets, float("inf"))]
    keys.append(_key(metric, metric.name + "_sum", labels))
    return tuple(keys)


def _gauges(readings: Iterable[Reading]) -> list[PromMetric]:
    families: dict[str, GaugeMetricFamily] = {}
    for reading in readings:
        metric = reading.metric
        if metric.kind != GAUGE:
            raise ValueError(f"{metric.name} is not a gauge")
        family = families.get(metric.name)
        if family is None:
            family = families[metric.name] = GaugeMetricFamily(metric.name, metric.help, labels=metric.labels)
        family.add_metric(reading.labels, reading.value)
    return list(families.values())


class _Collected:
    """The metrics of one scrape, in the shape prometheus-client's exposition reads."""

    def __init__(self, metrics: list[PromMetric]) -> None:
        self._metrics = metrics

    def collect(self) -> list[PromMetric]:
        return self._metrics


def prepare_multiprocess_dir(path: Path) -> None:
    """Empty ``path`` of earlier runs' files (created private when missing)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for old in path.glob("*.db"):
        old.unlink()


def forget_process(path: Path, pid: int) -> None:
    """A worker died: its gauges stop counting (its counters and histograms still do)."""
    mark_process_dead(pid, str(path))
