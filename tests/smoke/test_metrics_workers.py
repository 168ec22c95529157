"""``mlgate serve --workers 2``: ``/_prometheus/metrics`` adds up every worker's predicts and tokens.

Each request opens a new connection, so the kernel spreads them over the workers; whichever worker
answers the scrape merges every worker's multiprocess files (each worker writes its own every second,
so the totals are awaited with a bound rather than read once).
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.api.fixtures import chat_connector
from tests.cluster.conftest import AUTH, call, eventually, start_node
from tests.cluster.test_multinode import MESSAGES
from tests.cluster.test_workers import children_of
from tests.conftest import LOOPBACK_TRUSTED
from tests.smoke.conftest import Process, stop

PREDICTS = 30


def scrape(base: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` with these labels, as one worker answers the scrape."""
    request = urllib.request.Request(base + "/_prometheus/metrics", headers={"Authorization": AUTH})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and labels.items() <= s.labels.items()
    )


def test_metrics_add_up_across_workers(tmp_path: Path, mock_provider_process: Process) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"left over from an earlier run")
    server = start_node(tmp_path, "metrics", ["--workers", "2"], PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    try:
        eventually(lambda: len(children_of(server.proc.pid)) == 2, within_s=10, what="two workers")
        base = server.url
        status, _ = call(
            base,
            "PUT",
            "/_cluster/settings",
            {
                "persistent": {
                    "plugins.ml_commons.trusted_connector_endpoints_regex": [LOOPBACK_TRUSTED],
                    "plugins.ml_commons.connector.private_ip_enabled": True,
                }
            },
        )
        assert status == 200
        connector = chat_connector(mock_provider_process.url)
        status, registered = call(
            base,
            "POST",
            "/_plugins/_ml/models/_register?deploy=true",
            {"name": "metrics-chat", "function_name": "remote", "connector": connector},
        )
        assert status == 200, registered
        model_id = registered["model_id"]

        def served_everywhere() -> bool:
            # A worker's profile lists the models it has loaded: ask 20 fresh connections.
            return all(
                model_id in str(call(base, "GET", f"/_plugins/_ml/profile/models/{model_id}")[1])
                for _ in range(20)
            )

        eventually(served_everywhere, within_s=10, what="deployed on every worker")
        input_tokens = 0
        for _ in range(PREDICTS):
            status, answer = call(
                base,
                "POST",
                f"/_plugins/_ml/models/{model_id}/_predict",
                {"parameters": {"messages": MESSAGES}},
            )
            assert status == 200, answer
            input_tokens += answer["inference_results"][0]["output"][0]["dataAsMap"]["usage"]["prompt_tokens"]

        count = "ml_commons_model_predict_count_total"
        eventually(
            lambda: scrape(base, count, model_id=model_id) == PREDICTS,
            within_s=30,
            what=f"{PREDICTS} predicts counted over both workers",
        )
        tokens = "mlgate_tokens_total"
        assert scrape(base, tokens, model_id=model_id, user="admin", type="input") == input_tokens
        # Both workers write their own files; the stale one from before the start was removed.
        eventually(
            lambda: len(list(metrics_dir.glob("counter_*.db"))) == 2, within_s=10, what="one file per worker"
        )
        assert not (metrics_dir / "counter_1.db").exists()
    finally:
        stop(server)
