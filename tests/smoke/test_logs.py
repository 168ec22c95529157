"""``mlgate serve --log-format json``: every log line is a JSON object, the access log included."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import TEST_MASTER_KEY
from tests.smoke.conftest import ADMIN_PASSWORD, free_port, start, stop


def test_json_log_lines(tmp_path: Path) -> None:
    port = free_port()
    env = dict(
        os.environ,
        MLGATE_PORT=str(port),
        MLGATE_DATA_DIR=str(tmp_path / "data"),
        MLGATE_MASTER_KEY=TEST_MASTER_KEY,
        MLGATE_INITIAL_ADMIN_PASSWORD=ADMIN_PASSWORD,
    )
    log = tmp_path / "serve.log"
    server = start(["serve", "--log-format", "json"], f"http://127.0.0.1:{port}/", port, log, env)
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/_cluster/health?pretty", headers={"X-Opaque-Id": "smoke-health"}
        )
        try:
            urllib.request.urlopen(request, timeout=30)
        except urllib.error.HTTPError as refused:  # no credentials: 401, logged all the same
            assert refused.code == 401
    finally:
        stop(server)  # a clean stop writes out the buffered access lines
    # stdout (the login hint, printed once) shares the file; every log line is JSON.
    logged = [line for line in log.read_text().splitlines() if line and not line.startswith(("mlgate:", " "))]
    records = [json.loads(line) for line in logged]
    assert any(r.get("logger", "").startswith("uvicorn") for r in records)
    (access,) = [r for r in records if r.get("type") == "access" and r["request_id"] == "smoke-health"]
    assert (access["method"], access["path"], access["status"]) == ("GET", "/_cluster/health", 401)
    assert ADMIN_PASSWORD not in log.read_text()
