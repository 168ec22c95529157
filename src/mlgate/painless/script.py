"""The public entry points: compile a script once, execute it many times."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from mlgate.painless.compiler import ProgramCompiler
from mlgate.painless.cost import READ
from mlgate.painless.errors import ScriptCompileError, ScriptLimitError, ScriptRuntimeError
from mlgate.painless.expressions import Builtin
from mlgate.painless.jstring import to_java_string
from mlgate.painless.limits import Limits, Slice
from mlgate.painless.ops import java_error
from mlgate.painless.parser import parse
from mlgate.painless.runtime import Frame, Run, Signal
from mlgate.painless.values import java_class

# ML Commons' own tests for "does the script call escape( / define it" (StringUtils).
_ESCAPE_CALL: Final = re.compile(r"\bescape\s*\(")
_STRING_BEFORE: Final = re.compile(r"\bString\s+$")
_ESCAPE_DEFINITION: Final = re.compile(r"String\s+escape\s*\(\s*(def|String)\s+.*?\)\s*\{?")


def uses_builtin_escape(source: str) -> bool:
    """Whether ML Commons would prepend its ``escape`` helper to this script."""
    if _ESCAPE_DEFINITION.search(source):
        return False
    return any(not _STRING_BEFORE.search(source[: m.start()]) for m in _ESCAPE_CALL.finditer(source))


def escape(value: Any, run: Run) -> str:
    """ML Commons' injected ``String escape(def input)``, replacement for replacement.

    The two-character sequence backslash-t is rewritten after backslashes were doubled, so it also
    rewrites doubled sequences; a real TAB character is left alone.
    """
    if type(value) is not str:
        raise _escape_failure(value)
    run.charge(len(value) * READ * 7)  # seven scans; the result, at most 2.5 times as long, is measured
    text = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\r", "\\r")
        .replace("\\t", "\\\\\\t")
        .replace("\n", "\\n")
        .replace("\b", "\\b")
        .replace("\f", "\\f")
    )
    run.charge_string(len(text))
    return text


def _escape_failure(value: Any) -> ScriptRuntimeError:
    """How the Painless helper fails on a non-String: its first ``input.contains(...)`` call."""
    if value is None:
        return java_error("NullPointerException", "Cannot invoke method [contains] on a null value")
    if type(value) is list:  # List.contains exists; the String return type then rejects the list
        return java_error("ClassCastException", "Cannot cast java.util.ArrayList to java.lang.String")
    return java_error(
        "IllegalArgumentException", f"dynamic method [{java_class(value)}, contains/1] not found"
    )


def _escape_builtin(args: list[Any], run: Run) -> str:
    return escape(args[0], run)


class CompiledScript:
    """A compiled script; ``execute`` may be called any number of times, from any thread."""

    __slots__ = ("_body", "_limits", "_size", "source")

    def __init__(self, source: str, limits: Limits) -> None:
        self.source = source
        self._limits = limits
        builtins: dict[tuple[str, int], Builtin] = {}
        if uses_builtin_escape(source):
            builtins[("escape", 1)] = _escape_builtin
        try:
            self._body, self._size = ProgramCompiler(builtins).compile(parse(source))
        except RecursionError:
            raise ScriptCompileError("the script is nested too deeply", 1, 1) from None

    def execute(self, params: Mapping[str, Any], *, slice_: Slice | None = None) -> Any:
        """Run with ``params`` (JSON-shaped values) and return the script's return value.

        Raises ScriptRuntimeError for a Java exception (thrown by the script or by an operation) and
        ScriptLimitError when a sandbox limit is exceeded. A script that modifies ``params`` modifies the
        caller's objects, as in Painless. With ``slice_``, a run that outgrows it raises ScriptYield.
        """
        return self._run(params, slice_, as_text=False)

    def execute_text(self, params: Mapping[str, Any], *, slice_: Slice | None = None) -> str | None:
        """``execute`` as ML Commons runs connector scripts (template scripts): the value returned is
        converted to its Java string within the same budget; null stays None."""
        result = self._run(params, slice_, as_text=True)
        assert result is None or type(result) is str
        return result

    def _run(self, params: Mapping[str, Any], slice_: Slice | None, *, as_text: bool) -> Any:
        run = Run(self._limits, slice_)
        frame = Frame(self._size, run)
        frame.slots[0] = params
        try:
            signal: Signal | None = self._body(frame)
            result = frame.result if signal is not None else None
            if as_text and result is not None:
                return to_java_string(result, run)
            return result
        except RecursionError:
            raise ScriptLimitError("the script nested too deeply (stack overflow)") from None
        except MemoryError:
            raise ScriptLimitError("the script ran out of memory") from None
        except ArithmeticError as error:  # e.g. a BigDecimal beyond Python's exponent range
            raise java_error("ArithmeticException", f"{type(error).__name__}: {error}") from None


def compile_script(source: str, *, limits: Limits | None = None) -> CompiledScript:
    """Parse and compile once; raises ScriptCompileError(message, line, column) on a syntax error.

    Injects ML Commons' ``escape(def)`` helper when the script calls ``escape(`` without defining it.
    """
    return CompiledScript(source, limits or Limits())
