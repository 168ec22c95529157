"""The bounded record of requests the mock received, for tests to inspect."""

from __future__ import annotations

import collections
import itertools
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

DEFAULT_CAPACITY = 1000


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One received request as the mock saw it on the wire."""

    seq: int
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str

    def as_json(self) -> dict[str, Any]:
        """The JSON form served by ``GET /_mock/requests``."""
        return asdict(self)


class RequestLog:
    """A ring buffer of the newest requests; the oldest are forgotten once ``capacity`` is reached."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._entries: collections.deque[RecordedRequest] = collections.deque(maxlen=capacity)
        self._seq = itertools.count(1)

    def add(
        self,
        method: str,
        path: str,
        query: Iterable[tuple[str, str]],
        headers: Iterable[tuple[str, str]],
        body: bytes,
    ) -> RecordedRequest:
        """Record a request; repeated query parameters or headers keep their last value."""
        entry = RecordedRequest(
            seq=next(self._seq),
            method=method,
            path=path,
            # str() because header names arrive as ``istr``, a subclass orjson will not encode.
            query={str(k): v for k, v in query},
            headers={str(k): v for k, v in headers},
            body=body.decode("utf-8", errors="replace"),
        )
        self._entries.append(entry)
        return entry

    def newest(self, limit: int | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Recorded requests, newest first, optionally only those to ``path``, at most ``limit``."""
        matching = (e for e in reversed(self._entries) if path is None or e.path == path)
        return list(itertools.islice(matching, limit))

    def clear(self) -> None:
        """Forget every recorded request."""
        self._entries.clear()
