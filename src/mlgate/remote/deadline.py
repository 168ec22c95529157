"""Deadlines for the attempts in flight on one connector client, served by a single timer.

Every attempt of a client has the same allowance (``connection_timeout + read_timeout``), so deadlines
expire in the order the attempts started: a FIFO queue and one timer armed for its head replace a timer
per call. A per-call timer (``asyncio.timeout``, aiohttp's ``total``) costs 2–4 µs on every predict;
this costs a queue append and a flag (docs/performance.md).
"""

from __future__ import annotations

import asyncio
from collections import deque


class Attempt:
    """One call in flight: its task, its deadline, and whether it finished or ran out of time."""

    __slots__ = ("deadline", "done", "expired", "task")

    def __init__(self, task: asyncio.Task[object] | None, deadline: float) -> None:
        self.task = task
        self.deadline = deadline
        self.done = False
        self.expired = False

    def finish(self) -> None:
        """The call ended (any way): its deadline no longer applies."""
        self.done = True


class Deadlines:
    """Cancels the task of an attempt still running ``seconds`` after it started (``Attempt.expired``
    then tells the caller the cancellation was the deadline's)."""

    __slots__ = ("_loop", "_queue", "_seconds", "_timer")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._queue: deque[Attempt] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> Attempt:
        """Register the current task's attempt (call from inside it, always on the same event loop)."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        attempt = Attempt(asyncio.current_task(loop), loop.time() + self._seconds)
        queue = self._queue
        # Calls mostly end in the order they started: dropping finished ones here keeps the queue short.
        while queue and queue[0].done:
            queue.popleft()
        queue.append(attempt)
        if self._timer is None:
            self._timer = loop.call_at(queue[0].deadline, self._expire)
        return attempt

    def _expire(self) -> None:
        loop = self._loop
        assert loop is not None  # armed by start()
        now = loop.time()
        queue = self._queue
        while queue and (queue[0].done or queue[0].deadline <= now):
            attempt = queue.popleft()
            if not attempt.done and attempt.task is not None:
                attempt.expired = True
                attempt.task.cancel()
        self._timer = loop.call_at(queue[0].deadline, self._expire) if queue else None
