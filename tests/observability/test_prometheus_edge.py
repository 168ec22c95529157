"""The Prometheus telemetry on its own: in-memory exposition, and the multiprocess files that let
``--workers`` add up (two telemetries with different process ids stand for two workers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.domain import telemetry as tm
from mlgate.telemetry.prometheus import PrometheusTelemetry, forget_process, prepare_multiprocess_dir
from tests.observability.support import Scrape

POOL = tm.Reading(tm.POOL_IN_USE, ("connector:c1",), 3.0)


def record(telemetry: PrometheusTelemetry, predicts: int, latency_ms: float) -> None:
    count = telemetry.counter(tm.PREDICT_COUNT, "m1", "remote", "openai", "REMOTE", "gpt", "llm")
    latency = telemetry.histogram(tm.PREDICT_LATENCY, "m1", "remote", "openai", "REMOTE", "gpt", "llm")
    for _ in range(predicts):
        count.inc()
        latency.observe(latency_ms)


def test_memory_exposition_has_counts_buckets_and_gauges() -> None:
    telemetry = PrometheusTelemetry()
    telemetry.watch(lambda: [POOL])
    record(telemetry, 3, 7.0)
    telemetry.observe(tm.PREDICT_LATENCY, 5000.0, "m1", "remote", "openai", "REMOTE", "gpt", "llm")
    metrics = Scrape(telemetry.exposition([tm.Reading(tm.MODELS, ("DEPLOYED",), 2.0)]).decode())
    assert metrics.value("ml_commons_model_predict_count_total", model_id="m1") == 3
    bucket = "ml_commons_model_predict_latency_milliseconds_bucket"
    assert metrics.value(bucket, model_id="m1", le="5.0") == 0
    assert metrics.value(bucket, model_id="m1", le="10.0") == 3
    assert metrics.value(bucket, model_id="m1", le="5000.0") == 4  # a bucket holds values <= le
    assert metrics.value(bucket, model_id="m1", le="+Inf") == 4
    assert metrics.value("ml_commons_model_predict_latency_milliseconds_sum", model_id="m1") == 5021.0
    assert metrics.value("mlgate_pool_connections_in_use", connector="connector:c1") == 3
    assert metrics.value("mlgate_models", state="DEPLOYED") == 2


def test_wrong_labels_or_kind_are_refused() -> None:
    telemetry = PrometheusTelemetry()
    with pytest.raises(ValueError, match="takes labels"):
        telemetry.counter(tm.THROTTLED, "m1")
    with pytest.raises(ValueError, match="is a counter"):
        telemetry.histogram(tm.THROTTLED, "m1", "model")


def test_workers_add_up_through_the_multiprocess_directory(tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    prepare_multiprocess_dir(folder)
    first = PrometheusTelemetry(multiprocess_dir=folder, process_id=101)
    second = PrometheusTelemetry(multiprocess_dir=folder, process_id=102)
    for worker in (first, second):
        worker.watch(lambda: [POOL])
    record(first, 2, 7.0)
    record(second, 5, 700.0)
    second.flush()  # the other worker's periodic flush; the scraping one flushes itself
    metrics = Scrape(first.exposition().decode())
    assert metrics.value("ml_commons_model_predict_count_total", model_id="m1") == 7
    bucket = "ml_commons_model_predict_latency_milliseconds_bucket"
    assert metrics.value(bucket, model_id="m1", le="10.0") == 2
    assert metrics.value(bucket, model_id="m1", le="1000.0") == 7
    assert metrics.value("ml_commons_model_predict_latency_milliseconds_count", model_id="m1") == 7
    assert metrics.value("mlgate_pool_connections_in_use", connector="connector:c1") == 6
    # More traffic: a later flush carries the new totals, nothing is counted twice.
    record(second, 1, 7.0)
    second.flush()
    second.flush()
    metrics = Scrape(first.exposition().decode())
    assert metrics.value("ml_commons_model_predict_count_total", model_id="m1") == 8
    # A dead worker's counts stay; its gauges go.
    second.close()
    forget_process(folder, 102)
    metrics = Scrape(first.exposition().decode())
    assert metrics.value("ml_commons_model_predict_count_total", model_id="m1") == 8
    assert metrics.value("mlgate_pool_connections_in_use", connector="connector:c1") == 3
    first.close()
    # A new serve run starts from nothing.
    prepare_multiprocess_dir(folder)
    assert list(folder.glob("*.db")) == []
