"""docs/api.md lists every route the server serves."""

from __future__ import annotations

from pathlib import Path

from mlgate.api.routes import ROUTES

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_every_route_is_documented() -> None:
    text = DOC.read_text()
    missing = [f"{r.method} {r.path}" for r in ROUTES if f"`{r.method} {r.path}`" not in text]
    assert missing == []
