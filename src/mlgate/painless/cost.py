"""What string and collection operations cost, in units of a run's budget (``Limits.max_cost``).

A unit is about a nanosecond of CPU: each weight is what one character or element costs the operation
that charges it (``bench/painless_budget.py`` measures the time a run takes to use up its budget, per
kind of operation). Operations charge before they do the work whenever its size is known in advance,
so a run stops before an oversized step rather than after it.
"""

from __future__ import annotations

from typing import Final

READ: Final = 1
"""Per character (or UTF-16 unit) that C code scans, compares or converts: search, equality, parsing."""

WRITE: Final = 4
"""Per character of a new string: concatenation, replace, substring, building; it also bounds the
memory a run allocates to about a quarter of its budget in characters."""

ELEMENT: Final = 16
"""Per element that C code copies into a new collection or shifts: copies, addAll, insert, remove."""

FORMAT: Final = 700
"""Per double of a collection converted to text with a magnitude in [1e-3, 1e7), where Python's repr is
Java's form (others cost ``4 * VISIT``, floats ``9 * VISIT``: Python-level formatting)."""

HASH: Final = 500
"""Per character that ``String.hashCode`` hashes (a Python loop over UTF-16 units); HashMap keys too."""

VISIT: Final = 1000
"""Per element or character that the interpreter's own Python code visits: converting collections to
text, deep equality, lookups by ``equals``, ``hashCode``, the iteration order of a HashMap."""
