"""Smoke layer: the real server process, driven by curl-equivalent requests and opensearch-py."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

from opensearchpy import OpenSearch

from tests.api.fixtures import EMBEDDING_SECRET, embedding_connector
from tests.conftest import LOOPBACK_TRUSTED
from tests.smoke.conftest import ADMIN_PASSWORD, Process


def call(
    method: str, url: str, body: Any = None, auth: tuple[str, str] | None = ("admin", ADMIN_PASSWORD)
) -> tuple[int, Any]:
    """What ``curl -u admin:<password>`` does: one request, JSON in and out."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_cluster_info_and_errors(server: Process) -> None:
    status, info = call("GET", server.url)
    assert status == 200
    assert info["version"]["number"] and info["tagline"] and info["cluster_name"]
    status, health = call("GET", f"{server.url}_cluster/health")
    assert status == 200 and health["status"] == "green"
    status, error = call("GET", f"{server.url}_plugins/_ml/models/doesnotexist")
    assert status == 404
    assert error["error"]["type"] == "status_exception"


def test_opensearch_py_register_deploy_predict_search(
    server: Process, mock_provider_process: Process
) -> None:
    client = OpenSearch(
        hosts=[{"host": "127.0.0.1", "port": server.port}], use_ssl=False, http_auth=("admin", ADMIN_PASSWORD)
    )
    client.cluster.put_settings(
        body={
            "persistent": {
                "plugins.ml_commons.trusted_connector_endpoints_regex": [LOOPBACK_TRUSTED],
                "plugins.ml_commons.connector.private_ip_enabled": True,
            }
        }
    )
    connector = client.plugins.ml.create_connector(body=embedding_connector(mock_provider_process.url))
    registered = client.plugins.ml.register_model(
        body={"name": "openai-embed", "function_name": "remote", "connector_id": connector["connector_id"]}
    )
    model_id = registered["model_id"]
    deployed = client.plugins.ml.deploy_model(model_id=model_id)
    assert deployed["status"] == "COMPLETED"
    assert client.plugins.ml.get_task(task_id=deployed["task_id"])["state"] == "COMPLETED"
    result = client.plugins.ml.predict(
        algorithm_name="text_embedding", model_id=model_id, body={"text_docs": ["hello", "world"]}
    )
    tensors = result["inference_results"][0]["output"]
    assert [t["name"] for t in tensors] == ["sentence_embedding", "sentence_embedding"]
    assert tensors[0]["data_type"] == "FLOAT32" and tensors[0]["shape"] == [len(tensors[0]["data"])]
    found = client.plugins.ml.search_models(body={"query": {"term": {"name.keyword": "openai-embed"}}})
    assert [hit["_id"] for hit in found["hits"]["hits"]] == [model_id]
    counted = client.transport.perform_request(
        "POST",
        "/_plugins/_ml/models/_search",
        body={
            "size": 0,
            "query": {"ids": {"values": [model_id]}},
            "aggs": {"s": {"terms": {"field": "model_state"}}},
        },
    )
    assert counted["hits"]["hits"] == [] and counted["hits"]["total"]["value"] == 1
    assert counted["aggregations"]["s"]["buckets"] == [{"key": "DEPLOYED", "doc_count": 1}]
    connectors = client.plugins.ml.search_connectors(body={"query": {"match_all": {}}})
    assert "credential" not in connectors["hits"]["hits"][0]["_source"]
    # Neither the provider credential nor the admin password reaches the server's output.
    output = server.log.read_text()
    assert EMBEDDING_SECRET not in output
    assert ADMIN_PASSWORD not in output


def test_security_is_on_by_default(server: Process) -> None:
    status, error = call("GET", f"{server.url}_plugins/_ml/models/_search", {}, auth=None)
    assert status == 401
    assert error["error"]["type"] == "security_exception"
    status, error = call("GET", server.url, auth=("admin", "not-the-password"))
    assert status == 401
    status, info = call("GET", f"{server.url}_plugins/_security/authinfo")
    assert status == 200
    assert info["user_name"] == "admin" and "all_access" in info["roles"]
    assert "Log in as 'admin'" in server.log.read_text()


def test_no_security_switch_serves_without_login_and_warns(open_server: Process) -> None:
    status, found = call("POST", f"{open_server.url}_plugins/_ml/models/_search", {}, auth=None)
    assert status == 200 and found["hits"]["hits"] == []
    status, _ = call("GET", f"{open_server.url}_plugins/_security/authinfo", auth=None)
    assert status == 400  # as without the Security plugin: no such route
    assert "WARNING: mlgate security is OFF" in open_server.log.read_text()
