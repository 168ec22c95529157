"""Minimal request/response types for the ASGI edge (no framework on the hot path)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.memory_budget import Lease
from mlgate.domain.principal import Principal

JSON_TYPE = b"application/json; charset=UTF-8"
TEXT_TYPE = b"text/plain; charset=UTF-8"
# Objects and arrays nest at most this deep in a request body. OpenSearch's parser allows 1000
# (``opensearch.xcontent.depth.max``); mlgate walks bodies recursively (and orjson writes at most 254
# levels), so it refuses deep bodies here, once, rather than failing somewhere inside with a 500.
MAX_JSON_DEPTH = 100
_CONTAINERS = frozenset({dict, list})


def check_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse ``value`` (decoded JSON) when its objects and arrays nest deeper than ``limit``."""
    level = [value] if type(value) in _CONTAINERS else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            raise InvalidRequestError(
                f"Document nesting depth ({depth}) exceeds the maximum allowed ({limit})",
                error_type="json_parse_exception",
            )
        children: list[Any] = []
        for container in level:
            items = container.values() if type(container) is dict else container
            children.extend(item for item in items if type(item) in _CONTAINERS)
        level = children


class RawHeaders(Mapping[str, str]):
    """The ASGI header list as a read-only mapping, decoded only for the names asked for.

    Names are matched case-insensitively (ASGI servers send them lower-case); a repeated header gives
    its last value, as a dict built from the list would.
    """

    __slots__ = ("_all", "_raw")

    def __init__(self, raw: Sequence[tuple[bytes, bytes]]) -> None:
        self._raw = raw
        self._all: dict[str, str] | None = None

    def get(self, key: str, default: Any = None) -> Any:  # the hot path: no exception, no full decode
        """The value of header ``key``, or ``default``."""
        needle = key.lower().encode("latin-1")
        found = None
        for name, value in self._raw:
            if name == needle or name.lower() == needle:
                found = value
        return default if found is None else found.decode("latin-1")

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return str(value)

    def _decoded(self) -> dict[str, str]:
        if self._all is None:
            self._all = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self._raw}
        return self._all

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())


@dataclass
class Request:
    """A decoded HTTP request."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    client: str = ""
    path_params: dict[str, str] = field(default_factory=dict)
    principal: Principal | None = None
    # This request's share of the in-flight byte budget (domain/memory_budget.py).
    lease: Lease | None = None

    def json(self) -> Any:
        """The body as JSON (None when empty); malformed JSON is a 400 ``json_parse_exception``."""
        if not self.body.strip():
            return None
        try:
            value = orjson.loads(self.body)
        except orjson.JSONDecodeError as exc:
            raise InvalidRequestError(
                f"Failed to parse request body: {exc}", error_type="json_parse_exception"
            ) from exc
        # Counting brackets is cheap; only a body with that many containers can nest that deep.
        if self.body.count(b"{") + self.body.count(b"[") > MAX_JSON_DEPTH:
            check_depth(value)
        return value

    def json_object(self) -> dict[str, Any] | None:
        """The body as a JSON object (None when empty)."""
        value = self.json()
        if value is not None and not isinstance(value, dict):
            raise InvalidRequestError("request body must be a JSON object", error_type="parse_exception")
        return value

    def flag(self, name: str) -> bool:
        """A boolean query parameter (present without value means true, like OpenSearch)."""
        value = self.query.get(name)
        return value is not None and value.lower() in ("", "true")


@dataclass
class Response:
    """An HTTP response with a ready-encoded body."""

    status: int
    body: bytes
    content_type: bytes = JSON_TYPE
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def json_response(payload: Any, status: int = 200) -> Response:
    """Encode ``payload`` as JSON."""
    return Response(status, orjson.dumps(payload))
