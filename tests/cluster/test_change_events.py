"""Change events: each kind survives the feed's (kind, key) encoding, in the format older nodes wrote."""

from __future__ import annotations

import orjson
import pytest

from mlgate.services.events import (
    ConnectorChanged,
    DeployOrdered,
    DeployReported,
    Event,
    ModelChanged,
    ModelGroupChanged,
    SecurityChanged,
    SettingsChanged,
    Undeployed,
    decode,
    encode,
)

EVENTS: list[Event] = [
    SettingsChanged(),
    SecurityChanged(),
    ConnectorChanged("c1"),
    ModelChanged("m1"),
    ModelGroupChanged("g1"),
    Undeployed("m1"),
    DeployOrdered("m1", "t1", ("n1", "n2")),
    DeployReported("t1", "n1", None),
    DeployReported("t1", "n2", "boom"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_event_round_trips_through_the_feed(event: Event) -> None:
    kind, key = encode(event)
    assert decode(kind, key) == event


def test_one_id_events_key_by_the_id_and_deploys_by_their_fields() -> None:
    assert encode(ModelChanged("m1")) == ("model", "m1")
    assert encode(SettingsChanged()) == ("settings", "")
    kind, key = encode(DeployOrdered("m1", "t1", ("n1",)))
    assert kind == "deploy"
    assert orjson.loads(key) == {"model_id": "m1", "task_id": "t1", "nodes": ["n1"]}


def test_an_unknown_kind_is_ignored() -> None:
    assert decode("something_newer", "x") is None
