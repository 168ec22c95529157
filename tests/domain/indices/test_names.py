"""Index names are refused exactly as OpenSearch refuses them (type, reason, order of the checks)."""

from __future__ import annotations

import pytest

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.indices.errors import InvalidIndexNameError
from mlgate.domain.indices.names import validate_index_name

CHARS = '[ , ", *, \\, <, |, ,, >, /, ?]'


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("my index", f"must not contain the following characters {CHARS}"),
        ("a,b", f"must not contain the following characters {CHARS}"),
        ('a"b', f"must not contain the following characters {CHARS}"),
        ("a\\b", f"must not contain the following characters {CHARS}"),
        ("a/b", f"must not contain the following characters {CHARS}"),
        ("a*", f"must not contain the following characters {CHARS}"),
        ("a?", f"must not contain the following characters {CHARS}"),
        ("<a>", f"must not contain the following characters {CHARS}"),
        ("a|b", f"must not contain the following characters {CHARS}"),
        ("a#b", "must not contain '#'"),
        ("a:b", "must not contain ':'"),
        ("_a", "must not start with '_', '-', or '+'"),
        ("-a", "must not start with '_', '-', or '+'"),
        ("+a", "must not start with '_', '-', or '+'"),
        (".", "must not be '.' or '..'"),
        ("..", "must not be '.' or '..'"),
        ("My-Index", "must be lowercase"),
        ("", "must not be empty"),
        ("a" * 256, "index name is too long, (256 > 255)"),
        ("é" * 128, "index name is too long, (256 > 255)"),
        # The character check comes first, then '#', then the start, then the case.
        ("_A b", f"must not contain the following characters {CHARS}"),
        ("_A#", "must not contain '#'"),
        ("_ABC", "must not start with '_', '-', or '+'"),
    ],
)
def test_invalid_names(name: str, reason: str) -> None:
    with pytest.raises(InvalidIndexNameError) as caught:
        validate_index_name(name)
    assert caught.value.message == f"Invalid index name [{name}], {reason}"
    assert caught.value.error_type == "invalid_index_name_exception"
    assert caught.value.index == name
    assert isinstance(caught.value, InvalidRequestError)


@pytest.mark.parametrize(
    "name", ["my-nlp-index", "my_rag_test_data", ".hidden", "a" * 255, "é" * 127, "index.1", "日本"]
)
def test_valid_names(name: str) -> None:
    validate_index_name(name)
