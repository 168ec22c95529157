"""Tasks: get, search, delete; recovery of tasks a crash left unfinished."""

from __future__ import annotations

import httpx

from mlgate.bootstrap import build_node
from mlgate.config import Config
from mlgate.domain import task as task_domain
from tests.conftest import TEST_MASTER_KEY, assert_error

T = "/_plugins/_ml/tasks"


async def test_get_search_delete(loopback: httpx.AsyncClient, provider) -> None:
    register = await loopback.post(
        "/_plugins/_ml/models/_register",
        json={
            "name": "t",
            "function_name": "remote",
            "connector": {
                "name": "c",
                "version": "1",
                "protocol": "http",
                "credential": {"k": "v"},
                "actions": [
                    {
                        "action_type": "predict",
                        "method": "POST",
                        "url": f"{provider.url}/v1/completions",
                        "request_body": "{}",
                    }
                ],
            },
        },
    )
    task_id = register.json()["task_id"]
    task = (await loopback.get(f"{T}/{task_id}")).json()
    assert list(task)[:4] == ["model_id", "task_type", "function_name", "state"]
    assert (
        task["function_name"] == "REMOTE"
        and task["worker_node"]
        and task["create_time"] <= task["last_update_time"]
    )
    found = (
        await loopback.post(f"{T}/_search", json={"query": {"term": {"task_type": "REGISTER_MODEL"}}})
    ).json()
    assert [h["_id"] for h in found["hits"]["hits"]] == [task_id]
    assert (await loopback.delete(f"{T}/{task_id}")).json()["result"] == "deleted"
    assert_error(await loopback.get(f"{T}/{task_id}"), 404, "status_exception", "Failed to find task")
    assert_error(await loopback.delete(f"{T}/{task_id}"), 404, "status_exception", "Failed to find task")


async def test_unfinished_task_failed_at_restart(data_dir) -> None:
    first = await build_node(Config(data_dir=data_dir, master_key=TEST_MASTER_KEY))
    await first.start()
    running = task_domain.new_task("DEPLOY_MODEL", worker_nodes=["n"], is_async=True, now=1)
    running["state"] = "RUNNING"
    await first.store.save(task_domain.INDEX, "interrupted", running)
    node_id = first.services.env.node_id
    await first.stop()
    again = await build_node(Config(data_dir=data_dir, master_key=TEST_MASTER_KEY))
    await again.start()
    try:
        task = await again.services.tasks.get(None, "interrupted")
        assert task["state"] == "FAILED"
        assert "restarted" in task["error"]
        assert again.services.env.node_id == node_id
    finally:
        await again.stop()
