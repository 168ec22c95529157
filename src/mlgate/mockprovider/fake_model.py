"""The deterministic stand-in for a model: embeddings, replies, token counts and relevance scores.

Everything here is a pure function of its inputs, so the same text always gives the same vector and
the same reply; tests can compute the expected value on their side by calling these functions.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from collections.abc import Sequence

MAX_DIM = 16384

_WORD = re.compile(r"\w+", re.UNICODE)


def embed(text: str, dim: int) -> list[float]:
    """Return a unit-length vector of ``dim`` floats derived from a hash of ``text``.

    SHAKE-256 gives any number of pseudo-random bytes in one call, and there is no per-element rounding,
    which keeps this cheap even for 1536-dimensional vectors (the mock also serves benchmarks).
    """
    raw = hashlib.shake_256(text.encode("utf-8")).digest(2 * dim)
    ints = struct.unpack(f"<{dim}h", raw)
    scale = 1.0 / (math.hypot(*ints) or 1.0)
    return [i * scale for i in ints]


def quantize_int8(vector: Sequence[float]) -> list[int]:
    """Scale a float vector to signed bytes (-128..127) the way Cohere's ``int8`` embeddings look."""
    peak = max((abs(v) for v in vector), default=0.0) or 1.0
    return [max(-128, min(127, round(v / peak * 127))) for v in vector]


def quantize_uint8(vector: Sequence[float]) -> list[int]:
    """Unsigned counterpart of :func:`quantize_int8` (0..255)."""
    return [v + 128 for v in quantize_int8(vector)]


def pack_bits(vector: Sequence[float], *, signed: bool) -> list[int]:
    """Pack the sign bits of ``vector`` eight to a byte (Cohere ``binary`` / ``ubinary``)."""
    packed: list[int] = []
    for start in range(0, len(vector), 8):
        byte = 0
        for value in vector[start : start + 8]:
            byte = (byte << 1) | (1 if value > 0 else 0)
        packed.append(byte - 128 if signed else byte)
    return packed


def sign_bits(vector: Sequence[float]) -> list[int]:
    """One 0/1 value per dimension (Titan v2 ``binary`` embeddings)."""
    return [1 if v > 0 else 0 for v in vector]


def float32_base64(vector: Sequence[float]) -> str:
    """Little-endian float32 bytes in base64 (OpenAI ``encoding_format: base64``)."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def count_tokens(text: str) -> int:
    """A rough token count: words and punctuation marks, at least 1 for non-empty text."""
    words = len(_WORD.findall(text))
    return max(words, 1) if text else 0


def reply_to(prompt: str) -> str:
    """The assistant text the mock answers to ``prompt`` (it echoes the prompt so tests can check it)."""
    return f"Mock response to: {prompt}"


def relevance(query: str, document: str) -> float:
    """A score in [0, 1]: mostly the share of query words the document contains, plus a hash tie-break.

    Word overlap makes rankings plausible in demos; the hash part keeps scores distinct and stable.
    """
    query_words = {w.lower() for w in _WORD.findall(query)}
    doc_words = {w.lower() for w in _WORD.findall(document)}
    overlap = len(query_words & doc_words) / len(query_words) if query_words else 0.0
    digest = hashlib.blake2b(f"{query}\x00{document}".encode(), digest_size=4).digest()
    jitter = int.from_bytes(digest, "big") / 2**32
    return round(0.9 * overlap + 0.1 * jitter, 6)


def short_id(*parts: str) -> str:
    """A stable 24-hex-digit id derived from ``parts`` (response ids, generation ids)."""
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=12).hexdigest()
