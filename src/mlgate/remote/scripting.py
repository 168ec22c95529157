"""Pre/post-process functions: built-in names or Painless scripts, compiled once and cached.

No script may hold the event loop for long. A run starts on the loop with a small slice of its budget;
almost every connector script ends within it (a few µs, where a hop to a thread costs 30-100 µs). A run
that outgrows the slice stops and runs again, from the start and with fresh ``params``, on a worker
thread, where the interpreter's limits bound it and the loop keeps being switched to (the GIL is handed
over every few ms). A script that needed the thread once goes straight there afterwards. Compiling,
which costs about 16 µs per character of source, always happens on a worker thread. See docs/painless.md.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.processing import is_builtin_post_process, is_builtin_pre_process

if TYPE_CHECKING:
    from mlgate.painless import CompiledScript, Slice

# OpenSearch's script.max_size_in_bytes default: ML Commons' scripts are inline scripts, refused past it.
MAX_SOURCE_BYTES: Final = 65_535

Params = Mapping[str, Any]


class ScriptFailedError(InvalidRequestError):
    """A script raised or hit a sandbox limit while running."""

    default_type = "script_exception"


class _Entry:
    """A compiled script and whether its last run on the loop outgrew the slice."""

    __slots__ = ("heavy", "script")

    def __init__(self, script: CompiledScript) -> None:
        self.script = script
        self.heavy = False


def _compile(text: str) -> CompiledScript:
    # Imported on first use (on a worker thread): building the Painless grammar is start-up cost that
    # nodes whose connectors carry no script never need to pay.
    painless = importlib.import_module("mlgate.painless")
    try:
        script: CompiledScript = painless.compile_script(text)
    except painless.ScriptCompileError as exc:
        raise InvalidRequestError(
            f"Failed to compile painless script: {exc.message}", error_type="script_exception"
        ) from exc
    return script


class ScriptRunner:
    """Compiles each distinct script text once and runs it with ML Commons' error shape.

    A run on the loop may take ``inline_steps`` steps and ``inline_cost`` cost units (a millisecond or
    two); ``workers`` threads run the rest and every compilation (more threads would only compete with
    the event loop for the GIL).
    """

    def __init__(
        self,
        *,
        max_entries: int = 1024,
        workers: int = 2,
        inline_steps: int = 2_000,
        inline_cost: int = 2_000_000,
    ) -> None:
        self._compiled: dict[str, _Entry] = {}
        self._max = max_entries
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mlgate-script")
        self._inline = (inline_steps, inline_cost)
        # Set once the first script is compiled (the interpreter is imported then).
        self._painless: ModuleType | None = None
        self._slice: Slice | None = None

    @staticmethod
    def is_builtin(text: str) -> bool:
        """Whether ``text`` names a built-in function rather than a script."""
        return is_builtin_pre_process(text) or is_builtin_post_process(text)

    async def check(self, text: str) -> None:
        """Refuse a script that does not compile, naming line and column."""
        if not self.is_builtin(text):
            await self._entry(text)

    async def _entry(self, text: str) -> _Entry:
        entry = self._compiled.get(text)
        if entry is None:
            size = len(text.encode("utf-8", "surrogatepass"))
            if size > MAX_SOURCE_BYTES:
                # OpenSearch also quotes the whole script here; a reason that long helps nobody.
                raise InvalidRequestError(
                    f"exceeded max allowed inline script size in bytes [{MAX_SOURCE_BYTES}] with size [{size}]"
                )
            script = await asyncio.get_running_loop().run_in_executor(self._threads, _compile, text)
            if self._painless is None:
                self._painless = importlib.import_module("mlgate.painless")
                self._slice = self._painless.Slice(*self._inline)
            if len(self._compiled) >= self._max:
                self._compiled.pop(next(iter(self._compiled)))
            entry = self._compiled.setdefault(text, _Entry(script))
        return entry

    async def run(self, text: str, params: Params, fresh: Callable[[], Params]) -> str | None:
        """Execute a script and return its value as ML Commons' template scripts do (a String, or None).

        ``fresh`` builds ``params`` again for a second run: the first may have modified them. Failures
        become ScriptFailedError (``script_exception``) with the script's message.
        """
        entry = self._compiled.get(text) or await self._entry(text)
        painless = self._painless
        assert painless is not None
        try:
            if not entry.heavy:
                try:
                    return entry.script.execute_text(params, slice_=self._slice)
                except painless.ScriptYield:
                    entry.heavy = True
                    params = fresh()
            loop = asyncio.get_running_loop()
            result: str | None = await loop.run_in_executor(self._threads, entry.script.execute_text, params)
            return result
        except painless.ScriptError as exc:
            raise ScriptFailedError(exc.message) from exc

    def close(self) -> None:
        """Stop the worker threads once the runs in progress end (each is bounded by its limits)."""
        self._threads.shutdown(wait=False, cancel_futures=True)
