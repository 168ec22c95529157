"""When a model's time to live has run out (ML Commons' MLModelCacheHelper.getExpiredModels)."""

from __future__ import annotations

from mlgate.domain.deploy_plan import has_expired, ttl_ms


def _model(state: str = "DEPLOYED", **deploy_setting: object) -> dict[str, object]:
    return {"model_state": state, "deploy_setting": deploy_setting}


def test_ttl_in_milliseconds_and_never_when_negative_or_absent() -> None:
    assert ttl_ms(_model(model_ttl_minutes=2)) == 120_000
    assert ttl_ms(_model(model_ttl_minutes=0)) == 0
    assert ttl_ms(_model(model_ttl_minutes=-1)) is None
    assert ttl_ms(_model()) is None
    assert ttl_ms({"model_state": "DEPLOYED"}) is None
    assert ttl_ms(_model(model_ttl_minutes=True)) is None


def test_expired_after_whole_seconds_of_idleness_while_serving() -> None:
    model = _model(model_ttl_minutes=1)
    assert not has_expired(model, last_access_ms=0, now_ms=59_999)
    assert has_expired(model, last_access_ms=0, now_ms=60_000)
    assert has_expired(_model("PARTIALLY_DEPLOYED", model_ttl_minutes=1), 0, 60_000)
    assert not has_expired(_model("UNDEPLOYED", model_ttl_minutes=1), 0, 10**9)
    assert not has_expired(_model(model_ttl_minutes=-1), 0, 10**12)
    assert has_expired(_model(model_ttl_minutes=0), 5, 5)
