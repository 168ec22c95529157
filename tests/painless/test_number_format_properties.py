"""Properties of Java number formatting (Hypothesis)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from mlgate.painless import to_java_string
from mlgate.painless.jstring import format_double, format_float
from mlgate.painless.values import round_float32

JAVA_DOUBLE = re.compile(r"-?(?:[0-9]+\.[0-9]+|[1-9]\.[0-9]+E-?[0-9]+|NaN|Infinity)")


@given(st.floats())
def test_double_text_is_java_shaped_and_round_trips(value: float) -> None:
    text = format_double(value)
    assert JAVA_DOUBLE.fullmatch(text)
    if value == value:
        assert float(text.replace("Infinity", "inf")) == value
        plain = "E" not in text
        assert plain == (1e-3 <= abs(value) < 1e7 or value == 0 or abs(value) == float("inf"))


@given(st.floats(width=32))
def test_float_text_round_trips_in_single_precision(value: float) -> None:
    text = format_float(value)
    assert JAVA_DOUBLE.fullmatch(text)
    if value == value:
        assert round_float32(float(text.replace("Infinity", "inf"))) == value


@given(st.lists(st.floats(), max_size=40))
def test_a_list_of_doubles_prints_each_element_as_java_does(values: list[float]) -> None:
    assert to_java_string(values) == "[" + ", ".join(format_double(v) for v in values) + "]"
