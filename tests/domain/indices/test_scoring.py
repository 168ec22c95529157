"""The standard analyzer, BM25 and k-NN scores: the documentation tutorials' printed scores come out."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.indices.analysis import tokenize
from mlgate.domain.indices.bm25 import FieldStats, TermScorer, decode_norm, encode_norm, idf, sum_scores
from mlgate.domain.indices.floats import f32, java_float_str
from mlgate.domain.indices.knn import distance, max_distance_threshold, min_score_threshold, score

# The neural-search tutorial's five image captions (documentation-website,
# _tutorials/vector-search/neural-search-tutorial.md).
CAPTIONS = [
    "A West Virginia university women 's basketball team , officials , and a small gathering of fans are in a West Virginia arena .",
    "A wild animal races across an uncut field with a minimal amount of trees .",
    "People line the stands which advertise Freemont 's orthopedics , a cowboy rides a light brown bucking bronco .",
    "A man who is riding a wild horse in the rodeo is very near to falling off .",
    "A rodeo cowboy , wearing a cowboy hat , is being thrown off of a wild white horse .",
]
# The conversational-search tutorial's two documents (documentation-website,
# _vector-search/ai-search/conversational-search.md); "\\n" is a literal backslash-n there.
NYC = (
    "Chart and table of population level and growth rate for the New York City metro area from 1950 to 2023. "
    "United Nations population projections are also included through the year 2035.\\n"
    "The current metro area population of New York City in 2023 is 18,937,000, a 0.37% increase from 2022.\\n"
    "The metro area population of New York City in 2022 was 18,867,000, a 0.23% increase from 2021.\\n"
    "The metro area population of New York City in 2021 was 18,823,000, a 0.1% increase from 2020.\\n"
    "The metro area population of New York City in 2020 was 18,804,000, a 0.01% decline from 2019."
)
LINCOLN = (
    "Abraham Lincoln was born on February 12, 1809, the second child of Thomas Lincoln and Nancy Hanks Lincoln, "
    "in a log cabin on Sinking Spring Farm near Hodgenville, Kentucky.[2] He was a descendant of Samuel Lincoln, "
    "an Englishman who migrated from Hingham, Norfolk, to its namesake, Hingham, Massachusetts, in 1638. The family "
    "then migrated west, passing through New Jersey, Pennsylvania, and Virginia.[3] Lincoln was also a descendant "
    "of the Harrison family of Virginia; his paternal grandfather and namesake, Captain Abraham Lincoln and wife "
    "Bathsheba (née Herring) moved the family from Virginia to Jefferson County, Kentucky.[b] The captain was "
    "killed in an Indian raid in 1786.[5] His children, including eight-year-old Thomas, Abraham's father, "
    "witnessed the attack.[6][c] Thomas then worked at odd jobs in Kentucky and Tennessee before the family "
    "settled in Hardin County, Kentucky, in the early 1800s."
)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("What's the population of NYC?", ["what's", "the", "population", "of", "nyc"]),
        ("18,937,000 grew 0.37% in U.S.A.", ["18,937,000", "grew", "0.37", "in", "u.s.a"]),
        ("eight-year-old", ["eight", "year", "old"]),
        ("2035.\\nThe", ["2035", "nthe"]),
        ("snake_case x_1 ___", ["snake_case", "x_1"]),
        ("Café naïve ΣΊΣΥΦΟΣ", ["café", "naïve", "σίσυφοσ"]),
        ("東京タワーへ", ["東", "京", "タワー", "へ"]),
        ("a:b a: :b", ["a:b", "a", "b"]),
        ("x" * 300, ["x" * 255, "x" * 45]),
        ("  ,.;!? ", []),
    ],
)
def test_standard_tokenizer(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_small_float_length_norms() -> None:
    assert [decode_norm(encode_norm(n)) for n in (0, 1, 23, 24, 25, 100, 145, 1000)] == [
        0,
        1,
        23,
        24,
        25,
        96,
        144,
        984,
    ]
    assert all(decode_norm(encode_norm(n)) <= n for n in range(5000))
    assert encode_norm(10**9) <= 255


def _match_scores(docs: list[str], query: str) -> dict[int, str]:
    tokens = [tokenize(doc) for doc in docs]
    stats = FieldStats(len(tokens), sum(len(t) for t in tokens))
    scores: dict[int, str] = {}
    for number, doc in enumerate(tokens, start=1):
        terms = [
            TermScorer(sum(term in other for other in tokens), stats).score(
                doc.count(term), encode_norm(len(doc))
            )
            for term in dict.fromkeys(tokenize(query))
            if term in doc
        ]
        if terms:
            scores[number] = java_float_str(sum_scores(terms))
    return scores


def test_bm25_reproduces_the_neural_search_tutorial() -> None:
    assert [len(tokenize(c)) for c in CAPTIONS] == [21, 14, 17, 17, 16]
    assert _match_scores(CAPTIONS, "wild west") == {
        1: "1.7878418",
        2: "0.58093566",
        4: "0.53899646",
        5: "0.55228686",
    }


def test_bm25_reproduces_the_conversational_search_tutorial() -> None:
    # Lengths 145 and 100 are stored as 144 and 96: without the one-byte norm the third digit differs.
    assert [len(tokenize(LINCOLN)), len(tokenize(NYC))] == [145, 100]
    scores = _match_scores([LINCOLN, NYC], "What's the population of NYC metro area in 2023")
    assert scores == {1: "0.9782871", 2: "5.781642"}


def test_idf_formula() -> None:
    assert idf(1, 5) == f32(math.log(1 + 4.5 / 1.5))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1.0"),
        (0.0007, "7.0E-4"),
        (0.3007, "0.3007"),
        (1.2251667, "1.2251667"),
        (12345678.0, "1.2345678E7"),
        (0.001, "0.001"),
    ],
)
def test_java_float_str(value: float, text: str) -> None:
    assert java_float_str(value) == text


@pytest.mark.parametrize(
    ("space", "query", "doc", "expected"),
    [
        ("l2", [0.0, 0.0], [3.0, 4.0], 1 / 26),  # d = 25 (squared)
        ("l1", [0.0, 0.0], [3.0, 4.0], 1 / 8),
        ("linf", [0.0, 0.0], [3.0, 4.0], 1 / 5),
        ("cosinesimil", [1.0, 0.0], [0.0, 2.0], 0.5),  # cos 0
        ("cosinesimil", [1.0, 0.0], [-1.0, 0.0], 0.0),  # cos -1
        ("cosinesimil", [1.0, 1.0], [2.0, 2.0], 1.0),
        ("innerproduct", [1.0, 2.0], [3.0, 4.0], 12.0),  # dot 11 ≥ 0 → 1 + dot
        ("innerproduct", [1.0, 2.0], [-3.0, -4.0], 1 / 12),  # dot −11 → 1 / (1 − dot)
        ("innerproduct", [1.0, 0.0], [0.0, 1.0], 1.0),  # dot 0 → 1 either way
    ],
)
def test_knn_scores_per_space(space: str, query: list[float], doc: list[float], expected: float) -> None:
    assert score(space, distance(space, query, doc)) == f32(expected)


def test_radial_thresholds() -> None:
    # max_distance keeps documents at distance ≤ it: the threshold is that distance's score.
    assert max_distance_threshold("l2", 3.0) == f32(1 / 4)
    assert max_distance_threshold("cosinesimil", 0.5) == f32(0.75)
    assert max_distance_threshold("innerproduct", -2.0) == f32(3.0)
    # min_score keeps documents whose score reaches it.
    assert min_score_threshold("l2", 0.25) == f32(0.25)
    assert min_score_threshold("cosinesimil", 0.9) == pytest.approx(0.9, abs=1e-7)
    assert min_score_threshold("innerproduct", 3.0) == f32(3.0)
    assert min_score_threshold("innerproduct", 0.5) == f32(0.5)
    with pytest.raises(InvalidRequestError, match=r"requires distance to be non-negative for space type: l2"):
        max_distance_threshold("l2", -1.0)
    with pytest.raises(
        InvalidRequestError, match=r"requires score to be in the range \[0, 1\] for space type: l2"
    ):
        min_score_threshold("l2", 1.5)
    with pytest.raises(InvalidRequestError, match=r"requires minScore to be greater than 0"):
        min_score_threshold("l2", 0)


@given(st.text(st.characters(exclude_categories=("Cs",))))
def test_any_text_tokenizes_into_whole_nonblank_tokens(text: str) -> None:
    for token in tokenize(text):
        assert 0 < len(token) <= 255
        assert not any(char.isspace() for char in token)


@given(st.integers(min_value=0, max_value=10**7), st.integers(min_value=0, max_value=10**7))
def test_norms_are_monotonic(first: int, second: int) -> None:
    low, high = sorted((first, second))
    assert decode_norm(encode_norm(low)) <= decode_norm(encode_norm(high)) <= high
