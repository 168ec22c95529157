"""Frozen server settings parsed once from flags and ``MLGATE_*`` environment variables."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mlgate.domain.client_address import Network, parse_trusted_proxies
from mlgate.domain.memory_budget import DEFAULT_MAX_IN_FLIGHT_BYTES, DEFAULT_MAX_REPLY_BYTES
from mlgate.domain.node import parse_roles


@dataclass(frozen=True)
class Config:
    """How this node runs (cluster settings are separate: they live in the store)."""

    host: str = "127.0.0.1"
    port: int = 9200
    data_dir: Path = Path("./data")
    master_key: str | None = None
    node_name: str | None = None
    # OpenSearch's http.max_content_length (100mb): a larger request body is refused with 413.
    max_body_bytes: int = 100 * 1024 * 1024
    # Request bodies and provider replies held at once by one process; past it, 429.
    max_in_flight_bytes: int = DEFAULT_MAX_IN_FLIGHT_BYTES
    # One provider reply at most (the max_json_size cluster setting may lower it).
    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES
    log_level: str = "info"
    # text (time LEVEL logger: message) or json (one object per line), the access log included.
    log_format: str = "text"
    # Secure by default: turning security off is an explicit, loudly reported choice.
    security: bool = True
    # Never shown: repr=False keeps it out of any log line that prints the config.
    initial_admin_password: str | None = field(default=None, repr=False)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # postgresql://… shares cluster state between nodes; None: SQLite in data_dir. Holds a password.
    store_url: str | None = field(default=None, repr=False)
    roles: tuple[str, ...] = ("data", "ml")
    # The URL other nodes reach this one at (forwarded predicts); default http(s)://host:port.
    advertise_url: str | None = None
    workers: int = 1
    # Proxies whose X-Forwarded-For names the client (login throttling, authinfo); none: the socket peer.
    trusted_proxies: tuple[Network, ...] = ()
    heartbeat_interval_s: float = 1.0
    heartbeat_expiry_ms: int = 5_000
    # The private directory where --workers share their metrics (PROMETHEUS_MULTIPROC_DIR); set by serve.
    metrics_dir: Path | None = None
    # OTLP trace export, asked for by the standard OTEL_* variables (docs/observability.md); with
    # message content on spans only when OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true.
    tracing: bool = False
    trace_content: bool = False

    @property
    def public_url(self) -> str:
        """Where other nodes send forwarded calls."""
        if self.advertise_url:
            return self.advertise_url.rstrip("/")
        scheme = "https" if self.tls_cert else "http"
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"{scheme}://{host}:{self.port}"


_OFF = ("off", "false", "0", "no", "disabled")
_ON = ("on", "true", "1", "yes", "enabled")


def security_from(env: Mapping[str, str], no_security: bool = False) -> bool:
    """``--no-security`` or ``MLGATE_SECURITY=off`` turn security off; anything unknown is an error."""
    if no_security:
        return False
    value = env.get("MLGATE_SECURITY", "on").strip().lower()
    if value in _OFF:
        return False
    if value in _ON:
        return True
    raise ValueError(f"MLGATE_SECURITY must be 'on' or 'off', not {value!r}")


def config_from(env: Mapping[str, str], **flags: object) -> Config:
    """Flags win over the environment, which wins over defaults."""

    def pick(flag: str, var: str, default: object) -> object:
        value = flags.get(flag)
        if value is not None:
            return value
        return env.get(var, default)

    return Config(
        host=str(pick("host", "MLGATE_HOST", "127.0.0.1")),
        port=int(str(pick("port", "MLGATE_PORT", 9200))),
        data_dir=Path(str(pick("data_dir", "MLGATE_DATA_DIR", "./data"))),
        master_key=env.get("MLGATE_MASTER_KEY") or None,
        node_name=env.get("MLGATE_NODE_NAME") or None,
        max_body_bytes=byte_size("max body bytes", pick("max_body_bytes", "MLGATE_MAX_BODY_BYTES", "100mb")),
        max_in_flight_bytes=byte_size(
            "max in-flight bytes",
            pick("max_in_flight_bytes", "MLGATE_MAX_IN_FLIGHT_BYTES", DEFAULT_MAX_IN_FLIGHT_BYTES),
        ),
        max_reply_bytes=byte_size(
            "max reply bytes", pick("max_reply_bytes", "MLGATE_MAX_REPLY_BYTES", DEFAULT_MAX_REPLY_BYTES)
        ),
        log_level=str(pick("log_level", "MLGATE_LOG_LEVEL", "info")),
        log_format=log_format_from(str(pick("log_format", "MLGATE_LOG_FORMAT", "text"))),
        security=security_from(env, bool(flags.get("no_security"))),
        initial_admin_password=env.get("MLGATE_INITIAL_ADMIN_PASSWORD") or None,
        tls_cert=_path(pick("tls_cert", "MLGATE_TLS_CERT", None)),
        tls_key=_path(pick("tls_key", "MLGATE_TLS_KEY", None)),
        store_url=store_url_from(pick("store_url", "MLGATE_STORE_URL", None)),
        roles=parse_roles(str(pick("roles", "MLGATE_ROLES", "data,ml"))),
        advertise_url=_text(pick("advertise_url", "MLGATE_ADVERTISE_URL", None)),
        workers=int(str(pick("workers", "MLGATE_WORKERS", 1))),
        trusted_proxies=parse_trusted_proxies(str(pick("trusted_proxies", "MLGATE_TRUSTED_PROXIES", ""))),
        heartbeat_interval_s=float(env.get("MLGATE_HEARTBEAT_INTERVAL_S", 1.0)),
        heartbeat_expiry_ms=int(env.get("MLGATE_HEARTBEAT_EXPIRY_MS", 5_000)),
        tracing=tracing_from(env),
        trace_content=env.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "").lower() == "true",
    )


def tracing_from(env: Mapping[str, str]) -> bool:
    """An OTLP endpoint is set (``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_ENDPOINT``)
    and neither ``OTEL_SDK_DISABLED=true`` nor ``OTEL_TRACES_EXPORTER=none`` says no."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return bool(env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def log_format_from(value: str) -> str:
    """``--log-format`` / ``MLGATE_LOG_FORMAT``: ``text`` or ``json``."""
    if value not in ("text", "json"):
        raise ValueError(f"--log-format / MLGATE_LOG_FORMAT must be text or json, not {value!r}")
    return value


_BYTE_UNITS = {"": 1, "b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40}
_BYTE_SIZE = re.compile(r"\s*([0-9]+)\s*([a-z]*)\s*")


def byte_size(name: str, value: object) -> int:
    """A positive byte count: a number, or a number with OpenSearch's units (``512kb``, ``100mb``)."""
    match = _BYTE_SIZE.fullmatch(str(value).lower())
    if match is None or match.group(2) not in _BYTE_UNITS or int(match.group(1)) <= 0:
        raise ValueError(
            f"{name} must be a positive number of bytes (e.g. 104857600 or 100mb), not {value!r}"
        )
    return int(match.group(1)) * _BYTE_UNITS[match.group(2)]


def _text(value: object) -> str | None:
    return str(value) if value else None


def store_url_from(value: object) -> str | None:
    """``--store`` / ``MLGATE_STORE_URL``: empty means SQLite; otherwise a PostgreSQL URL."""
    if not value:
        return None
    url = str(value)
    if not url.startswith(("postgresql://", "postgres://")):
        raise ValueError("--store / MLGATE_STORE_URL must be a postgresql://user:password@host:port/db URL")
    return url


def _path(value: object) -> Path | None:
    return Path(str(value)) if value else None


def current_environment() -> Mapping[str, str]:
    """The process environment (read once, in the CLI)."""
    return dict(os.environ)
