"""Profile and stats for this node, fed by the predict path.

ml-commons: MLProfileTransportAction, MLStatsNodesTransportAction.
"""

from __future__ import annotations

import httpx
import pytest

from mlgate.bootstrap import Node
from mlgate.mockprovider import MockProvider
from mlgate.services.stats import latency_summary
from tests.engine.support import MESSAGES, ML, chat_connector, chat_path, deploy_model, predict

BODY = {"parameters": {"messages": MESSAGES}}


def test_latency_summary_uses_nearest_rank() -> None:
    summary = latency_summary(float(v) for v in range(1, 101))
    assert summary == {
        "count": 100,
        "max": 100.0,
        "min": 1.0,
        "average": 50.5,
        "p50": 50.0,
        "p90": 90.0,
        "p99": 99.0,
    }
    assert latency_summary([]) is None
    assert latency_summary([7.0]) == {
        "count": 1,
        "max": 7.0,
        "min": 7.0,
        "average": 7.0,
        "p50": 7.0,
        "p90": 7.0,
        "p99": 7.0,
    }


async def test_profile_of_deployed_models(
    loopback: httpx.AsyncClient, provider: MockProvider, node: Node
) -> None:
    assert (await loopback.get(f"{ML}/profile")).json() == {}
    model_id = await deploy_model(loopback, chat_connector(provider.url + chat_path()))
    other_id = await deploy_model(loopback, chat_connector(provider.url + chat_path()))
    for _ in range(3):
        assert (await predict(loopback, model_id, BODY)).status_code == 200
    node_id = node.services.env.node_id
    everything = (await loopback.get(f"{ML}/profile/models")).json()
    models = everything["nodes"][node_id]["models"]
    assert set(models) == {model_id, other_id}
    profile = models[model_id]
    assert profile["model_state"] == "DEPLOYED"
    assert profile["target_worker_nodes"] == profile["worker_nodes"] == [node_id]
    assert profile["predictor"].startswith("org.opensearch.ml.engine.algorithms.remote.RemoteModel@")
    for key in ("model_inference_stats", "predict_request_stats"):
        stats = profile[key]
        assert stats["count"] == 3 and stats["min"] <= stats["p50"] <= stats["p99"] <= stats["max"]
    # The whole predict includes the remote part.
    assert profile["predict_request_stats"]["max"] >= profile["model_inference_stats"]["min"]
    assert "predict_request_stats" not in models[other_id]
    one = (await loopback.get(f"{ML}/profile/models/{other_id}")).json()
    assert set(one["nodes"][node_id]["models"]) == {other_id}
    by_model = (await loopback.get(f"{ML}/profile/models/{model_id},{other_id}?view=model")).json()
    assert set(by_model["models"]) == {model_id, other_id}
    assert by_model["models"][model_id]["nodes"][node_id]["model_state"] == "DEPLOYED"
    assert (await loopback.get(f"{ML}/profile/tasks")).json() == {}
    assert (await loopback.get(f"{ML}/profile/models/unknown")).json() == {}
    # Undeployed models drop out of the profile.
    assert (await loopback.post(f"{ML}/models/{other_id}/_undeploy")).status_code == 200
    remaining = (await loopback.get(f"{ML}/profile")).json()["nodes"][node_id]["models"]
    assert set(remaining) == {model_id}


async def test_stats_count_requests_and_only_server_side_failures(
    loopback: httpx.AsyncClient, provider: MockProvider, node: Node
) -> None:
    ok_model = await deploy_model(loopback, chat_connector(provider.url + chat_path()))
    failing = await deploy_model(loopback, chat_connector(f"{provider.url}{chat_path()}?mock_status=503"))
    user_error = await deploy_model(loopback, chat_connector(f"{provider.url}{chat_path()}?mock_status=400"))
    answered = await predict(loopback, ok_model, BODY)
    assert answered.status_code == 200
    usage = answered.json()["inference_results"][0]["output"][0]["dataAsMap"]["usage"]
    assert (await predict(loopback, failing, BODY)).status_code == 503
    assert (await predict(loopback, user_error, BODY)).status_code == 400
    # An input error (missing parameter) is the caller's: counted as a request, not as a failure.
    assert (await predict(loopback, ok_model, {"parameters": {}})).status_code == 400
    stats = (await loopback.get(f"{ML}/stats")).json()
    assert stats["ml_model_count"] == 3 and stats["ml_model_index_status"] == "green"
    assert stats["ml_connector_count"] == 0 and stats["ml_connector_index_status"] == "non-existent"
    node_stats = stats["nodes"][node.services.env.node_id]
    assert node_stats["ml_request_count"] == 4
    assert node_stats["ml_failure_count"] == 1
    assert node_stats["ml_deployed_model_count"] == 3
    assert node_stats["algorithms"]["remote"]["predict"] == {
        "ml_action_request_count": 4,
        "ml_action_failure_count": 1,
    }
    # mlgate adds the tokens the provider reported (the mock's OpenAI usage).
    assert node_stats["models"][ok_model]["predict"] == {
        "ml_action_request_count": 2,
        "ml_action_failure_count": 0,
        "ml_action_input_token_count": usage["prompt_tokens"],
        "ml_action_output_token_count": usage["completion_tokens"],
    }
    assert node_stats["models"][failing]["predict"] == {
        "ml_action_request_count": 1,
        "ml_action_failure_count": 1,
    }


@pytest.mark.parametrize("prefix", ["", "/_local", "/_all"])
async def test_stats_filters(client: httpx.AsyncClient, node: Node, prefix: str) -> None:
    node_id = node.services.env.node_id
    one = (await client.get(f"{ML}{prefix}/stats/ml_request_count,ml_model_count")).json()
    assert one == {"ml_model_count": 0, "nodes": {node_id: {"ml_request_count": 0}}}
    assert set((await client.get(f"{ML}{prefix}/stats")).json()["nodes"]) == {node_id}


async def test_stats_for_another_node_has_no_node_values(client: httpx.AsyncClient, node: Node) -> None:
    other = (await client.get(f"{ML}/not-this-node/stats")).json()
    assert "nodes" not in other and other["ml_model_count"] == 0
    by_id = (await client.get(f"{ML}/{node.services.env.node_id}/stats/ml_deployed_model_count")).json()
    assert by_id == {"nodes": {node.services.env.node_id: {"ml_deployed_model_count": 0}}}
