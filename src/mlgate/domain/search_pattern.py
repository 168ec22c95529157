"""``wildcard`` and ``prefix`` patterns matched in linear time, never by a backtracking regex.

OpenSearch compiles a wildcard to an automaton (Lucene ``WildcardQuery``), so ``*?*?*?*Z`` costs no more
than ``*Z``. Here a pattern is split at its ``*``: the pieces between stars are matched left to right,
each at its leftmost place (which is always safe for ``*``), the first anchored at the start and the
last at the end. Finding a piece is a ``str.find`` of its longest literal run plus a check of the rest,
so a match costs at most (text length × pattern length) character comparisons, and usually one scan.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlgate.domain.search_budget import CALL_STEPS, SearchBudget
from mlgate.domain.search_value import query_error

# Lucene determinizes a wildcard automaton that has a ``*`` with this work limit; its automaton has a
# state per character, so a longer pattern is refused as OpenSearch refuses it.
WILDCARD_MAX_STATES = 10_000

_ANY_ONE = None  # a ``?`` unit in a piece


@dataclass(frozen=True)
class _Piece:
    """The units between two ``*``: literal characters and ``?``; ``runs`` are its literal runs."""

    length: int
    runs: tuple[tuple[int, str], ...]  # (offset in the piece, literal text)

    @classmethod
    def of(cls, units: list[str | None]) -> _Piece:
        runs: list[tuple[int, str]] = []
        start = None
        for i, unit in enumerate([*units, _ANY_ONE]):
            if unit is not _ANY_ONE and start is None:
                start = i
            elif unit is _ANY_ONE and start is not None:
                runs.append((start, "".join(u for u in units[start:i] if u is not None)))
                start = None
        return cls(len(units), tuple(runs))

    def at(self, text: str, position: int) -> bool:
        """Whether the piece matches ``text`` at ``position`` (the caller checked the length fits)."""
        for offset, run in self.runs:  # noqa: SIM110 - a plain loop: this runs once per token tried
            if not text.startswith(run, position + offset):
                return False
        return True

    def find(self, text: str, start: int, end: int, budget: SearchBudget) -> int:
        """The leftmost position >= ``start`` where the piece matches within ``text[:end]``, or -1."""
        last = end - self.length
        if not self.runs:
            return start if start <= last else -1
        # Search for the longest literal run; check the other units at each place it occurs.
        offset, anchor = max(self.runs, key=lambda run: len(run[1]))
        while start <= last:
            found = text.find(anchor, start + offset, last + offset + len(anchor))
            budget.charge((found if found >= 0 else last + offset) - start - offset + 1)
            if found < 0:
                return -1
            candidate = found - offset
            budget.charge(self.length)
            if self.at(text, candidate):
                return candidate
            start = candidate + 1
        return -1


@dataclass(frozen=True)
class WildcardPattern:
    """A Lucene wildcard: ``*`` any run, ``?`` any one character, ``\\`` escapes the next character."""

    pieces: tuple[_Piece, ...]  # split at ``*``; one piece means there is no ``*``
    min_length: int
    case_insensitive: bool = False

    @classmethod
    def compile(cls, pattern: str, case_insensitive: bool = False) -> WildcardPattern:
        """Compile ``pattern`` (linear in its length)."""
        if case_insensitive:
            pattern = pattern.lower()
        pieces: list[_Piece] = []
        units: list[str | None] = []
        escaped = False
        for char in pattern:
            if escaped:
                units.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == "*":
                pieces.append(_Piece.of(units))
                units = []
            else:
                units.append(_ANY_ONE if char == "?" else char)
        if escaped:  # Lucene keeps a trailing backslash as a literal one
            units.append("\\")
        pieces.append(_Piece.of(units))
        length = sum(p.length for p in pieces)
        if len(pieces) > 1 and length + 1 > WILDCARD_MAX_STATES:
            raise query_error(
                f"Determinizing automaton with {length + 1} states and {length + len(pieces) - 1} "
                f"transitions would require more than {WILDCARD_MAX_STATES} effort."
            )
        return cls(tuple(pieces), length, case_insensitive)

    def matches(self, text: str, budget: SearchBudget) -> bool:
        """Whether the whole of ``text`` matches the pattern."""
        # The call, the folding and the check of the first and last pieces.
        budget.charge(CALL_STEPS + self.min_length + (len(text) if self.case_insensitive else 0))
        if self.case_insensitive:
            text = text.lower()
        size = len(text)
        first, last = self.pieces[0], self.pieces[-1]
        if len(self.pieces) == 1:  # no ``*``: the one piece is the whole text
            return size == first.length and first.at(text, 0)
        if size < self.min_length or not first.at(text, 0):
            return False
        end = size - last.length
        if not last.at(text, end):
            return False
        position = first.length
        for piece in self.pieces[1:-1]:
            found = piece.find(text, position, end, budget)
            if found < 0:
                return False
            position = found + piece.length
        return True


@dataclass(frozen=True)
class PrefixPattern:
    """A ``prefix`` query's value: the text starts with it."""

    prefix: str
    case_insensitive: bool = False

    @classmethod
    def compile(cls, prefix: str, case_insensitive: bool = False) -> PrefixPattern:
        """Compile ``prefix``."""
        return cls(prefix.lower() if case_insensitive else prefix, case_insensitive)

    def matches(self, text: str, budget: SearchBudget) -> bool:
        """Whether ``text`` starts with the prefix."""
        budget.charge(CALL_STEPS + len(self.prefix))
        if self.case_insensitive:
            # Folding can change lengths, so fold a little more than the prefix needs.
            text = text[: 2 * len(self.prefix) + 1].lower()
        return text.startswith(self.prefix)


def simple_match(pattern: str, text: str) -> bool:
    """OpenSearch's ``Regex.simpleMatch`` (``_source`` filters): ``*`` is any run, nothing else is special.

    Linear in the text: each piece between stars is found once, left to right.
    """
    first, *middle, last = pattern.split("*") if "*" in pattern else (pattern, None)
    if last is None:
        return text == first
    if len(text) < len(first) + len(last) or not text.startswith(first) or not text.endswith(last):
        return False
    position, end = len(first), len(text) - len(last)
    for piece in middle:
        found = text.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True
