"""The in-flight byte budget: request bodies and provider replies held at once by one process.

Like OpenSearch's ``in_flight_requests`` circuit breaker, every request takes a :class:`Lease` on the
process's :class:`InFlightBudget`, is charged for the bytes it reads (its body as it arrives, each
provider reply as it arrives) and gives them all back when its answer has been sent. A charge that
would take the process past the limit is refused with a ``circuit_breaking_exception`` (429), so many
large requests at once are turned away instead of exhausting memory; small ones keep being served.
The bytes counted are the raw bytes read; the parsed forms cost a small multiple (docs/configuration.md).
"""

from __future__ import annotations

from mlgate.domain.errors import CircuitBreakingError

DEFAULT_MAX_IN_FLIGHT_BYTES = 256 * 1024 * 1024
# One provider reply at most (the max_json_size cluster setting may lower it, never raise it).
DEFAULT_MAX_REPLY_BYTES = 100 * 1024 * 1024
HTTP_REQUEST = "<http_request>"
REMOTE_RESPONSE = "<remote_model_response>"
_UNITS = ((1 << 50, "pb"), (1 << 40, "tb"), (1 << 30, "gb"), (1 << 20, "mb"), (1 << 10, "kb"))


def format_bytes(size: int) -> str:
    """A byte count as OpenSearch's ``ByteSizeValue`` prints it: ``118.1mb``, ``100mb``, ``512b``."""
    for unit, suffix in _UNITS:
        if size >= unit:
            whole, rest = divmod(size * 10 // unit, 10)
            return f"{whole}{suffix}" if rest == 0 else f"{whole}.{rest}{suffix}"
    return f"{size}b"


class InFlightBudget:
    """The bytes held by this process's requests in flight, against ``limit``.

    Used from one event loop only, so a plain counter is exact.
    """

    __slots__ = ("limit", "used")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def lease(self) -> Lease:
        """A new, empty lease for one request."""
        return Lease(self)


class Lease:
    """What one request holds of the budget; :meth:`release` gives it all back."""

    __slots__ = ("_budget", "held")

    def __init__(self, budget: InFlightBudget) -> None:
        self._budget = budget
        self.held = 0

    def charge(self, size: int, label: str = HTTP_REQUEST) -> None:
        """Hold ``size`` more bytes, or raise CircuitBreakingError when the budget cannot take them."""
        budget = self._budget
        wanted = budget.used + size
        if wanted > budget.limit:
            raise CircuitBreakingError(
                f"[in_flight_requests] Data too large, data for [{label}] would be "
                f"[{wanted}/{format_bytes(wanted)}], which is larger than the limit of "
                f"[{budget.limit}/{format_bytes(budget.limit)}]",
                bytes_wanted=wanted,
                bytes_limit=budget.limit,
            )
        budget.used = wanted
        self.held += size

    def release(self) -> None:
        """Give back everything this lease holds (idempotent)."""
        self._budget.used -= self.held
        self.held = 0
