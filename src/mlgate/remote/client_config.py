"""A connector's ``client_config``: its pool size, timeouts, retries and TLS options.

Parsed as ML Commons does (ml-commons: common/.../connector/ConnectorClientConfig.java): numbers or
numeric strings, HEAD defaults for missing fields; a connector without one gets the implicit config.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from mlgate.domain.errors import InvalidRequestError

RETRY_BACKOFF_POLICIES = ("constant", "exponential_equal_jitter", "exponential_full_jitter")
# The pool of a connector WITHOUT client_config. ML Commons' 30 (the default when client_config is given)
# is per node of a cluster that usually has several; one mlgate worker holding only 30 connections caps a
# 50 ms provider at 600 req/s. 512 stays well inside a default 1,024-descriptor limit.
IMPLICIT_MAX_CONNECTION = 512


def _int_field(name: str, value: Any, minimum: int) -> int:
    # Like OpenSearch's XContentParser.intValue(): numbers (truncated) and numeric strings.
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = float(value.strip())
    if number is None or not math.isfinite(number) or abs(number) >= 2**31:
        raise InvalidRequestError(f"client_config.{name} must be an integer")
    if int(number) < minimum:
        raise InvalidRequestError(f"client_config.{name} must be at least {minimum}")
    return int(number)


def _bool_field(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise InvalidRequestError(f"client_config.{name} must be true or false")


@dataclass(frozen=True)
class ClientConfig:
    """A connector's ``client_config`` with HEAD defaults; timeouts in seconds (0 = none).

    ml-commons: common/.../connector/ConnectorClientConfig.java; docs/compatibility.md, "Version followed".

    ``connection_timeout`` bounds both the TCP/TLS connect and the wait for a free pooled connection;
    ``read_timeout`` bounds each wait for data from the provider; their sum bounds a whole attempt
    (:attr:`attempt_deadline`). ``mutual_tls_enabled`` presents the
    client certificate of the connector's credential (``keystore_type`` PEM or PKCS12; remote/mtls.py).
    """

    max_connection: int = 30
    connection_timeout: float = 30
    read_timeout: float = 30
    retry_backoff_millis: int = 200
    retry_timeout_seconds: int = 30
    max_retry_times: int = 0
    retry_backoff_policy: str = "constant"
    skip_ssl_verification: bool = False
    mutual_tls_enabled: bool = False
    keystore_type: str | None = None

    _MINIMUMS: ClassVar[dict[str, int]] = {
        "max_connection": 1,
        "connection_timeout": 0,
        "read_timeout": 0,
        "retry_backoff_millis": 0,
        "retry_timeout_seconds": 0,
        "max_retry_times": -1,
    }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ClientConfig:
        """Parse a ``client_config`` object; missing or null fields take their defaults.

        Unknown fields are ignored as in ML Commons. Raises InvalidRequestError for wrong types, values
        below their minimum, and ``"Unsupported retry backoff policy"``.
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise InvalidRequestError("client_config must be an object")
        values: dict[str, Any] = {}
        for name, minimum in cls._MINIMUMS.items():
            if data.get(name) is not None:
                values[name] = _int_field(name, data[name], minimum)
        for name in ("skip_ssl_verification", "mutual_tls_enabled"):
            if data.get(name) is not None:
                values[name] = _bool_field(name, data[name])
        policy = data.get("retry_backoff_policy")
        if policy is not None:
            if not isinstance(policy, str) or policy.lower() not in RETRY_BACKOFF_POLICIES:
                raise InvalidRequestError("Unsupported retry backoff policy")
            values["retry_backoff_policy"] = policy.lower()
        keystore_type = data.get("keystore_type")
        if keystore_type is not None:
            if not isinstance(keystore_type, str):
                raise InvalidRequestError("client_config.keystore_type must be a string")
            values["keystore_type"] = keystore_type
        return cls(**values)

    @classmethod
    def for_connector(cls, data: Mapping[str, Any] | None) -> ClientConfig:
        """The config a connector runs with: its ``client_config``, or when it has none the implicit one
        (ML Commons' defaults with a pool of :data:`IMPLICIT_MAX_CONNECTION`; see docs/api.md)."""
        if data is None:
            return IMPLICIT_CLIENT_CONFIG
        return cls.from_json(data)

    @property
    def attempt_deadline(self) -> float | None:
        """The most one attempt (pool wait, connect, send, headers and body) may take, in seconds:
        ``connection_timeout + read_timeout``; None when either is 0 (unbounded).

        ``read_timeout`` alone bounds only silence, so a provider sending a byte a second would hold a
        call for ever. ML Commons counts the same sum as the time a request may be in flight
        (ml-commons: ml-algorithms/.../remote/MLHttpClientCacheManager.java, clientCloseGracePeriod).
        """
        if not self.connection_timeout or not self.read_timeout:
            return None
        return float(self.connection_timeout + self.read_timeout)

    @property
    def deadline_message(self) -> str:
        """The cause reported when :attr:`attempt_deadline` passes."""
        return (
            f"Request did not complete within {self.connection_timeout + self.read_timeout} seconds "
            "(connection_timeout + read_timeout)"
        )

    def to_json(self) -> dict[str, Any]:
        """The complete object as GET returns it (``keystore_type`` only when set)."""
        out = {field.name: getattr(self, field.name) for field in fields(self)}
        if self.keystore_type is None:
            del out["keystore_type"]
        return out


IMPLICIT_CLIENT_CONFIG = ClientConfig(max_connection=IMPLICIT_MAX_CONNECTION)
