"""Sandbox limits applied to every execution of a compiled script (documented in docs/painless.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Upper bounds enforced while a script runs; exceeding any is a ScriptLimitError.

    ``max_steps`` counts executed statements plus loop iterations (Painless' own loop counter is
    1,000,000); ``max_depth`` bounds nested calls of script functions; ``max_output_chars`` bounds the
    length of any string the script builds and ``max_collection_size`` the size of any list, map or array
    it builds. ``max_cost`` is the run's budget of cost units (see ``painless/cost.py``): string and
    collection operations are charged by the size of what they read and write, so it bounds both the CPU
    a run spends on them (about 100 ms) and the memory it allocates. ``max_cpu_seconds`` is a backstop
    on the CPU time of the thread running the script, for work no counter sees.
    """

    max_steps: int = 1_000_000
    max_depth: int = 100
    max_output_chars: int = 10_000_000
    max_collection_size: int = 1_000_000
    max_cost: int = 100_000_000
    max_cpu_seconds: float = 2.0


@dataclass(frozen=True)
class Slice:
    """The first part of a run, for running it where it must not take long (an event loop).

    A run given a slice stops with ScriptYield once it has taken more than ``steps`` steps or ``cost``
    units; the caller then runs the script again from the start where it may use its whole budget.
    """

    steps: int
    cost: int
