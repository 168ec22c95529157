"""The syntax of Lucene regular expressions (the ``regexp`` query), parsed into a small tree.

Grammar as in Lucene's ``RegExp`` (union ``|``, concatenation, ``? * + {n} {n,} {n,m}``, ``[...]``
classes with ranges and ``^``, ``"..."`` literals, ``( )``, ``.``, ``\\`` escapes and ``\\d \\s \\w``
classes); a special character whose flag is off is literal, and so is a leading one (``*a``).
Tree: ``("set", ranges)`` one character; ``("cat", items)``; ``("alt", items)``;
``("rep", node, min, max|None)``; ``("none",)`` the empty language.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.search_value import query_error

_MAX_NESTING = 50  # groups and stacked quantifiers: the parser and the compiler recurse on them

# Lucene RegExp flag bits (OpenSearch's RegexpFlag names them).
FLAGS = {
    "INTERSECTION": 0x01,
    "COMPLEMENT": 0x02,
    "EMPTY": 0x04,
    "ANYSTRING": 0x08,
    "INTERVAL": 0x20,
    "NONE": 0x00,
    "ALL": 0xFF,
}
_AUTOMATON = 0x10

Range = tuple[int, int]
ANY: tuple[Range, ...] = ((0, 0x10FFFF),)
_CLASSES: dict[str, tuple[Range, ...]] = {
    "d": ((48, 57),),
    "s": ((9, 13), (32, 32)),
    "w": ((48, 57), (65, 90), (95, 95), (97, 122)),
}


def _complement(ranges: Sequence[Range]) -> tuple[Range, ...]:
    out: list[Range] = []
    low = 0
    for start, end in sorted(ranges):
        if start > low:
            out.append((low, start - 1))
        low = max(low, end + 1)
    if low <= 0x10FFFF:
        out.append((low, 0x10FFFF))
    return tuple(out)


Node = tuple[Any, ...]


class _Parser:
    """Recursive descent over Lucene's RegExp grammar (``RegExp.parseUnionExp`` and below)."""

    def __init__(self, pattern: str, flags: int) -> None:
        self.text = pattern
        self.pos = 0
        self.flags = flags
        self.depth = 0

    def parse(self) -> Node:
        node = self.union()
        if self.pos < len(self.text):
            raise query_error(f"end-of-string expected at position {self.pos}")
        return node

    def more(self) -> bool:
        return self.pos < len(self.text)

    def peek(self, chars: str) -> bool:
        return self.more() and self.text[self.pos] in chars

    def match(self, char: str) -> bool:
        if self.peek(char):
            self.pos += 1
            return True
        return False

    def next(self) -> str:
        if not self.more():
            raise query_error("unexpected end-of-string")
        self.pos += 1
        return self.text[self.pos - 1]

    def enter(self) -> None:
        self.depth += 1
        if self.depth > _MAX_NESTING:
            raise query_error(f"regexp nests groups or quantifiers more than {_MAX_NESTING} deep")

    def union(self) -> Node:
        items = [self.concat()]
        while self.match("|"):
            items.append(self.concat())
        return items[0] if len(items) == 1 else ("alt", tuple(items))

    def concat(self) -> Node:
        # As in Lucene, the first item is read whatever it is: a leading ``*`` or ``|`` is literal.
        stops = ")|&" if self.flags & FLAGS["INTERSECTION"] else ")|"
        items = [self.repeat()]
        while self.more() and not self.peek(stops):
            items.append(self.repeat())
        if self.peek("&"):
            raise query_error("the regexp intersection operator [&] is not supported by mlgate")
        return items[0] if len(items) == 1 else ("cat", tuple(items))

    def repeat(self) -> Node:
        node = self.complement()
        start_depth = self.depth
        while self.peek("?*+{"):
            self.enter()
            op = self.next()
            if op == "?":
                node = ("rep", node, 0, 1)
            elif op == "*":
                node = ("rep", node, 0, None)
            elif op == "+":
                node = ("rep", node, 1, None)
            else:
                low = self.integer()
                high: int | None = low
                if self.match(","):
                    high = self.integer() if self.peek("0123456789") else None
                if not self.match("}"):
                    raise query_error(f"expected '}}' at position {self.pos}")
                if high is not None and low > high:
                    raise query_error(f"invalid repetition range(out of order): {low}..{high}")
                node = ("rep", node, low, high)
        self.depth = start_depth
        return node

    def integer(self) -> int:
        start = self.pos
        while self.peek("0123456789"):
            self.pos += 1
        if start == self.pos:
            raise query_error(f"integer expected at position {self.pos}")
        return int(self.text[start : self.pos])

    def complement(self) -> Node:
        if self.flags & FLAGS["COMPLEMENT"] and self.peek("~"):
            raise query_error("the regexp complement operator [~] is not supported by mlgate")
        return self.char_class_expression()

    def char_class_expression(self) -> Node:
        if not self.match("["):
            return self.simple()
        negate = self.match("^")
        ranges = list(self.char_class())
        while self.more() and not self.peek("]"):
            ranges.extend(self.char_class())
        if not self.match("]"):
            raise query_error(f"expected ']' at position {self.pos}")
        return ("set", _complement(ranges) if negate else tuple(ranges))

    def char_class(self) -> tuple[Range, ...]:
        escaped = self.escaped_class()
        if escaped is not None:
            return escaped
        low = ord(self.char())
        if self.match("-"):
            high = ord(self.char())
            if low > high:
                raise query_error(f"invalid range: from ({chr(low)}) cannot be > to ({chr(high)})")
            return ((low, high),)
        return ((low, low),)

    def escaped_class(self) -> tuple[Range, ...] | None:
        """``\\d`` ``\\s`` ``\\w`` and their negations, or None (nothing consumed)."""
        if self.pos + 1 < len(self.text) and self.text[self.pos] == "\\":
            letter = self.text[self.pos + 1]
            if letter.lower() in _CLASSES:
                self.pos += 2
                ranges = _CLASSES[letter.lower()]
                return _complement(ranges) if letter.isupper() else ranges
        return None

    def char(self) -> str:
        if self.match("\\"):
            return self.next()
        return self.next()

    def simple(self) -> Node:
        if self.match("."):
            return ("set", ANY)
        if self.flags & FLAGS["EMPTY"] and self.match("#"):
            return ("none",)
        if self.flags & FLAGS["ANYSTRING"] and self.match("@"):
            return ("rep", ("set", ANY), 0, None)
        if self.match('"'):
            end = self.text.find('"', self.pos)
            if end < 0:
                raise query_error(f"expected '\"' at position {self.pos}")
            literal, self.pos = self.text[self.pos : end], end + 1
            return ("cat", tuple(("set", ((ord(c), ord(c)),)) for c in literal))
        if self.match("("):
            if self.match(")"):
                return ("cat", ())
            self.enter()
            node = self.union()
            self.depth -= 1
            if not self.match(")"):
                raise query_error(f"expected ')' at position {self.pos}")
            return node
        if self.flags & (FLAGS["INTERVAL"] | _AUTOMATON) and self.peek("<"):
            raise query_error("regexp intervals and named automata (<...>) are not supported by mlgate")
        escaped = self.escaped_class()
        if escaped is not None:
            return ("set", escaped)
        code = ord(self.char())
        return ("set", ((code, code),))


def parse_flags(value: object) -> int:
    """OpenSearch's ``flags`` (``"ALL"``, ``"ANYSTRING|INTERVAL"``...) to Lucene flag bits."""
    if not isinstance(value, str):
        raise InvalidRequestError("[regexp] failed to parse field [flags]", error_type="parsing_exception")
    bits = 0
    for name in value.split("|"):
        name = name.strip().upper()
        if not name:
            continue
        if name not in FLAGS:
            raise InvalidRequestError(f"Unknown regexp flag [{name.lower()}]")
        bits |= FLAGS[name]
    return bits


def parse_regexp(pattern: str, flags: int) -> Node:
    """The tree of ``pattern`` under Lucene flag bits ``flags``."""
    return _Parser(pattern, flags).parse()
