"""docs/api.md lists every route the server serves."""

from __future__ import annotations

from pathlib import Path

from mlgate.api.routes import LEGACY_SEC, LEGACY_SECURITY_ROUTES, ROUTES

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_every_route_is_documented() -> None:
    text = DOC.read_text()
    # The legacy security routes are documented once, as aliases of their /_plugins/_security twins.
    missing = [
        f"{r.method} {r.path}"
        for r in ROUTES
        if r not in LEGACY_SECURITY_ROUTES and f"`{r.method} {r.path}`" not in text
    ]
    assert missing == []
    assert f"`{LEGACY_SEC}`" in text
