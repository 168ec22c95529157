"""Documents parsed against a mapping: what they index, dynamic mapping, bad values."""

from __future__ import annotations

import pytest

from mlgate.domain.indices.document import parse_document
from mlgate.domain.indices.errors import MapperParsingError
from mlgate.domain.indices.mapping import Mappings, parse_mappings


def test_dynamic_mapping_as_opensearch_does() -> None:
    source = {
        "title": "Hello World",
        "count": 3,
        "ratio": 0.5,
        "ok": True,
        "when": "2024-02-03T20:33:50Z",
        "user": {"name": "Ann", "tags": ["x", "y"]},
        "vector": [0.1, 0.2],
        "nothing": None,
        "empty": [],
    }
    parsed, updated = parse_document(Mappings(), "1", source)
    assert updated is not None
    keyword = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}
    assert updated.to_json() == {
        "properties": {
            "title": keyword,
            "count": {"type": "long"},
            "ratio": {"type": "float"},
            "ok": {"type": "boolean"},
            "when": {"type": "date"},
            "user": {"properties": {"name": keyword, "tags": keyword}},
            "vector": {"type": "float"},
        }
    }
    assert parsed.terms["title"] == (("hello", "world"),)
    assert parsed.terms["title.keyword"] == (("Hello World",),)
    assert parsed.terms["user.tags"] == (("x",), ("y",))
    assert parsed.values["count"] == (3,)
    assert parsed.values["when"] == (1706992430000,)
    assert parsed.values["vector"] == (pytest.approx(0.1), pytest.approx(0.2))
    assert parsed.vectors == {}
    # The same document again adds nothing.
    assert parse_document(updated, "1", source)[1] is None


def test_mapped_fields_index_and_keyword_ignore_above() -> None:
    mappings = parse_mappings(
        {
            "properties": {
                "v": {"type": "knn_vector", "dimension": 2},
                "k": {"type": "keyword", "ignore_above": 3},
                "t": {"type": "text"},
            }
        }
    )
    parsed, updated = parse_document(
        mappings, "a", {"v": [1, 2.5], "k": ["abc", "abcd"], "t": ["One two", "three"]}
    )
    assert updated is None
    assert parsed.vectors == {"v": (1.0, 2.5)}
    assert parsed.terms["k"] == (("abc",),)
    assert parsed.terms["t"] == (("one", "two"), ("three",))


def test_dynamic_false_and_strict() -> None:
    relaxed = parse_mappings({"dynamic": "false", "properties": {"a": {"type": "keyword"}}})
    parsed, updated = parse_document(relaxed, "1", {"a": "x", "b": "y"})
    assert updated is None and "b" not in parsed.terms and parsed.source["b"] == "y"
    strict = parse_mappings({"dynamic": "strict"})
    with pytest.raises(MapperParsingError) as caught:
        parse_document(strict, "1", {"b": "y"})
    assert caught.value.error_type == "strict_dynamic_mapping_exception"
    assert (
        caught.value.message
        == "mapping set to strict, dynamic introduction of [b] within [_doc] is not allowed"
    )


def test_wrong_vector_dimension_is_the_k_nn_error() -> None:
    mappings = parse_mappings({"properties": {"passage_embedding": {"type": "knn_vector", "dimension": 768}}})
    with pytest.raises(MapperParsingError) as caught:
        parse_document(mappings, "1", {"passage_embedding": [0.5] * 1536})
    assert caught.value.message == (
        "failed to parse field [passage_embedding] of type [knn_vector] in document with id '1'. "
        "Preview of field's value: 'null'"
    )
    assert caught.value.caused_by == (
        "illegal_argument_exception",
        "Vector dimension mismatch. Expected: 768, Given: 1536",
    )


@pytest.mark.parametrize(
    ("mapping", "value", "cause"),
    [
        ({"type": "long"}, "abc", ("number_format_exception", 'For input string: "abc"')),
        (
            {"type": "integer"},
            2**31,
            ("illegal_argument_exception", "Value [2147483648] is out of range for an integer"),
        ),
        (
            {"type": "boolean"},
            "yes",
            (
                "illegal_argument_exception",
                "Failed to parse value [yes] as only [true] or [false] are allowed.",
            ),
        ),
        (
            {"type": "knn_vector", "dimension": 2, "space_type": "cosinesimil"},
            [0, 0],
            ("illegal_argument_exception", "zero vector is not supported when space type is [cosinesimil]"),
        ),
    ],
)
def test_bad_values(mapping: dict[str, object], value: object, cause: tuple[str, str]) -> None:
    with pytest.raises(MapperParsingError) as caught:
        parse_document(parse_mappings({"properties": {"f": mapping}}), "7", {"f": value})
    assert caught.value.caused_by == cause
    assert caught.value.message.startswith(
        f"failed to parse field [f] of type [{mapping['type']}] in document with id '7'."
    )


def test_a_concrete_value_for_an_object_is_refused() -> None:
    with pytest.raises(MapperParsingError) as caught:
        parse_document(
            parse_mappings({"properties": {"o": {"properties": {"x": {"type": "long"}}}}}), "1", {"o": 5}
        )
    assert (
        caught.value.message
        == "object mapping for [o] tried to parse field [o] as object, but found a concrete value"
    )
