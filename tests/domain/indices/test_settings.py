"""Index settings: flat and nested forms normalised as OpenSearch does, validation, updates."""

from __future__ import annotations

import pytest

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.indices.settings import parse_settings, update_settings


def test_flat_nested_and_unprefixed_forms_normalise_alike() -> None:
    flat = parse_settings({"index.knn": True, "default_pipeline": "p", "index.search.default_pipeline": "s"})
    nested = parse_settings(
        {"index": {"knn": "true", "default_pipeline": "p", "search": {"default_pipeline": "s"}}}
    )
    assert flat == nested
    assert flat.values == {
        "index.knn": "true",
        "index.default_pipeline": "p",
        "index.search.default_pipeline": "s",
        "index.number_of_shards": "1",
        "index.number_of_replicas": "1",
    }
    assert flat.knn and flat.default_pipeline == "p" and flat.search_default_pipeline == "s"
    assert flat.final_pipeline is None


def test_shard_counts_are_accepted_and_reported_as_strings() -> None:
    settings = parse_settings({"number_of_shards": 3, "index": {"number_of_replicas": 0}})
    rendered = settings.to_json(
        uuid="u1", creation_date_ms=1700000000000, provided_name="i", version_created="136387927"
    )
    assert rendered == {
        "index": {
            "number_of_shards": "3",
            "number_of_replicas": "0",
            "uuid": "u1",
            "creation_date": "1700000000000",
            "provided_name": "i",
            "version": {"created": "136387927"},
        }
    }


def test_a_value_and_a_longer_key_below_it_nest_like_opensearch() -> None:
    settings = parse_settings({"index": {"knn": "true", "knn.space_type": "cosinesimil"}})
    assert settings.knn_space_type == "cosinesimil"
    rendered = settings.to_json(uuid="u", creation_date_ms=1, provided_name="i", version_created="1")
    assert rendered["index"]["knn"] == "true"
    assert rendered["index"]["knn.space_type"] == "cosinesimil"


def test_none_pipeline_means_no_pipeline() -> None:
    assert parse_settings({"default_pipeline": "_none"}).default_pipeline is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            {"index.foo": 1},
            "unknown setting [index.foo] please check that any required plugins are installed, or check the "
            "breaking changes documentation for removed settings",
        ),
        ({"knn": "yes"}, "Failed to parse value [yes] as only [true] or [false] are allowed."),
        (
            {"number_of_shards": 0},
            "Failed to parse value [0] for setting [index.number_of_shards] must be >= 1",
        ),
        ({"number_of_replicas": "x"}, "Failed to parse value [x] for setting [index.number_of_replicas]"),
        ({"index.uuid": "x"}, "private index setting [index.uuid] can not be set explicitly"),
    ],
)
def test_refusals(body: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_settings(body)
    assert caught.value.message == reason
    assert caught.value.error_type == "illegal_argument_exception"


def test_dynamic_settings_update_and_static_ones_are_refused() -> None:
    current = parse_settings({"index.knn": True, "default_pipeline": "a"})
    updated = update_settings(current, {"index.search.default_pipeline": "s"}, index="i", uuid="u")
    assert updated.search_default_pipeline == "s" and updated.default_pipeline == "a"
    reset = update_settings(updated, {"settings": {"index": {"default_pipeline": None}}}, index="i", uuid="u")
    assert reset.default_pipeline is None
    with pytest.raises(InvalidRequestError) as caught:
        update_settings(current, {"index.knn": False}, index="i", uuid="u")
    assert caught.value.message == "Can't update non dynamic settings [[index.knn]] for open indices [[i/u]]"
    assert current.knn
