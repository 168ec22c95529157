"""docs/observability.md and the Grafana dashboard name only metrics mlgate exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from mlgate.domain import telemetry as tm

DOCS = Path(__file__).resolve().parents[2] / "docs"
SUFFIXES = ("_total", "_bucket", "_count", "_sum")


def exported() -> set[str]:
    names = set()
    for value in vars(tm).values():
        if isinstance(value, tm.Metric):
            names.add(value.name)
            names.update(value.name + suffix for suffix in SUFFIXES)
    return names


def referenced(text: str) -> set[str]:
    return set(re.findall(r"\b(?:mlgate_[a-z_]+|ml_commons_[a-z_]+|gen_ai_client_[a-z_]+)", text))


def test_dashboard_queries_use_exported_metrics() -> None:
    dashboard = json.loads((DOCS / "grafana" / "mlgate-dashboard.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert len(expressions) >= 10
    used = set().union(*(referenced(expr) for expr in expressions))
    assert used and used <= exported(), used - exported()


def test_the_page_documents_every_metric_and_no_other() -> None:
    text = (DOCS / "observability.md").read_text()
    named = referenced(text)
    assert named <= exported(), named - exported()
    for value in vars(tm).values():
        if isinstance(value, tm.Metric):
            assert value.name in text, value.name
