"""``mlgate serve --workers 2``: every change made through one worker is seen by all of them.

Each request below opens a new connection, so the kernel spreads them over both workers; a worker with
a stale view would answer some of the 20 probes wrongly.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.api.fixtures import chat_connector
from tests.cluster.conftest import call, eventually, start_node
from tests.cluster.test_multinode import MESSAGES
from tests.conftest import LOOPBACK_TRUSTED
from tests.smoke.conftest import Process

PROBES = 20


def children_of(pid: int) -> list[int]:
    """Child process ids, read from /proc."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def all_probes(check: Callable[[], bool]) -> bool:
    """``check`` holds for every one of PROBES fresh connections."""
    return all(check() for _ in range(PROBES))


def test_changes_reach_every_worker(
    nodes_dir: Path, processes: list[Process], mock_provider_process: Process
) -> None:
    server = start_node(nodes_dir, "workers", ["--workers", "2"])
    processes.append(server)
    eventually(lambda: len(children_of(server.proc.pid)) == 2, what="two workers")
    base = server.url
    provider = mock_provider_process.url

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
    eventually(
        lambda: all_probes(
            lambda: (
                call(base, "GET", "/_cluster/settings?flat_settings=true")[1]["persistent"].get(
                    "plugins.ml_commons.connector.private_ip_enabled"
                )
                == "true"
            )
        ),
        what="settings on every worker",
    )

    status, created = call(base, "POST", "/_plugins/_ml/connectors/_create", chat_connector(provider))
    connector_id = created["connector_id"]
    status, registered = call(
        base,
        "POST",
        "/_plugins/_ml/models/_register?deploy=true",
        {
            "name": "workers-chat",
            "function_name": "remote",
            "connector_id": connector_id,
            "deploy_setting": {"is_auto_deploy_enabled": False},
        },
    )
    assert status == 200, registered
    model_id = registered["model_id"]

    def predict_status() -> int:
        return call(
            base, "POST", f"/_plugins/_ml/models/{model_id}/_predict", {"parameters": {"messages": MESSAGES}}
        )[0]

    eventually(lambda: all_probes(lambda: predict_status() == 200), what="deployed on every worker")

    # Credential rotation while deployed: every worker switches to the new secret.
    status, _ = call(
        base,
        "PUT",
        f"/_plugins/_ml/connectors/{connector_id}",
        {"credential": {"openAI_key": "sk-rotated-2"}},
    )
    assert status == 200

    def authorizations() -> set[str]:
        for _ in range(PROBES):
            assert predict_status() == 200
        with urllib.request.urlopen(
            f"{provider}/_mock/requests?limit={PROBES}&path=/v1/chat/completions"
        ) as r:
            seen = json.loads(r.read())["requests"]
        return {req["headers"].get("Authorization", "") for req in seen}

    eventually(
        lambda: authorizations() == {"Bearer sk-rotated-2"},
        what="rotated credential everywhere",
    )

    # Undeploy through one worker: no worker serves the model any more.
    status, _ = call(base, "POST", f"/_plugins/_ml/models/{model_id}/_undeploy")
    assert status == 200
    eventually(lambda: all_probes(lambda: predict_status() == 400), what="undeployed everywhere")
