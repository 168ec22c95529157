"""The ``regexp`` query: Lucene regular expressions matched by automaton simulation, never backtracking.

The syntax is Lucene's ``RegExp`` (see ``search_regexp_syntax``); the whole term must match.

The pattern is compiled to a Thompson NFA (bounded by ``max_determinized_states``, Lucene's limit; a
Thompson NFA spends a few states where Lucene's automaton spends one, hence ``_STATES_PER_LUCENE_STATE``)
and run as a DFA built lazily from it, so matching costs one table step per character of the text, plus
one NFA set step the first time a (state, character) pair is met: linear in the text, whatever the
pattern. Every step is charged to the search budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlgate.domain.search_budget import CALL_STEPS, SearchBudget
from mlgate.domain.search_regexp_syntax import FLAGS, Node, Range, parse_flags, parse_regexp
from mlgate.domain.search_value import parsing_error, query_error

MAX_REGEX_LENGTH = 1000  # index.max_regex_length
DEFAULT_MAX_STATES = 10_000  # Lucene's default determinize work limit (max_determinized_states)
_STATES_PER_LUCENE_STATE = 4
# The lazily built DFA is dropped and rebuilt when its states and moves hold more than this many entries,
# so that its memory stays bounded whatever the pattern and the text.
_DFA_CACHE_ENTRIES = 100_000
_CHUNK = 4_096  # characters of text charged to the budget at a time
# A DFA move computed from the NFA costs about this many table moves per NFA state it touches.
_NFA_STEP_COST = 8


@dataclass
class _Nfa:
    """A Thompson NFA: ``moves[s]`` are (ranges, target) character moves, ``empty[s]`` free moves."""

    limit: int  # Lucene's limit, as the caller gave it
    budget: SearchBudget
    moves: list[list[tuple[tuple[Range, ...], int]]] = field(default_factory=list)
    empty: list[list[int]] = field(default_factory=list)
    transitions: int = 0

    def state(self) -> int:
        if len(self.moves) >= self.limit * _STATES_PER_LUCENE_STATE:
            raise query_error(
                f"Determinizing automaton with {len(self.moves)} states and {self.transitions} transitions "
                f"would require more than {self.limit} effort."
            )
        self.budget.charge(1)
        self.moves.append([])
        self.empty.append([])
        return len(self.moves) - 1

    def link(self, source: int, target: int) -> None:
        self.empty[source].append(target)
        self.transitions += 1

    def build(self, node: Node) -> tuple[int, int]:
        """States for ``node``: (entry, exit)."""
        kind = node[0]
        start, end = self.state(), self.state()
        if kind == "set":
            self.moves[start].append((node[1], end))
            self.transitions += 1
        elif kind == "cat":
            current = start
            for item in node[1]:
                entry, exit_ = self.build(item)
                self.link(current, entry)
                current = exit_
            self.link(current, end)
        elif kind == "alt":
            for item in node[1]:
                entry, exit_ = self.build(item)
                self.link(start, entry)
                self.link(exit_, end)
        elif kind == "rep":
            _, inner, low, high = node
            current = start
            for _ in range(low):
                entry, exit_ = self.build(inner)
                self.link(current, entry)
                current = exit_
            if high is None:  # a loop: zero or more further copies
                entry, exit_ = self.build(inner)
                self.link(current, entry)
                self.link(exit_, current)
            else:
                for _ in range(high - low):
                    entry, exit_ = self.build(inner)
                    self.link(current, end)  # stop here
                    self.link(current, entry)
                    current = exit_
            self.link(current, end)
        return start, end  # ("none",): no way from start to end


def _in_ranges(ranges: tuple[Range, ...], codes: list[int]) -> bool:
    for low, high in ranges:
        for code in codes:
            if low <= code <= high:
                return True
    return False


class RegexpPattern:
    """A compiled ``regexp``: ``matches(text, budget)`` tells whether the whole text matches."""

    def __init__(
        self, pattern: str, *, flags: int, case_insensitive: bool, max_states: int, budget: SearchBudget
    ) -> None:
        """Compile ``pattern``; building the automaton is charged to ``budget``."""
        if len(pattern) > MAX_REGEX_LENGTH:
            raise query_error(
                f"The length of regex [{len(pattern)}] used in the Regexp Query request has exceeded the "
                f"allowed maximum of [{MAX_REGEX_LENGTH}]. This maximum can be set by changing the "
                "[index.max_regex_length] index level setting."
            )
        budget.charge(len(pattern))
        self._nfa = _Nfa(limit=max_states, budget=budget)
        self._entry, self._exit = self._nfa.build(parse_regexp(pattern, flags))
        self._fold = case_insensitive
        self._reset()

    def _reset(self) -> None:
        self._ids: dict[frozenset[int], int] = {}
        self._sets: list[frozenset[int]] = []
        self._accepts: list[bool] = []
        self._next: list[dict[str, int]] = []
        self._cached = 0
        self._start = self._intern(self._closure([self._entry]))
        self._dead = self._intern(frozenset())

    def _closure(self, states: Sequence[int], budget: SearchBudget | None = None) -> frozenset[int]:
        """The states reachable by free moves that matter for matching: those with a character move,
        and the exit. Walking the free moves is charged to ``budget``."""
        moves, empty = self._nfa.moves, self._nfa.empty
        seen = set(states)
        stack = list(states)
        while stack:
            for target in empty[stack.pop()]:
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        if budget is not None:
            budget.charge(_NFA_STEP_COST * len(seen))
        return frozenset(s for s in seen if moves[s] or s == self._exit)

    def _intern(self, states: frozenset[int]) -> int:
        known = self._ids.get(states)
        if known is None:
            known = self._ids[states] = len(self._sets)
            self._cached += len(states) + 1
            self._sets.append(states)
            self._accepts.append(self._exit in states)
            self._next.append({})
        return known

    def _step(self, state: int, char: str, budget: SearchBudget) -> int:
        """The DFA move from ``state`` on ``char``, computed from the NFA the first time."""
        states = self._sets[state]
        budget.charge(_NFA_STEP_COST * (len(states) + 1))
        forms = {char, char.lower(), char.upper()} if self._fold else (char,)
        codes = [ord(form) for form in forms if len(form) == 1]
        targets = []
        for source in states:
            for ranges, target in self._nfa.moves[source]:
                if _in_ranges(ranges, codes):
                    targets.append(target)
        following_states = self._closure(targets, budget)
        self._cached += 1
        if self._cached > _DFA_CACHE_ENTRIES:
            self._reset()
            state = self._intern(states)
        following = self._intern(following_states)
        self._next[state][char] = following
        return following

    def matches(self, text: str, budget: SearchBudget) -> bool:
        """Whether the whole of ``text`` matches."""
        budget.charge(CALL_STEPS)
        state = self._start
        for offset in range(0, len(text), _CHUNK):
            chunk = text[offset : offset + _CHUNK]
            budget.charge(len(chunk))
            for char in chunk:
                following = self._next[state].get(char)
                state = self._step(state, char, budget) if following is None else following
                if state == self._dead:
                    return False
        return self._accepts[state]


# ``max_determinized_states`` may raise the automaton size limit up to this, never beyond.
_MAX_STATES_CEILING = 20_000
REGEXP_OPTIONS = frozenset({"case_insensitive", "rewrite", "flags", "flags_value", "max_determinized_states"})


def regexp_pattern(text: str, options: Mapping[str, Any], budget: SearchBudget) -> RegexpPattern:
    """Compile a ``regexp`` query's value with its options (``flags``, ``flags_value``,
    ``max_determinized_states``, ``case_insensitive``), charging the work to ``budget``."""
    flags = parse_flags(options["flags"]) if "flags" in options else FLAGS["ALL"]
    if "flags_value" in options:
        flags = _int_option(options, "flags_value", minimum=0, default=flags)
    max_states = _int_option(options, "max_determinized_states", minimum=1, default=DEFAULT_MAX_STATES)
    insensitive = options.get("case_insensitive", False)
    if not isinstance(insensitive, bool):
        raise parsing_error("[regexp] query failed to parse field [case_insensitive]")
    return RegexpPattern(
        text,
        flags=flags,
        case_insensitive=insensitive,
        max_states=min(max_states, _MAX_STATES_CEILING),
        budget=budget,
    )


def _int_option(options: Mapping[str, Any], key: str, *, minimum: int, default: int) -> int:
    value = options.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise parsing_error(f"[regexp] query failed to parse field [{key}]")
    return value
