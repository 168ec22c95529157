"""The ``standard`` analyzer: Unicode word segmentation (UAX #29) as Lucene's StandardTokenizer applies
it, then lower-casing per code point (LowerCaseFilter); no stop words.

An approximation of the Unicode rules that keeps what matters for scores: letters and digits join
into words; an apostrophe, period or colon between letters keeps a word together (``what's``,
``d.c``); a comma, period or semicolon between digits keeps a number together (``18,937,000``,
``0.37``); ``_`` joins anything it touches; combining marks stay with their base character; each Han
ideograph and each Hiragana character is a token of its own; Katakana runs and South-East Asian runs
are one token each; emoji are tokens; everything else (spaces, punctuation, symbols, hyphens)
separates. Tokens longer than 255 characters are split, as StandardTokenizer's ``maxTokenLength``.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterator

MAX_TOKEN_LENGTH = 255

# Character classes of the word-break rules.
_LETTER, _NUMERIC, _KATAKANA, _EXTEND_NUM_LET = "L", "N", "K", "X"
_MID_LETTER, _MID_NUM_LET, _SINGLE_QUOTE, _MID_NUM = "M", "B", "Q", "C"
_EXTEND, _IDEOGRAPH, _HIRAGANA, _SE_ASIAN, _EMOJI, _OTHER = "E", "I", "H", "S", "J", "O"

_MID_LETTER_CHARS = frozenset(":\u00b7\u0387\u055f\u05f4\u2027\ufe13\ufe55\uff1a")
_MID_NUM_LET_CHARS = frozenset(".\u2018\u2019\u2024\ufe52\uff07\uff0e")
_MID_NUM_CHARS = frozenset(",;\u037e\u0589\u060c\u060d\u066c\u07f8\u2044\ufe10\ufe14\ufe50\ufe54\uff0c\uff1b")
# Which class may follow which inside a word (WB5–WB13b without the mid characters).
_JOINS = {
    _LETTER: frozenset({_LETTER, _NUMERIC, _EXTEND_NUM_LET}),
    _NUMERIC: frozenset({_LETTER, _NUMERIC, _EXTEND_NUM_LET}),
    _KATAKANA: frozenset({_KATAKANA, _EXTEND_NUM_LET}),
    _EXTEND_NUM_LET: frozenset({_LETTER, _NUMERIC, _KATAKANA, _EXTEND_NUM_LET}),
}
# Mid characters joining two letters (WB6/7) or two digits (WB11/12).
_MID_FOR = {
    _LETTER: frozenset({_MID_LETTER, _MID_NUM_LET, _SINGLE_QUOTE}),
    _NUMERIC: frozenset({_MID_NUM, _MID_NUM_LET, _SINGLE_QUOTE}),
}
_WORD_START = frozenset({_LETTER, _NUMERIC, _KATAKANA, _EXTEND_NUM_LET})


@functools.lru_cache(maxsize=8192)
def _char_class(char: str) -> str:
    code = ord(char)
    if char == "'":
        return _SINGLE_QUOTE
    if char in _MID_NUM_LET_CHARS:
        return _MID_NUM_LET
    if char in _MID_LETTER_CHARS:
        return _MID_LETTER
    if char in _MID_NUM_CHARS:
        return _MID_NUM
    category = unicodedata.category(char)
    if (
        category in ("Mn", "Me", "Mc")
        or (category == "Cf" and code not in (0x200B, 0x00AD))
        or code == 0x200D
    ):
        return _EXTEND
    if category == "Pc":
        return _EXTEND_NUM_LET
    if 0x3040 <= code <= 0x309F:
        return _HIRAGANA
    if 0x30A0 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9F:
        return _KATAKANA
    if _is_ideograph(code):
        return _IDEOGRAPH
    if (
        0x0E00 <= code <= 0x0EFF
        or 0x1000 <= code <= 0x109F
        or 0x1780 <= code <= 0x17FF
        or 0x1950 <= code <= 0x19DF
    ):
        return _SE_ASIAN
    if category == "Nd":
        return _NUMERIC
    if category[0] == "L" or category == "Nl":
        return _LETTER
    if category == "So" and (0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF):
        return _EMOJI
    return _OTHER


def _is_ideograph(code: int) -> bool:
    return (
        0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3FFFF
        or code in (0x3005, 0x3007)
        or 0x3021 <= code <= 0x3029
        or 0x3038 <= code <= 0x303B
    )


def tokenize(text: str) -> list[str]:
    """The standard analyzer's tokens of ``text``, in order (positions are the list indices)."""
    return [_lowercase(token) for token in _split_long(_segments(text))]


def _segments(text: str) -> Iterator[str]:
    classes = [_char_class(char) for char in text]
    size = len(text)
    i = 0
    while i < size:
        kind = classes[i]
        if kind in _WORD_START:
            end, has_word_char = _word_end(classes, i)
            if has_word_char:
                yield text[i:end]
            i = end
        elif kind in (_IDEOGRAPH, _HIRAGANA, _EMOJI):
            end = _skip_extend(classes, i + 1)
            yield text[i:end]
            i = end
        elif kind == _SE_ASIAN:
            end = i + 1
            while end < size and classes[end] in (_SE_ASIAN, _EXTEND):
                end += 1
            yield text[i:end]
            i = end
        else:
            i += 1


def _word_end(classes: list[str], start: int) -> tuple[int, bool]:
    """Where the word starting at ``start`` ends, and whether it holds a letter, digit or Katakana."""
    size = len(classes)
    last = classes[start]
    has_word_char = last != _EXTEND_NUM_LET
    i = _skip_extend(classes, start + 1)
    while i < size:
        kind = classes[i]
        if kind in _JOINS[last]:
            last = kind
            has_word_char = has_word_char or kind != _EXTEND_NUM_LET
            i = _skip_extend(classes, i + 1)
            continue
        if kind in _MID_FOR.get(last, ()):
            after = _skip_extend(classes, i + 1)
            if after < size and classes[after] == last:
                i = _skip_extend(classes, after + 1)
                continue
        break
    return i, has_word_char


def _skip_extend(classes: list[str], i: int) -> int:
    while i < len(classes) and classes[i] == _EXTEND:
        i += 1
    return i


def _split_long(tokens: Iterator[str]) -> Iterator[str]:
    for token in tokens:
        if len(token) <= MAX_TOKEN_LENGTH:
            yield token
        else:
            for start in range(0, len(token), MAX_TOKEN_LENGTH):
                yield token[start : start + MAX_TOKEN_LENGTH]


def _lowercase(token: str) -> str:
    # Java's Character.toLowerCase maps one code point to one code point (no final sigma, U+0130 → i).
    if token.isascii():
        return token.lower()
    return "".join(char.lower()[0] for char in token)
