"""The precompiled router: literal segments win over parameters, the method decides among routes the path
fits, and a wrong method lists the allowed ones; the lazily decoded request headers."""

from __future__ import annotations

from mlgate.api.handlers import resources
from mlgate.api.http import RawHeaders
from mlgate.api.routes import ML, ROUTES, Router

router = Router(ROUTES)


def test_literal_segment_wins_over_a_parameter() -> None:
    route, params, _ = router.match("GET", f"{ML}/models/_search")
    assert route is not None and route.handler is resources.search_models and params == {}
    route, params, _ = router.match("GET", f"{ML}/models/abc")
    assert route is not None and route.handler is resources.get_model and params == {"model_id": "abc"}


def test_a_parameter_route_takes_a_method_the_literal_route_lacks() -> None:
    route, params, _ = router.match("DELETE", f"{ML}/models/_search")
    assert route is not None and route.handler is resources.delete_model
    assert params == {"model_id": "_search"}


def test_predict_paths_bind_their_parameters() -> None:
    route, params, _ = router.match("POST", f"{ML}/models/m-1/_predict")
    assert route is not None and route.handler is resources.predict and params == {"model_id": "m-1"}
    route, params, _ = router.match("POST", f"{ML}/_predict/text_embedding/m-2")
    assert route is not None and route.handler is resources.predict_algorithm
    assert params == {"algorithm": "text_embedding", "model_id": "m-2"}
    # Empty segments and a trailing slash are ignored, as before.
    assert router.match("POST", f"//{ML}//models/m-1/_predict/")[1] == {"model_id": "m-1"}


def test_wrong_method_lists_the_allowed_ones_and_unknown_paths_none() -> None:
    assert router.match("PATCH", f"{ML}/models/abc") == (None, {}, ["GET", "PUT", "DELETE"])
    assert router.match("GET", f"{ML}/nothing/here/at/all") == (None, {}, [])
    route, _, _ = router.match("HEAD", "/")
    assert route is not None and router.match("GET", "")[0] is not None


def test_raw_headers_decode_on_demand() -> None:
    headers = RawHeaders(
        [(b"content-type", b"application/json"), (b"X-Odd", b"caf\xe9"), (b"a", b"1"), (b"a", b"2")]
    )
    assert headers.get("Content-Type") == "application/json"
    assert headers.get("x-odd") == "café" and headers["X-ODD"] == "café"
    assert headers.get("a") == "2"  # the last one, as a dict built from the list keeps
    assert headers.get("missing") is None and headers.get("missing", "d") == "d"
    assert dict(headers) == {"content-type": "application/json", "x-odd": "café", "a": "2"}
    assert len(headers) == 3 and "a" in headers and "missing" not in headers
