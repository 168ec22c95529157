"""BM25 as OpenSearch scores ``text`` fields, in Java ``float`` arithmetic step by step.

OpenSearch's default similarity is ``LegacyBM25Similarity`` (k1 = 1.2, b = 0.75): Lucene's
``BM25Similarity`` with the weight multiplied by (k1 + 1), which Lucene 8 dropped. The scorer
(``org.apache.lucene.search.similarities.BM25Similarity.BM25Scorer``):

    idf      = (float) ln(1 + (N − n + 0.5) / (n + 0.5))            N docs with the field, n with the term
    avgdl    = (float) (sum of field lengths / N)
    cache[b] = 1 / (k1 · ((1 − b) + b · LENGTH_TABLE[b] / avgdl))   b = the document's one-byte norm
    weight   = boost · (k1 + 1) · idf
    score    = weight − weight / (1 + freq · cache[norm])            = weight · freq / (freq + k1·(…))

The field length is stored lossily in one byte (``SmallFloat.intToByte4``): exact up to 23, then
rounded down to 4 significant bits above an offset of 24, so a 100-token field counts as 96. A
``match`` query sums its terms' scores (Lucene's disjunction sums in double, then rounds to float).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from mlgate.domain.indices.floats import f32

K1 = 1.2
B = 0.75
# SmallFloat.NUM_FREE_VALUES: lengths below it are stored exactly.
_FREE_VALUES = 24


def _long_to_int4(value: int) -> int:
    bits = value.bit_length()
    if bits < 4:
        return value
    shift = bits - 4
    return ((value >> shift) & 0x07) | ((shift + 1) << 3)


def _int4_to_long(value: int) -> int:
    bits = value & 0x07
    shift = (value >> 3) - 1
    return bits if shift == -1 else (bits | 0x08) << shift


def encode_norm(length: int) -> int:
    """``SmallFloat.intToByte4``: the one-byte norm (0–255) of a field of ``length`` tokens."""
    if length < 0:
        raise ValueError("a field length cannot be negative")
    if length < _FREE_VALUES:
        return length
    return min(_FREE_VALUES + _long_to_int4(length - _FREE_VALUES), 255)


def decode_norm(norm: int) -> int:
    """``SmallFloat.byte4ToInt``: the field length a norm byte stands for."""
    return norm if norm < _FREE_VALUES else _FREE_VALUES + _int4_to_long(norm - _FREE_VALUES)


LENGTH_TABLE = tuple(decode_norm(norm) for norm in range(256))


def idf(doc_freq: int, doc_count: int) -> float:
    """Inverse document frequency of a term in ``doc_freq`` of the field's ``doc_count`` documents."""
    return f32(math.log(1 + (doc_count - doc_freq + 0.5) / (doc_freq + 0.5)))


def avg_field_length(sum_length: int, doc_count: int) -> float:
    """``(float) (sumTotalTermFreq / (double) docCount)`` (1 when the field is in no document)."""
    return f32(sum_length / doc_count) if doc_count > 0 else 1.0


@dataclass(frozen=True)
class FieldStats:
    """Index-wide statistics of one field: documents holding it and the sum of their lengths."""

    doc_count: int
    sum_length: int


class TermScorer:
    """Scores one term of one field for any document (the per-norm cache computed once)."""

    def __init__(self, doc_freq: int, stats: FieldStats, *, boost: float = 1.0) -> None:
        average = avg_field_length(stats.sum_length, stats.doc_count)
        one_minus_b = f32(1.0 - B)
        k1, b = f32(K1), f32(B)
        self._cache = tuple(
            f32(1.0 / f32(k1 * f32(one_minus_b + f32(f32(b * float(length)) / average))))
            for length in LENGTH_TABLE
        )
        self.idf = idf(doc_freq, stats.doc_count)
        self.weight = f32(f32(f32(boost) * f32(1.0 + K1)) * self.idf)

    def score(self, freq: int | float, norm: int) -> float:
        """The score of a document where the term occurs ``freq`` times in a field whose norm is ``norm``."""
        inverse = self._cache[norm & 0xFF]
        return f32(self.weight - f32(self.weight / f32(1.0 + f32(f32(freq) * inverse))))


def sum_scores(scores: Iterable[float]) -> float:
    """A disjunction's score: the clause scores summed in double, in order, rounded to float (a plain
    loop: Python 3.12's ``sum`` compensates, Java does not)."""
    total = 0.0
    for value in scores:
        total += value
    return f32(total)
