"""Pre/post-process functions: built-in names or Painless scripts, compiled once and cached."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.processing import is_builtin_post_process, is_builtin_pre_process

if TYPE_CHECKING:
    from mlgate.painless import CompiledScript


class ScriptFailedError(InvalidRequestError):
    """A script raised or hit a sandbox limit while running."""

    default_type = "script_exception"


class ScriptRunner:
    """Compiles each distinct script text once and runs it with ML Commons' error shape."""

    def __init__(self, max_entries: int = 1024) -> None:
        self._compiled: dict[str, CompiledScript] = {}
        self._max = max_entries

    @staticmethod
    def is_builtin(text: str) -> bool:
        """Whether ``text`` names a built-in function rather than a script."""
        return is_builtin_pre_process(text) or is_builtin_post_process(text)

    def check(self, text: str) -> None:
        """Refuse a script that does not compile, naming line and column."""
        if not self.is_builtin(text):
            self.compiled(text)

    def compiled(self, text: str) -> CompiledScript:
        """The compiled script for ``text``."""
        script = self._compiled.get(text)
        if script is None:
            # Imported on first use: building the Painless grammar is start-up cost that nodes whose
            # connectors carry no script never need to pay.
            painless = importlib.import_module("mlgate.painless")
            try:
                script = painless.compile_script(text)
            except painless.ScriptCompileError as exc:
                raise InvalidRequestError(
                    f"Failed to compile painless script: {exc.message}", error_type="script_exception"
                ) from exc
            if len(self._compiled) >= self._max:
                self._compiled.pop(next(iter(self._compiled)))
            self._compiled[text] = script
        return script

    def run(self, text: str, params: Mapping[str, Any]) -> Any:
        """Execute a script; its failures become 400 ``script_exception`` with the script's message."""
        script = self.compiled(text)
        painless = importlib.import_module("mlgate.painless")
        try:
            result = script.execute(params)
        except painless.ScriptError as exc:
            raise ScriptFailedError(exc.message) from exc
        # ML Commons runs scripts as template scripts: whatever they return reaches it as a String.
        return result if result is None or isinstance(result, str) else painless.to_java_string(result)
