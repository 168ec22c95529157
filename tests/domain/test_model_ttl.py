"""When a model's time to live has run out (ML Commons' MLModelCacheHelper.getExpiredModels)."""

from __future__ import annotations

from mlgate.domain.model import Model


def _model(state: str = "DEPLOYED", **deploy_setting: object) -> Model:
    return Model.from_doc({"model_state": state, "deploy_setting": deploy_setting})


def test_ttl_in_milliseconds_and_never_when_negative_or_absent() -> None:
    assert _model(model_ttl_minutes=2).ttl_ms == 120_000
    assert _model(model_ttl_minutes=0).ttl_ms == 0
    assert _model(model_ttl_minutes=-1).ttl_ms is None
    assert _model().ttl_ms is None
    assert Model.from_doc({"model_state": "DEPLOYED"}).ttl_ms is None
    assert _model(model_ttl_minutes=True).ttl_ms is None


def test_expired_after_whole_seconds_of_idleness_while_serving() -> None:
    model = _model(model_ttl_minutes=1)
    assert not model.has_expired(last_access_ms=0, now_ms=59_999)
    assert model.has_expired(last_access_ms=0, now_ms=60_000)
    assert _model("PARTIALLY_DEPLOYED", model_ttl_minutes=1).has_expired(0, 60_000)
    assert not _model("UNDEPLOYED", model_ttl_minutes=1).has_expired(0, 10**9)
    assert not _model(model_ttl_minutes=-1).has_expired(0, 10**12)
    assert _model(model_ttl_minutes=0).has_expired(5, 5)
