"""The work budget of one search: how many matching steps it may take before it is refused.

OpenSearch answers a wildcard or regexp from its term dictionary; mlgate evaluates every query against
every stored value, so one search costs (documents × value length × pattern size). Each piece of
string work is charged here *before* it is done (a long value is refused before it is scanned), so a
search never runs for longer than its budget allows, whatever the query and the stored documents.
"""

from __future__ import annotations

from mlgate.domain.errors import InvalidRequestError

# About a second or two of matching on a slow core: far beyond what searches over ML Commons' system
# indices need, small enough that a hostile query cannot monopolise a worker.
DEFAULT_SEARCH_STEPS = 20_000_000
# A step is about one character scanned in a loop. Handling one whole value in Python (trying a pattern
# on a token, comparing or hashing a token) costs about this many steps, whatever its length.
VALUE_STEPS = 8
# Trying a pattern on one value, however short, costs about this many steps.
CALL_STEPS = 16


class SearchBudgetExceededError(InvalidRequestError):
    """A search needed more matching steps than its budget (400)."""


class SearchBudget:
    """Counts the steps one search spends; ``charge`` refuses to go past ``limit``."""

    __slots__ = ("limit", "spent")

    def __init__(self, limit: int = DEFAULT_SEARCH_STEPS) -> None:
        self.limit = limit
        self.spent = 0

    def charge(self, steps: int) -> None:
        """Spend ``steps``; raises ``SearchBudgetExceededError`` when the total passes the limit."""
        self.spent += steps
        if self.spent > self.limit:
            raise SearchBudgetExceededError(
                f"The search would take more than [{self.limit}] matching steps (documents × field length "
                "× query patterns), the most one search may take. Narrow it with an exact filter "
                "(term, ids) or a shorter or more selective pattern."
            )
