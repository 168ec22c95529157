"""Profile and stats of the whole cluster: two ``mlgate serve`` nodes on one PostgreSQL.

ml-commons: MLProfileTransportAction, MLStatsNodesTransportAction; docs/deployment.md.

Whichever node receives ``/_plugins/_ml/profile`` or ``/stats`` asks the other for its part over the
node-to-node routes, so both answers list both nodes, each with its own counters; a node that does not
answer in time (frozen with SIGSTOP) is left out of the answer and named in the log.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.api.fixtures import chat_connector
from tests.cluster.conftest import call, eventually, node_env
from tests.cluster.test_multinode import MESSAGES
from tests.conftest import LOOPBACK_TRUSTED
from tests.smoke.conftest import Process, free_port, start

ML = "/_plugins/_ml"


def start_slow_expiry_node(tmp: Path, name: str, store_url: str) -> Process:
    """A node whose peers' heartbeats expire only after a minute: a frozen node stays "live", so the
    gathering node must rely on its own time limit to leave it out."""
    port = free_port()
    env = node_env(tmp, name, MLGATE_PORT=str(port))
    env["MLGATE_HEARTBEAT_EXPIRY_MS"] = "60000"
    process = start(
        ["serve", "--store", store_url],
        f"http://127.0.0.1:{port}/_cluster/health",
        port,
        tmp / f"{name}.log",
        env,
    )
    process.url = f"http://127.0.0.1:{port}"
    return process


@contextmanager
def frozen(process: Process) -> Iterator[None]:
    """SIGSTOP the process (it keeps its socket but answers nothing) and SIGCONT it afterwards."""
    os.kill(process.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(process.proc.pid, signal.SIGCONT)


def predict(base: str, model_id: str) -> tuple[int, int]:
    """One predict; the (input, output) tokens the provider reported."""
    status, result = call(
        base, "POST", f"{ML}/models/{model_id}/_predict", {"parameters": {"messages": MESSAGES}}
    )
    assert status == 200, result
    usage = result["inference_results"][0]["output"][0]["dataAsMap"]["usage"]
    return usage["prompt_tokens"], usage["completion_tokens"]


def deploy_on_both(a: Process, b: Process, provider: str) -> str:
    """Trust the loopback provider, create a connector and a model on A, deploy it to both nodes."""
    settings = {
        "persistent": {
            "plugins.ml_commons.trusted_connector_endpoints_regex": [LOOPBACK_TRUSTED],
            "plugins.ml_commons.connector.private_ip_enabled": True,
        }
    }
    assert call(a.url, "PUT", "/_cluster/settings", settings)[0] == 200
    status, created = call(a.url, "POST", f"{ML}/connectors/_create", chat_connector(provider))
    assert status == 200, created
    status, registered = call(
        a.url,
        "POST",
        f"{ML}/models/_register",
        {"name": "stats-chat", "function_name": "remote", "connector_id": created["connector_id"]},
    )
    assert status == 200, registered
    model_id = str(registered["model_id"])
    status, deployed = call(b.url, "POST", f"{ML}/models/{model_id}/_deploy")
    assert status == 200 and deployed["status"] == "COMPLETED", deployed
    return model_id


def test_profile_and_stats_list_every_node_with_its_own_counters(
    nodes_dir: Path, processes: list[Process], pg_url: str, mock_provider_process: Process
) -> None:
    a = start_slow_expiry_node(nodes_dir, "node-a", pg_url)
    processes.append(a)
    b = start_slow_expiry_node(nodes_dir, "node-b", pg_url)
    processes.append(b)
    a_id = call(a.url, "GET", "/")[1]["cluster_uuid"]
    b_id = call(b.url, "GET", "/")[1]["cluster_uuid"]
    assert a_id != b_id
    both = {a_id, b_id}
    for process in (a, b):
        eventually(
            lambda p=process: set(call(p.url, "GET", "/_nodes")[1]["nodes"]) == both,
            what="both nodes seen",
        )
    model_id = deploy_on_both(a, b, mock_provider_process.url)
    status, model = call(a.url, "GET", f"{ML}/models/{model_id}")
    assert sorted(model["planning_worker_nodes"]) == sorted(both), model

    # Both nodes serve the model, so each answers its own predicts: 2 on A, 3 on B.
    tokens = {a.url: [0, 0], b.url: [0, 0]}
    for base in (a.url, b.url, a.url, b.url, b.url):
        used = predict(base, model_id)
        tokens[base][0] += used[0]
        tokens[base][1] += used[1]

    # Stats from either node: the cluster values once, each node's own counters under its id.
    for process in (a, b):
        status, stats = call(process.url, "GET", f"{ML}/stats")
        assert status == 200, stats
        assert stats["ml_model_count"] == 1 and stats["ml_connector_count"] == 1
        assert set(stats["nodes"]) == both
        for node_id, count, used in ((a_id, 2, tokens[a.url]), (b_id, 3, tokens[b.url])):
            node = stats["nodes"][node_id]
            assert node["ml_request_count"] == count and node["ml_failure_count"] == 0
            assert node["ml_deployed_model_count"] == 1
            assert node["models"][model_id]["predict"] == {
                "ml_action_request_count": count,
                "ml_action_failure_count": 0,
                "ml_action_input_token_count": used[0],
                "ml_action_output_token_count": used[1],
            }
            assert "ml_model_count" not in node
    # Named nodes (by id or by name), filtered stats, _local; an unknown node gives no node values.
    assert call(a.url, "GET", f"{ML}/{b_id}/stats/ml_request_count")[1] == {
        "nodes": {b_id: {"ml_request_count": 3}}
    }
    assert call(b.url, "GET", f"{ML}/node-a,node-b/stats/ml_request_count,ml_model_count")[1] == {
        "ml_model_count": 1,
        "nodes": {a_id: {"ml_request_count": 2}, b_id: {"ml_request_count": 3}},
    }
    assert set(call(b.url, "GET", f"{ML}/_local/stats")[1]["nodes"]) == {b_id}
    assert "nodes" not in call(a.url, "GET", f"{ML}/no-such-node/stats")[1]

    # Profile, node view, from either node: both nodes, each with its own latencies.
    eventually(
        lambda: all(
            sorted(p["worker_nodes"]) == sorted(both)
            for process in (a, b)
            for p in (
                call(process.url, "GET", f"{ML}/profile/models")[1]["nodes"][n]["models"][model_id]
                for n in both
            )
        ),
        what="every node's profile lists both workers",
    )
    for process in (a, b):
        status, profile = call(process.url, "GET", f"{ML}/profile")
        assert status == 200 and set(profile["nodes"]) == both, profile
        for node_id, count in ((a_id, 2), (b_id, 3)):
            one = profile["nodes"][node_id]["models"][model_id]
            assert one["model_state"] == "DEPLOYED"
            assert sorted(one["target_worker_nodes"]) == sorted(both)
            assert one["predict_request_stats"]["count"] == count
            assert one["model_inference_stats"]["count"] == count
    # Model view: one entry per model, the cluster's plan and workers, and every node's profile.
    status, by_model = call(b.url, "GET", f"{ML}/profile/models/{model_id}?view=model")
    assert status == 200 and set(by_model["models"]) == {model_id}, by_model
    entry = by_model["models"][model_id]
    assert sorted(entry["target_worker_nodes"]) == sorted(entry["worker_nodes"]) == sorted(both)
    assert {n: p["predict_request_stats"]["count"] for n, p in entry["nodes"].items()} == {a_id: 2, b_id: 3}
    # node_ids in the body narrow the profile to those nodes; task profiles stay empty.
    status, only_b = call(a.url, "GET", f"{ML}/profile", {"node_ids": [b_id]})
    assert set(only_b["nodes"]) == {b_id}
    assert call(a.url, "GET", f"{ML}/profile/tasks")[1] == {}

    # The node-to-node routes are closed to users, however privileged.
    for route in ("profile", "stats"):
        status, refused = call(a.url, "GET", f"/_plugins/_mlgate/_internal/{route}")
        assert status == 403 and refused["error"]["type"] == "security_exception"

    # B frozen: still "live" by its heartbeat, but it answers nothing; A answers with itself only and
    # says in its log that B was left out.
    with frozen(b):
        status, stats = call(a.url, "GET", f"{ML}/stats")
        assert status == 200 and set(stats["nodes"]) == {a_id}, stats
        assert stats["ml_model_count"] == 1
        status, profile = call(a.url, "GET", f"{ML}/profile")
        assert status == 200 and set(profile["nodes"]) == {a_id}, profile
    eventually(
        lambda: any(
            "left out" in line and b_id in line for line in a.log.read_text(errors="replace").splitlines()
        ),
        what="A logs that B was left out",
    )
    # B thawed: it is asked again and answers.
    eventually(
        lambda: set(call(a.url, "GET", f"{ML}/stats")[1].get("nodes", {})) == both,
        what="B answers again",
    )
