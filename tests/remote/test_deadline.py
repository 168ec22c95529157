"""One timer serves the deadlines of every attempt of a client: expired ones are cancelled, in order."""

from __future__ import annotations

import asyncio

import pytest

from mlgate.remote.deadline import Attempt, Deadlines


async def _run(deadlines: Deadlines, release: asyncio.Event, started: list[Attempt]) -> str:
    attempt = deadlines.start()
    started.append(attempt)
    try:
        await release.wait()
        return "finished"
    except asyncio.CancelledError:
        if not attempt.expired:
            raise
        task = asyncio.current_task()
        assert task is not None
        task.uncancel()
        return "expired"
    finally:
        attempt.finish()


async def test_attempts_past_their_deadline_are_cancelled_and_others_are_not() -> None:
    deadlines = Deadlines(0.05)
    never, soon = asyncio.Event(), asyncio.Event()
    started: list[Attempt] = []
    stuck = asyncio.ensure_future(_run(deadlines, never, started))
    quick = asyncio.ensure_future(_run(deadlines, soon, started))
    also_stuck = asyncio.ensure_future(_run(deadlines, never, started))
    await asyncio.sleep(0)
    soon.set()
    assert await quick == "finished"
    assert await asyncio.wait_for(asyncio.gather(stuck, also_stuck), 30) == ["expired", "expired"]
    assert [a.expired for a in started] == [True, False, True]
    # The timer re-arms for later attempts once the queue has emptied.
    late = asyncio.ensure_future(_run(deadlines, never, started))
    assert await asyncio.wait_for(late, 30) == "expired"


async def test_a_cancellation_that_is_not_the_deadlines_propagates() -> None:
    deadlines = Deadlines(60)
    started: list[Attempt] = []
    task = asyncio.ensure_future(_run(deadlines, asyncio.Event(), started))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert started[0].expired is False


async def test_finished_attempts_do_not_pile_up() -> None:
    deadlines = Deadlines(60)
    for _ in range(1000):
        deadlines.start().finish()
    assert len(deadlines._queue) == 1  # only the last one, dropped when the next starts
