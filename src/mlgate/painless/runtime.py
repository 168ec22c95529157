"""Per-execution state: the step and depth counters and the frames of script functions."""

from __future__ import annotations

from typing import Any, Final

from mlgate.painless.errors import ScriptLimitError
from mlgate.painless.limits import Limits


class Run:
    """Counters of one ``execute`` call, checked against its limits."""

    __slots__ = ("depth", "max_chars", "max_depth", "max_steps", "steps")

    def __init__(self, limits: Limits) -> None:
        self.steps = 0
        self.depth = 0
        self.max_steps = limits.max_steps
        self.max_depth = limits.max_depth
        self.max_chars = limits.max_output_chars

    def exceeded_steps(self) -> ScriptLimitError:
        """The error for a run past ``max_steps`` (worded like Painless' loop counter)."""
        return ScriptLimitError(
            "The maximum number of statements that can be executed in a loop has been reached. "
            f"(limit: {self.max_steps} steps)"
        )

    def check_size(self, size: int) -> None:
        """Enforce the size limit on a collection or array the script builds."""
        if size > self.max_chars:
            raise ScriptLimitError(f"collection size {size} exceeds the limit of {self.max_chars}")


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
