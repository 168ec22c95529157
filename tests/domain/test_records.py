"""Stored-document records: every document survives from_doc/to_doc exactly, state changes as methods."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from mlgate.domain import model as mdomain
from mlgate.domain.connector import Connector
from mlgate.domain.model import Model
from mlgate.domain.model_group import ModelGroup
from mlgate.domain.task import Task

_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=8), st.floats(allow_nan=False)
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
_NAMES = st.text(min_size=1, max_size=6)
_STATES = st.sampled_from(["REGISTERED", "DEPLOYING", "DEPLOYED", "PARTIALLY_DEPLOYED", "UNDEPLOYED"])

# Real stored shapes: the known keys with their usual types, plus any key of any JSON value (unknown
# keys, and known keys holding an unexpected type, must come back untouched).
_MODEL_SHAPE = {
    "name": _NAMES,
    "model_group_id": _NAMES,
    "algorithm": st.just("REMOTE"),
    "model_version": st.just("1"),
    "model_state": _STATES,
    "created_time": st.integers(0, 2**41),
    "is_hidden": st.booleans(),
    "connector_id": _NAMES,
    "connector": st.fixed_dictionaries({"protocol": st.just("http"), "credential": st.just({"k": "enc"})}),
    "interface": st.none() | st.just({"input": "{}"}),
    "rate_limiter": st.just({"limit": "2", "unit": "SECONDS"}),
    "planning_worker_nodes": st.lists(_NAMES, max_size=3),
    "planning_worker_node_count": st.integers(0, 3),
    "deploy_to_all_nodes": st.booleans(),
    "current_worker_node_count": st.integers(0, 3),
    "auto_redeploy_retry_times": st.integers(0, 3),
}
_CONNECTOR_SHAPE = {
    "name": _NAMES,
    "protocol": st.sampled_from(["http", "aws_sigv4"]),
    "parameters": st.dictionaries(_NAMES, st.text(max_size=4), max_size=2),
    "actions": st.just([{"action_type": "PREDICT", "method": "POST", "url": "http://127.0.0.1/"}]),
    "credential": st.dictionaries(_NAMES, st.text(max_size=4), max_size=2),
    "backend_roles": st.lists(_NAMES, max_size=2),
    "owner": st.just({"name": "u", "backend_roles": []}),
    "access": st.sampled_from(["public", "private", "restricted"]),
    "created_time": st.integers(0, 2**41),
}
_GROUP_SHAPE = {
    "name": _NAMES,
    "latest_version": st.integers(0, 9),
    "backend_roles": st.lists(_NAMES, max_size=2),
    "access": st.sampled_from(["public", "private", "restricted"]),
    "owner": st.just({"name": "u"}),
}
_TASK_SHAPE = {
    "model_id": _NAMES,
    "task_type": st.sampled_from(["DEPLOY_MODEL", "REGISTER_MODEL", "BATCH_PREDICTION"]),
    "state": st.sampled_from(["CREATED", "RUNNING", "COMPLETED"]),
    "worker_node": st.lists(_NAMES, max_size=2),
    "is_async": st.booleans(),
    "remote_job": st.just({"id": "job"}),
}


def _docs(shape: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    known = st.fixed_dictionaries({}, optional=shape)
    anything = st.dictionaries(st.sampled_from([*shape, "other", "model_id", "extra"]), _JSON, max_size=4)
    return st.tuples(known, anything, st.randoms()).map(_shuffled)


def _shuffled(parts: tuple[dict[str, Any], dict[str, Any], Any]) -> dict[str, Any]:
    known, anything, rng = parts
    merged = {**known, **anything}
    keys = list(merged)
    rng.shuffle(keys)
    return {key: merged[key] for key in keys}


def _exact(doc: dict[str, Any]) -> bytes:
    # Bytes, so key order and int/float/bool distinctions count.
    return orjson.dumps(doc)


@settings(max_examples=200, deadline=None)
@given(_docs(_MODEL_SHAPE), _docs(_CONNECTOR_SHAPE), _docs(_GROUP_SHAPE), _docs(_TASK_SHAPE))
def test_every_stored_document_round_trips_exactly(
    model: dict[str, Any], connector: dict[str, Any], group: dict[str, Any], task: dict[str, Any]
) -> None:
    assert _exact(Model.from_doc(model).to_doc()) == _exact(model)
    assert _exact(Connector.from_doc(connector).to_doc()) == _exact(connector)
    assert _exact(ModelGroup.from_doc(group).to_doc()) == _exact(group)
    assert _exact(Task.from_doc(task).to_doc()) == _exact(task)


def test_a_known_key_of_an_unexpected_type_is_kept_not_coerced() -> None:
    model = Model.from_doc({"model_state": 3, "planning_worker_nodes": "n1"})
    assert model.model_state is None and model.workers == ()
    assert model.to_doc() == {"model_state": 3, "planning_worker_nodes": "n1"}


def test_deploy_lifecycle_changes_the_document_as_ml_commons_does() -> None:
    registered = Model.from_doc({"name": "m", "model_state": "REGISTERED", "note": "kept"})
    deploying = registered.deploying(["n1", "n2"], deploy_to_all=True)
    assert deploying.to_doc() == {
        "name": "m",
        "model_state": "DEPLOYING",
        "note": "kept",
        "planning_worker_node_count": 2,
        "planning_worker_nodes": ["n1", "n2"],
        "deploy_to_all_nodes": True,
    }
    partial = deploying.deployed(mdomain.PARTIALLY_DEPLOYED, 1, now=7)
    assert partial.is_serving
    assert partial.to_doc()["current_worker_node_count"] == 1
    assert partial.last_deployed_time == 7 and partial.auto_redeploy_retry_times == 0
    assert deploying.deployed(mdomain.DEPLOY_FAILED, 0, now=7).last_deployed_time is None
    undeployed = partial.undeployed(now=9)
    assert undeployed.to_doc() | {} == {
        **partial.to_doc(),
        "model_state": "UNDEPLOYED",
        "last_undeployed_time": 9,
        "planning_worker_nodes": [],
        "planning_worker_node_count": 0,
        "current_worker_node_count": 0,
    }
    assert not undeployed.is_serving


def test_a_stored_retry_count_is_kept_on_deploy() -> None:
    assert (
        Model(auto_redeploy_retry_times=3).deployed(mdomain.DEPLOYED, 1, now=1).auto_redeploy_retry_times == 3
    )


def test_workers_join_and_leave_the_plan() -> None:
    model = Model(model_state=mdomain.DEPLOYED, planning_worker_nodes=("n1",), current_worker_node_count=1)
    joined = model.with_worker("n2").with_worker("n1")
    assert joined.workers == ("n2", "n1")
    assert joined.planning_worker_node_count == 2 and joined.current_worker_node_count == 2
    left = joined.without_worker("n1").without_worker("n2")
    assert left.workers == () and left.current_worker_node_count == 0
    # A serving model left by its last node failed; an undeployed one stays undeployed.
    assert left.model_state == mdomain.DEPLOY_FAILED
    assert Model(model_state=mdomain.UNDEPLOYED).without_worker("n1").model_state == mdomain.UNDEPLOYED


def test_records_are_frozen() -> None:
    model = Model(name="m")
    try:
        model.name = "other"  # type: ignore[misc]
    except AttributeError:
        return
    raise AssertionError("a record accepted an assignment")


def test_task_finishes_and_connector_actions_parse() -> None:
    task = Task.from_doc({"model_id": "m", "state": "RUNNING"})
    assert task.is_unfinished
    done = task.finished("FAILED", now=5, error="boom")
    assert done.to_doc() == {"model_id": "m", "state": "FAILED", "last_update_time": 5, "error": "boom"}
    connector = Connector.from_doc(
        {"actions": [{"action_type": "PREDICT", "method": "POST", "url": "http://h/"}]}
    )
    assert [a.action_type for a in connector.parsed_actions] == ["PREDICT"]
