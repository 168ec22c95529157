"""``mlgate serve --workers 2``: each worker caches logins and authorization answers; a security change
made through one worker reaches every worker (the change feed, kind ``security``)."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from pathlib import Path

from tests.cluster.conftest import call, eventually, start_node
from tests.cluster.test_workers import all_probes, children_of
from tests.smoke.conftest import Process

PASSWORD = "Juniper-Cobalt-Meadow-4471"
ROTATED = "Heron-Basalt-Lantern-9382"
SEARCH = "/_plugins/_ml/models/_search"


def status_as(base: str, user: str, password: str, method: str, path: str) -> int:
    """One request as ``user`` on a new connection (so the kernel spreads them over the workers)."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request = urllib.request.Request(
        base + path,
        data=b"{}" if method == "POST" else None,
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as err:
        err.read()
        return err.code


def test_security_changes_reach_every_worker(nodes_dir: Path, processes: list[Process]) -> None:
    server = start_node(nodes_dir, "secure-workers", ["--workers", "2"])
    processes.append(server)
    eventually(lambda: len(children_of(server.proc.pid)) == 2, what="two workers")
    base = server.url
    api = "/_plugins/_security/api"

    status, body = call(base, "PUT", f"{api}/internalusers/hana", {"password": PASSWORD})
    assert status in (200, 201), body
    eventually(
        lambda: all_probes(lambda: status_as(base, "hana", PASSWORD, "POST", SEARCH) == 403),
        what="new user known (and cached) on every worker",
    )

    status, body = call(base, "PUT", f"{api}/rolesmapping/ml_full_access", {"users": ["hana"]})
    assert status in (200, 201), body
    eventually(
        lambda: all_probes(lambda: status_as(base, "hana", PASSWORD, "POST", SEARCH) == 200),
        what="mapping change on every worker",
    )

    # Last, because wrong passwords feed the login throttle (per worker): once a worker has refused the
    # old password often enough it answers 429 for this user and address, which it can only do after
    # it dropped its cached login.
    status, body = call(base, "PUT", f"{api}/internalusers/hana", {"password": ROTATED})
    assert status == 200, body
    eventually(
        lambda: all_probes(lambda: status_as(base, "hana", PASSWORD, "POST", SEARCH) in (401, 429)),
        what="old password refused on every worker",
    )
