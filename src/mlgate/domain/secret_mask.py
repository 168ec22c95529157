"""Masking credential values in every written form a provider or a template may give them.

A provider's error may quote the key it received, and not always verbatim: JSON-escaped
(``\\"``, ``\\/``, doubled backslashes), ``\\u``-escaped (Gson writes ``=`` as ``\\u003d``), percent-encoded
(also twice: ``%252F``), as an HTML character reference, in hex, or inside base64 — of the key alone, of
``Bearer <key>`` or of ``user:key`` (a Basic header), in the standard or the URL-safe alphabet.

Every credential value is compiled once (when the connector is prepared) into patterns where each
character may appear in any of those escapes, so mixed forms match too. Base64 depends on where the
key starts in the encoded bytes; the key is encoded at each of the three offsets and the characters
that depend on the key alone are searched for, then the match is widened over the neighbouring base64
characters that mix key and other bytes. A SigV4 ``Signature`` is an HMAC: it holds no recoverable form
of the secret key (the access key beside it is masked as a value).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable

MASK = "*****"
# Values shorter than this are common words: masking them would garble innocent text.
MIN_SECRET_LENGTH = 4
# Base64 fragments shorter than this could occur by chance in other base64 text.
_MIN_BASE64_CORE = 8
# Longer values (certificates, private keys) are masked in their literal and JSON forms only: a
# per-character pattern of a few kilobytes would cost more than it could find.
_MAX_ESCAPED_LENGTH = 512
_BASE64_CHAR = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")
_JSON_SHORT = {"\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t"}


def _hex_any_case(digits: str) -> str:
    return "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in digits)


def _percent(char: str) -> tuple[str, str]:
    tail = "%(?:25)*".join(_hex_any_case(f"{byte:02x}") for byte in char.encode())
    return "%", "(?:25)*" + tail


def _char_forms(char: str, every_escape: bool) -> list[tuple[str, str]]:
    """``char`` written plainly or in any escape of the module docstring, each as its first character
    and a regex for the rest (JSON and percent escapes of punctuation only, without ``every_escape``:
    hex and base64 text are seldom escaped further, and the smaller pattern compiles faster)."""
    code = ord(char)
    forms = [(char, "")]
    if not char.isalnum():
        forms.append(("\\", r"\\*" + re.escape(char)))
        if not every_escape:
            forms.append(_percent(char))
    if not every_escape:
        return forms
    if char in _JSON_SHORT:
        forms.append(("\\", r"\\*" + _JSON_SHORT[char]))
    if code > 0xFFFF:  # JSON writes it as a surrogate pair
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        forms.append(("\\", rf"\\*u{_hex_any_case(f'{high:04x}')}\\+u{_hex_any_case(f'{low:04x}')}"))
    else:
        forms.append(("\\", r"\\*u" + _hex_any_case(f"{code:04x}")))
    forms.append(_percent(char))
    forms.append(("&", f"#(?:[xX]0*{_hex_any_case(f'{code:x}')}|0*{code});"))
    if char == " ":
        forms.append(("+", ""))
    return forms


class _Alternatives:
    """Regexes joined into one pattern that starts with a character class of every possible first
    character: the regex engine then skips quickly over text that cannot start a match, and each
    alternative checks its first character with a one-character look-behind."""

    def __init__(self) -> None:
        self._leads: set[str] = set()
        self._branches: list[str] = []

    def add(self, text: str, every_escape: bool = True) -> None:
        """Match ``text`` in any mix of the escapes of :func:`_char_forms`."""
        firsts = _char_forms(text[0], every_escape)
        rest = "".join(
            "(?:" + "|".join(re.escape(lead) + tail for lead, tail in _char_forms(c, every_escape)) + ")"
            for c in text[1:]
        )
        self._leads.update(lead for lead, _ in firsts)
        first = "|".join(f"(?<={re.escape(lead)}){tail}" for lead, tail in firsts)
        self._branches.append(f"(?:{first}){rest}")

    def add_literal(self, text: str) -> None:
        """Match ``text`` exactly."""
        self._leads.add(text[0])
        self._branches.append(f"(?<={re.escape(text[0])}){re.escape(text[1:])}")

    def compile(self) -> re.Pattern[str] | None:
        if not self._branches:
            return None
        leads = "".join(re.escape(c) for c in sorted(self._leads))
        return re.compile(f"[{leads}](?:{'|'.join(self._branches)})")


def _base64_cores(raw: bytes) -> set[str]:
    """The base64 text that encodes ``raw`` wherever it starts, minus the characters shared with
    neighbouring bytes; both alphabets."""
    cores = set()
    for skip in (0, 2, 1):  # the key starts at offset 0, 1 or 2 of a 3-byte group
        part = raw[skip:]
        part = part[: len(part) - len(part) % 3]
        core = base64.b64encode(part).decode()
        if len(core) >= _MIN_BASE64_CORE:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))
    return cores


class SecretMask:
    """Replaces every recognisable form of a set of secret values with ``*****``."""

    __slots__ = ("_base64", "_literals", "_plain")

    def __init__(self, secrets: Iterable[str]) -> None:
        values = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        plain = _Alternatives()
        base64_forms = _Alternatives()
        literals: list[str] = []
        for value in values:
            if len(value) > _MAX_ESCAPED_LENGTH:
                literals += [value, _json_escaped(value), base64.b64encode(value.encode()).decode()]
                continue
            raw = value.encode()
            plain.add(value)
            plain.add_literal(raw.hex())
            plain.add_literal(raw.hex().upper())
            for core in sorted(_base64_cores(raw)):
                base64_forms.add(core, every_escape=False)
        self._literals = tuple(literals)
        self._plain = plain.compile()
        self._base64 = base64_forms.compile()

    def __bool__(self) -> bool:
        return self._plain is not None or bool(self._literals)

    def mask(self, text: str) -> str:
        """``text`` with every form of every secret replaced."""
        for literal in self._literals:
            if literal in text:
                text = text.replace(literal, MASK)
        if self._plain is None:
            return text
        spans = [m.span() for m in self._plain.finditer(text)]
        if self._base64 is not None:
            spans += [_widen_base64(text, *m.span()) for m in self._base64.finditer(text)]
        if not spans:
            return text
        out: list[str] = []
        position = 0
        for start, end in sorted(spans):
            if end <= position:
                continue
            if start >= position:
                out += [text[position:start], MASK]
            position = end
        out.append(text[position:])
        return "".join(out)


def _widen_base64(text: str, start: int, end: int) -> tuple[int, int]:
    # Up to one group before and after mixes key bytes with others; padding ends the encoded text.
    for _ in range(4):
        if start == 0 or text[start - 1] not in _BASE64_CHAR:
            break
        start -= 1
    for _ in range(4):
        if end == len(text) or text[end] not in _BASE64_CHAR:
            break
        end += 1
    while end < len(text) and text[end] == "=":
        end += 1
    return start, end


def _json_escaped(value: str) -> str:
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    for char, short in _JSON_SHORT.items():
        out = out.replace(char, "\\" + short)
    return out


NO_SECRETS = SecretMask(())
