"""``${parameters.<name>.toString()}`` references are found in linear time, as the regex found them."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from mlgate.domain.template import render_payload, to_string_names

# What ML Commons' substitution (and mlgate before) used; it rescans the text from every opening.
REFERENCE = re.compile(r"\$\{parameters\.(.+?)\.toString\(\)\}")
PIECES = ["${parameters.", ".toString()}", ".toString()", "a", "}", "\n", "$", "{", "x.y", " "]


@given(st.lists(st.sampled_from(PIECES), max_size=14))
def test_the_same_names_as_the_regex(pieces: list[str]) -> None:
    value = "".join(pieces)
    assert to_string_names(value) == REFERENCE.findall(value)


def test_many_openings_without_a_close_are_cheap() -> None:
    # The regex needs about (openings × length) steps here: hours for this value.
    hostile = "${parameters." * 200_000 + ".toString()"
    assert to_string_names(hostile) == []
    # Rendered as before: the reference in b is to a, whose text is copied as is.
    template = '{"a": "${parameters.a}", "b": "${parameters.b}"}'
    rendered = render_payload(template, {"a": hostile, "b": "${parameters.a.toString()}"})
    assert rendered == f'{{"a": "{hostile}", "b": "{hostile}"}}'
