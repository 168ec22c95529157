"""Three ``mlgate serve`` nodes on one PostgreSQL, one of them data-only (issue: several nodes).

Create on one node, read on another; deploy plans the ML nodes (``only_run_on_ml_node``); predict
works through every node, the data-only one forwarding; kill -9 a worker: its heartbeat expires, it
leaves the model's plan, its tasks fail, predicts still succeed and nothing acknowledged is lost;
an undeploy on one node reaches the forwarding node's in-memory view of the model; a
model controller's per-user limit applies to predicts forwarded by another node.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from mlgate.domain import task as task_domain
from mlgate.storage.postgres import PostgresStore
from tests.api.fixtures import chat_connector
from tests.cluster.conftest import call, eventually, kill_hard, start_node
from tests.conftest import LOOPBACK_TRUSTED
from tests.smoke.conftest import Process

MESSAGES = [{"role": "user", "content": "hello cluster"}]


def test_three_nodes(
    nodes_dir: Path, processes: list[Process], pg_url: str, mock_provider_process: Process
) -> None:
    store = ["--store", pg_url]
    a = start_node(nodes_dir, "node-a", [*store, "--roles", "data,ml"])
    processes.append(a)
    b = start_node(nodes_dir, "node-b", [*store, "--roles", "ml"])
    processes.append(b)
    c = start_node(nodes_dir, "node-c", [*store, "--roles", "data"])
    processes.append(c)
    ids = {}
    for process in (a, b, c):
        status, info = call(process.url, "GET", "/")
        assert status == 200
        ids[info["name"]] = info["cluster_uuid"]
    assert len(set(ids.values())) == 3

    eventually(lambda: len(call(c.url, "GET", "/_nodes")[1]["nodes"]) == 3, what="3 nodes seen")

    # Settings and a connector created on A are seen on B.
    status, _ = call(
        a.url,
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
        lambda: (
            call(b.url, "GET", "/_cluster/settings?flat_settings=true")[1]["persistent"].get(
                "plugins.ml_commons.connector.private_ip_enabled"
            )
            == "true"
        ),
        what="settings on B",
    )
    status, created = call(
        a.url,
        "POST",
        "/_plugins/_ml/connectors/_create",
        chat_connector(mock_provider_process.url, name="cluster chat"),
    )
    assert status == 200, created
    connector_id = created["connector_id"]
    status, read = call(b.url, "GET", f"/_plugins/_ml/connectors/{connector_id}")
    assert status == 200 and read["name"] == "cluster chat" and "credential" not in read

    # Register on B, deploy from C (data-only): the plan holds the ML nodes only.
    status, registered = call(
        b.url,
        "POST",
        "/_plugins/_ml/models/_register",
        {
            "name": "cluster-chat",
            "function_name": "remote",
            "connector_id": connector_id,
            "deploy_setting": {"is_auto_deploy_enabled": False},
        },
    )
    assert status == 200, registered
    model_id = registered["model_id"]
    status, deployed = call(c.url, "POST", f"/_plugins/_ml/models/{model_id}/_deploy")
    assert status == 200 and deployed["status"] == "COMPLETED"
    status, task = call(a.url, "GET", f"/_plugins/_ml/tasks/{deployed['task_id']}")
    assert task["state"] == "COMPLETED", task
    assert sorted(task["worker_node"]) == sorted([ids["node-a"], ids["node-b"]])
    status, model = call(a.url, "GET", f"/_plugins/_ml/models/{model_id}")
    assert model["model_state"] == "DEPLOYED"
    assert sorted(model["planning_worker_nodes"]) == sorted([ids["node-a"], ids["node-b"]])
    assert model["current_worker_node_count"] == 2

    # Predict through every node; the data-only node forwards to a worker.
    for process in (a, b, c, c, c):
        status, result = call(
            process.url,
            "POST",
            f"/_plugins/_ml/models/{model_id}/_predict",
            {"parameters": {"messages": MESSAGES}},
        )
        assert status == 200, result
        assert result["inference_results"][0]["output"][0]["dataAsMap"]["object"] == "chat.completion"
    # The internal route is closed to users.
    status, refused = call(c.url, "POST", f"/_plugins/_mlgate/_internal/models/{model_id}/_predict", {})
    assert status == 403 and refused["error"]["type"] == "security_exception"

    # B is running a task when it is killed.
    asyncio.run(_save_running_task(pg_url, ids["node-b"], model_id))
    kill_hard(b)
    eventually(
        lambda: (
            ids["node-b"]
            not in call(a.url, "GET", f"/_plugins/_ml/models/{model_id}")[1]["planning_worker_nodes"]
        ),
        what="B dropped from the plan",
    )
    status, task = call(c.url, "GET", "/_plugins/_ml/tasks/b-was-running")
    assert task["state"] == "FAILED" and ids["node-b"] in task["error"]
    status, model = call(c.url, "GET", f"/_plugins/_ml/models/{model_id}")
    assert model["model_state"] == "DEPLOYED" and model["planning_worker_nodes"] == [ids["node-a"]]
    for process in (a, c):
        status, result = call(
            process.url,
            "POST",
            f"/_plugins/_ml/models/{model_id}/_predict",
            {"parameters": {"messages": MESSAGES}},
        )
        assert status == 200, result
    # Everything acknowledged is still there.
    assert call(c.url, "GET", f"/_plugins/_ml/connectors/{connector_id}")[0] == 200
    names = call(c.url, "GET", "/_cat/nodes?format=json")[1]
    assert sorted(n["name"] for n in names) == ["node-a", "node-c"]

    # C forwards from memory; an undeploy through A must reach that view. A stale view would still
    # forward, and A would answer "not ready"; C itself knows the model may not be auto-deployed.
    status, _ = call(a.url, "POST", f"/_plugins/_ml/models/{model_id}/_undeploy")
    assert status == 200

    def c_answers(status: int, reason: str) -> Callable[[], bool]:
        def check() -> bool:
            got, body = call(
                c.url,
                "POST",
                f"/_plugins/_ml/models/{model_id}/_predict",
                {"parameters": {"messages": MESSAGES}},
            )
            return got == status and body["error"]["reason"].startswith(reason)

        return check

    eventually(c_answers(400, "Auto deployment disabled for this model"), what="C sees the undeploy")

    # A model controller limits the caller on the serving node, also when C forwards the call.
    status, _ = call(a.url, "POST", f"/_plugins/_ml/models/{model_id}/_deploy")
    assert status == 200
    limits = {"user_rate_limiter": {"admin": {"limit": "1", "unit": "HOURS"}}}
    status, _ = call(c.url, "POST", f"/_plugins/_ml/controllers/{model_id}", limits)
    assert status == 200
    eventually(
        c_answers(429, "Request is throttled at user level."),
        what="the user's limit applied to a forwarded predict",
    )


async def _save_running_task(url: str, node_id: str, model_id: str) -> None:
    store = PostgresStore(url)
    await store.open()
    try:
        doc = task_domain.new_task(
            "DEPLOY_MODEL", worker_nodes=[node_id], is_async=True, now=1, model_id=model_id
        )
        doc["state"] = task_domain.RUNNING
        await store.save(task_domain.INDEX, "b-was-running", doc)
    finally:
        await store.close()
