"""Regular expressions that users supply, matched in linear time with RE2.

ML Commons compiles guardrail, trusted-endpoint, batch-status and security patterns with
``java.util.regex``, a backtracking engine in which ``(a+)+$`` takes exponential time on ``aaaa…!``.
mlgate runs them with RE2 (the google-re2 package): matching time grows linearly with the text and with
the size of the compiled pattern, and only "does it match" is asked (nothing is captured). Java syntax,
decided construct by construct:

* refused as *unsupported* (mlgate refuses these when the pattern is stored, naming what is refused):
  backreferences (``\\1``, ``\\k<name>``), lookahead (``(?=``, ``(?!``), lookbehind (``(?<=``, ``(?<!``),
  atomic groups (``(?>``) and possessive quantifiers (``*+``, ``++``, ``?+``, ``{n}+``) — no linear-time
  matcher can run them; and a pattern whose RE2 program has more than :data:`MAX_PROGRAM_SIZE`
  instructions, since the work per character of text grows with that size;
* rewritten to RE2's spelling: ``\\uXXXX`` to ``\\x{XXXX}``, and ``\\Z`` to ``\\z`` (Java's ``\\Z`` also
  allows a final line terminator, which only differs for a search that ends at it);
* everything else is read as RE2 syntax, which shares Java's common core; a pattern RE2 cannot parse is
  *invalid*, with RE2's reason (as ``Pattern.compile`` would fail on most of them).

Each compiled pattern holds at most :data:`MAX_MEMORY` bytes for its program and match cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import re2

MAX_PROGRAM_SIZE = 10_000
MAX_MEMORY = 1 << 20
NOT_LINEAR = (
    "is not supported: regular expressions are matched in linear time (RE2), "
    "without backreferences, lookaround, atomic groups or possessive quantifiers"
)


class RegexError(ValueError):
    """A pattern mlgate will not run; ``reason`` says why.

    ``unsupported`` marks valid Java syntax that mlgate refuses (a construct without a linear-time match,
    or a program over :data:`MAX_PROGRAM_SIZE`), as opposed to a pattern that does not parse.
    """

    def __init__(self, reason: str, *, unsupported: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unsupported = unsupported


@dataclass(frozen=True)
class LinearRegex:
    """A compiled pattern; ``source`` is the pattern as the user wrote it."""

    source: str
    program_size: int
    _compiled: Any

    def fullmatch(self, text: str) -> bool:
        """Whether the whole text matches (Java ``Matcher.matches()``)."""
        return self._compiled.fullmatch(_utf8(text)) is not None

    def search(self, text: str) -> bool:
        """Whether the pattern matches somewhere in the text (Java ``Matcher.find()``)."""
        return self._compiled.search(_utf8(text)) is not None

    def cost(self, text: str) -> int:
        """An upper bound on the work of one match of ``text``, in (character × instruction) steps."""
        return (len(text) + 1) * self.program_size


def compile_regex(pattern: str, *, ignore_case: bool = False) -> LinearRegex:
    """Compile a Java-syntax pattern for linear-time matching.

    Raises RegexError: unsupported (a construct named in the reason, or a program too large) or invalid.
    """
    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern to stderr
    options.never_capture = True
    options.max_mem = MAX_MEMORY
    options.case_sensitive = not ignore_case
    try:
        compiled = re2.compile(_to_re2(pattern), options)
    except re2.error as error:
        raise _refusal(error) from None
    size = int(compiled.programsize)
    if size > MAX_PROGRAM_SIZE:
        raise RegexError(
            f"the pattern compiles to {size} RE2 instructions, more than the {MAX_PROGRAM_SIZE} allowed",
            unsupported=True,
        )
    return LinearRegex(pattern, size, compiled)


def _utf8(text: str) -> bytes:
    # Bytes skip the binding's character-offset bookkeeping (a third of a short match's cost); a lone
    # surrogate (possible in a Java-like string) passes through and matches like any other character.
    return text.encode("utf-8", "surrogatepass")


def _to_re2(pattern: str) -> str:
    """Rewrite the Java escapes RE2 spells differently; ``\\Q…\\E`` quotes are left as they are."""
    if "\\" not in pattern:
        return pattern
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char != "\\" or i + 1 == n:
            out.append(char)
            i += 1
            continue
        escaped = pattern[i + 1]
        if escaped == "Q":
            end = pattern.find("\\E", i + 2)
            end = n if end < 0 else end + 2
            out.append(pattern[i:end])
            i = end
        elif escaped == "u" and _is_hex(pattern[i + 2 : i + 6]):
            code = int(pattern[i + 2 : i + 6], 16)
            low = pattern[i + 8 : i + 12] if pattern.startswith("\\u", i + 6) else ""
            if 0xD800 <= code < 0xDC00 and _is_hex(low) and 0xDC00 <= int(low, 16) < 0xE000:
                # A UTF-16 surrogate pair, as Java source spells characters beyond U+FFFF.
                code = 0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00)
                i += 6
            out.append(f"\\x{{{code:X}}}")
            i += 6
        else:
            out.append("\\z" if escaped == "Z" else pattern[i : i + 2])
            i += 2
    return "".join(out)


def _is_hex(text: str) -> bool:
    return len(text) == 4 and all(c in "0123456789abcdefABCDEF" for c in text)


def _refusal(error: re2.error) -> RegexError:
    raw = error.args[0] if error.args else b""
    reason = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if reason.startswith("pattern too large"):
        return RegexError(f"the pattern is too large for RE2 ({reason})", unsupported=True)
    construct = _construct(reason)
    if construct is not None:
        return RegexError(f"{construct} {NOT_LINEAR}", unsupported=True)
    return RegexError(reason, unsupported=False)


def _construct(reason: str) -> str | None:
    """The Java construct RE2 refused, named, when it is one RE2 leaves out by design."""
    kind, _, fragment = reason.partition(": ")
    if kind == "invalid escape sequence" and fragment[1:2].isdigit() and fragment[1:2] != "0":
        return f'the backreference "{fragment}"'
    if kind == "invalid escape sequence" and fragment == "\\k":
        return 'the named backreference "\\k<…>"'
    if kind == "invalid perl operator":
        named = {"(?=": "lookahead", "(?!": "lookahead", "(?<=": "lookbehind", "(?<!": "lookbehind"}
        if fragment in named:
            return f'the {named[fragment]} "{fragment}"'
        if fragment == "(?>":
            return f'the atomic group "{fragment}"'
    if kind == "bad repetition operator" and len(fragment) > 1 and fragment.endswith("+"):
        return f'the possessive quantifier "{fragment}"'
    return None
