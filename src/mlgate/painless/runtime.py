"""Per-execution state: the counters checked against the limits, and the frames of script functions."""

from __future__ import annotations

import math
import time
from typing import Any, Final

from mlgate.painless.cost import ELEMENT, WRITE
from mlgate.painless.errors import ScriptLimitError, ScriptYield
from mlgate.painless.limits import Limits, Slice

# How far the counters may run between two looks at the clock: a few milliseconds of work. The hot
# paths compare a counter with its mark only; everything else happens in ``checkpoint``.
_STEPS_BETWEEN_CHECKS: Final = 4096
_COST_BETWEEN_CHECKS: Final = 4_000_000


class Run:
    """Counters of one ``execute`` call, checked against its limits.

    ``step_mark`` and ``cost_mark`` are the next values of the counters at which ``checkpoint`` must run:
    the limit itself, the end of the slice, or the next look at the CPU clock, whichever comes first.
    """

    __slots__ = (
        "cost",
        "cost_mark",
        "deadline",
        "depth",
        "max_chars",
        "max_cost",
        "max_cpu",
        "max_depth",
        "max_items",
        "max_steps",
        "sliced",
        "step_mark",
        "steps",
    )

    def __init__(self, limits: Limits, slice_: Slice | None = None) -> None:
        self.steps = 0
        self.cost = 0
        self.depth = 0
        self.max_steps = limits.max_steps
        self.max_cost = limits.max_cost
        self.max_depth = limits.max_depth
        self.max_chars = limits.max_output_chars
        self.max_items = limits.max_collection_size
        self.max_cpu = limits.max_cpu_seconds
        self.sliced = slice_ is not None
        if slice_ is None:
            self.deadline = time.thread_time() + limits.max_cpu_seconds
            self.step_mark = min(self.max_steps, _STEPS_BETWEEN_CHECKS)
            self.cost_mark = min(self.max_cost, _COST_BETWEEN_CHECKS)
        else:
            # A slice is far shorter than the CPU limit: no clock is read while it lasts.
            self.deadline = math.inf
            self.step_mark = min(self.max_steps, slice_.steps)
            self.cost_mark = min(self.max_cost, slice_.cost)

    def checkpoint(self) -> None:
        """A counter passed its mark: enforce the limits and the slice, then set the next marks."""
        if self.steps > self.max_steps:
            raise ScriptLimitError(
                "The maximum number of statements that can be executed in a loop has been reached. "
                f"(limit: {self.max_steps} steps)"  # worded like Painless' loop counter
            )
        if self.cost > self.max_cost:
            raise ScriptLimitError(f"script exceeded its cost budget (limit: {self.max_cost} units)")
        if self.sliced:
            raise ScriptYield()
        if time.thread_time() > self.deadline:
            raise ScriptLimitError(f"script exceeded its CPU time limit (limit: {self.max_cpu:g} s)")
        self.step_mark = min(self.max_steps, self.steps + _STEPS_BETWEEN_CHECKS)
        self.cost_mark = min(self.max_cost, self.cost + _COST_BETWEEN_CHECKS)

    def charge(self, units: int) -> None:
        """Spend ``units`` of the cost budget (before the work they pay for, where possible)."""
        self.cost += units
        if self.cost > self.cost_mark:
            self.checkpoint()

    def charge_string(self, length: int, written: int | None = None) -> None:
        """Pay for a new string of ``length`` characters (``written`` of them new, when it grows an
        existing one), refused past the size limit."""
        if length > self.max_chars:
            raise ScriptLimitError(f"string length {length} exceeds the limit of {self.max_chars} characters")
        self.charge((length if written is None else written) * WRITE)

    def check_size(self, size: int, copied: int = 0) -> None:
        """Enforce the size limit on a collection or array the script builds; ``copied`` elements are
        charged as written."""
        if size > self.max_items:
            raise ScriptLimitError(f"collection size {size} exceeds the limit of {self.max_items}")
        if copied:
            self.charge(copied * ELEMENT)


class Frame:
    """The local variables of one function invocation (slots resolved at compile time)."""

    __slots__ = ("result", "run", "slots")

    def __init__(self, size: int, run: Run) -> None:
        self.slots: list[Any] = [None] * size
        self.run = run
        self.result: Any = None


class Signal:
    """A non-local exit from a statement: break, continue or return (the value is in the frame)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


BREAK: Final = Signal("break")
CONTINUE: Final = Signal("continue")
RETURN: Final = Signal("return")
