"""Pre/post-process functions: built-in names or Painless scripts, compiled once and cached."""

from __future__ import annotations

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.processing import is_builtin_post_process, is_builtin_pre_process
from mlgate.painless import CompiledScript, ScriptCompileError, compile_script


class ScriptCache:
    """Compiles each distinct script text once (scripts are shared by connectors and models)."""

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
            self.get(text)

    def get(self, text: str) -> CompiledScript:
        """The compiled script for ``text``."""
        script = self._compiled.get(text)
        if script is None:
            try:
                script = compile_script(text)
            except ScriptCompileError as exc:
                raise InvalidRequestError(
                    f"Failed to compile painless script: {exc.message}", error_type="script_exception"
                ) from exc
            if len(self._compiled) >= self._max:
                self._compiled.pop(next(iter(self._compiled)))
            self._compiled[text] = script
        return script
