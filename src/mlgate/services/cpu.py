"""CPU-bound pure work (search evaluation) run off the event loop, a few jobs at a time.

A search over every stored document is Python work that can take a second or two within its budget
(``domain/search_budget.py``); on the event loop it would hold every other request for that long. In a
worker thread the interpreter switches back to the loop every few milliseconds, so the server keeps
answering. At most ``slots`` jobs run at once, so they never take all of the loop's default threads,
which other work (password hashing) also needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")


class CpuWorkers:
    """Runs pure functions in the event loop's default thread pool, at most ``slots`` at a time."""

    def __init__(self, slots: int = 2) -> None:
        self._slots = asyncio.Semaphore(slots)

    async def run(self, work: Callable[[], _T]) -> _T:
        """The result of ``work()``, computed in a worker thread; its exceptions propagate."""
        async with self._slots:
            return await asyncio.to_thread(work)
