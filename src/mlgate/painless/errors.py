"""The error tree of the Painless interpreter (independent of mlgate's own error tree)."""

from __future__ import annotations


class ScriptError(Exception):
    """Base of every error a script can cause; ``message`` is the human-readable reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ScriptCompileError(ScriptError):
    """The script does not parse or does not compile; ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message} (line {line}, column {column})")
        self.reason = message
        self.line = line
        self.column = column


class ScriptRuntimeError(ScriptError):
    """A Java exception escaped the script.

    ``exception`` is the simple name of the Java exception class (``IllegalArgumentException``,
    ``NullPointerException``…) and ``message`` its message, so a thrown
    ``new IllegalArgumentException("x")`` surfaces as exactly ``"x"``. ``line``/``column`` locate the
    innermost statement that failed, when known.
    """

    def __init__(
        self,
        message: str,
        exception: str = "RuntimeException",
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.exception = exception
        self.line = line
        self.column = column


class ScriptLimitError(ScriptError):
    """A sandbox limit (steps, call depth, size of a built string or collection) was exceeded."""


class ScriptYield(Exception):
    """A run given a ``Slice`` used it up; the caller runs the script again where it may take longer.

    Deliberately not a ScriptError: nothing that handles a script's failures may mistake it for one.
    """
