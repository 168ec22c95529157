"""The written forms a provider may echo a credential value in, and a check that none is readable."""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Callable


def _u_escape(value: str, case: Callable[[str], str] = str.lower) -> str:
    return "".join(case(f"\\u{ord(c):04x}").replace("\\U", "\\u") for c in value)


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


FORMS: dict[str, Callable[[str], str]] = {
    "raw": lambda k: k,
    "json": lambda k: json.dumps(k, ensure_ascii=False)[1:-1],
    "json_ascii": lambda k: json.dumps(k)[1:-1],
    "json_twice": lambda k: json.dumps(json.dumps(k))[1:-1],
    "json_slash": lambda k: json.dumps(k)[1:-1].replace("/", "\\/"),
    "gson_html": lambda k: k.replace("=", "\\u003d").replace("'", "\\u0027"),
    "u_escaped": _u_escape,
    "u_escaped_upper": lambda k: _u_escape(k, str.upper),
    "percent": lambda k: urllib.parse.quote(k, safe=""),
    "percent_plus": urllib.parse.quote_plus,
    "percent_every_byte": lambda k: "".join(f"%{b:02x}" for b in k.encode()),
    "percent_twice": lambda k: urllib.parse.quote(urllib.parse.quote(k, safe=""), safe=""),
    "html_entities": lambda k: "".join(f"&#{ord(c)};" for c in k),
    "html_hex_entities": lambda k: "".join(f"&#x{ord(c):X};" for c in k),
    "hex": lambda k: k.encode().hex(),
    "hex_upper": lambda k: k.encode().hex().upper(),
    "base64": lambda k: _b64(k.encode()),
    "base64url": lambda k: base64.urlsafe_b64encode(k.encode()).decode().rstrip("="),
    "base64_bearer": lambda k: _b64(b"Bearer " + k.encode()),
    "base64_basic": lambda k: _b64(b"user:" + k.encode()),
    "base64_basic_short_user": lambda k: _b64(b"ab:" + k.encode() + b"@tail"),
    "base64_percent_encoded": lambda k: urllib.parse.quote(_b64(b"u:" + k.encode()), safe=""),
    "base64_json_escaped": lambda k: _b64(b"u:" + k.encode()).replace("/", "\\/"),
}


def leaks(text: str, key: str) -> list[str]:
    """The forms of ``key`` (or of its middle, for embedded base64) still readable in ``text``."""
    found = [name for name, form in FORMS.items() if form(key) in text]
    raw = key.encode()
    for skip in range(3):  # base64 of the key at any offset, minus the bytes it shares with neighbours
        part = raw[skip + 3 :]
        part = part[: len(part) - len(part) % 3]
        if len(part) >= 6 and _b64(part)[:8] in text:
            found.append(f"base64 core at offset {skip}")
    return found
