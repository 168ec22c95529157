"""Send generated requests to the in-process app and check every answer; count what went wrong."""

from __future__ import annotations

import asyncio
import faulthandler
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from tests.fuzz.checks import error_body_problem
from tests.fuzz.strategies import FuzzRequest

# A request that takes this long has hung (a busy 2-core machine answers any of them in well under 1 s).
REQUEST_TIMEOUT_S = 30.0
# A handler that blocks the event loop cannot be timed out by the loop: past this, the process dumps
# every thread's stack and exits, so a hang fails the run instead of stalling it.
BLOCKED_LOOP_S = 120.0
MAX_PROBLEMS_KEPT = 50
BATCH = 2000


@dataclass
class FuzzReport:
    """What one or more passes found."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: int = 0
    tracebacks: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    def add_problem(self, text: str) -> None:
        """Keep the first problems verbatim; count all of them."""
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(text)

    def summary(self) -> str:
        """One line of figures."""
        by_class = Counter(f"{status // 100}xx" for status in self.statuses.elements())
        return (
            f"{self.requests} requests, {self.server_errors} x 5xx, {self.tracebacks} tracebacks, "
            f"{self.problem_count} problems; {dict(sorted(by_class.items()))}"
        )


def batches(strategy: st.SearchStrategy[FuzzRequest], count: int, seed: int) -> Iterator[list[FuzzRequest]]:
    """``count`` requests from ``strategy`` in batches (Hypothesis keeps what it drew in memory), the
    same ones for the same ``seed`` on every run."""
    for index, start in enumerate(range(0, count, BATCH)):
        yield generate(strategy, min(BATCH, count - start), seed * 1_000_003 + index)


def generate(strategy: st.SearchStrategy[Any], count: int, seed: int) -> list[Any]:
    """``count`` examples of ``strategy``; a given ``seed`` draws the same ones on every run."""
    drawn: list[Any] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: Any) -> None:
        drawn.append(example)

    collect()
    return drawn


class _ErrorCounter(logging.Handler):
    """Counts log records at ERROR and above (every unhandled error logs its traceback there)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def send_all(
    client: httpx.AsyncClient,
    requests: Sequence[FuzzRequest],
    auth: Sequence[tuple[bytes, bytes]],
    report: FuzzReport,
) -> None:
    """Send each request with ``auth`` headers, one at a time, and check its answer."""
    errors = _ErrorCounter()
    logging.getLogger().addHandler(errors)
    try:
        for request in requests:
            await _send_one(client, request, auth, report)
    finally:
        logging.getLogger().removeHandler(errors)
    report.tracebacks += sum(1 for r in errors.records if r.exc_info)
    for record in errors.records[:5]:
        report.add_problem(f"logged at {record.levelname}: {record.getMessage()[:300]}")


async def _send_one(
    client: httpx.AsyncClient,
    request: FuzzRequest,
    auth: Sequence[tuple[bytes, bytes]],
    report: FuzzReport,
) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers] + list(auth)
    report.requests += 1
    faulthandler.dump_traceback_later(BLOCKED_LOOP_S, exit=True)
    try:
        response = await asyncio.wait_for(
            client.request(request.method, request.target, headers=headers, content=request.body),
            REQUEST_TIMEOUT_S,
        )
    except TimeoutError:
        report.add_problem(f"no answer in {REQUEST_TIMEOUT_S} s: {request.describe()}")
        return
    finally:
        faulthandler.cancel_dump_traceback_later()
    status = response.status_code
    report.statuses[status] += 1
    problem = None
    if status >= 500:
        report.server_errors += 1
        problem = "a 5xx"
    if status >= 400:
        path = response.request.url.path
        problem = error_body_problem(request.method, path, status, response.content) or problem
    elif request.method != "HEAD" and response.headers.get("content-type", "").startswith("application/json"):
        try:
            orjson.loads(response.content)
        except orjson.JSONDecodeError:
            problem = "a success whose JSON body does not parse"
    if problem is not None:
        report.add_problem(f"{status} {problem}: {request.describe()} -> {response.content[:300]!r}")
