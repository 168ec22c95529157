"""Values printed as OpenSearch prints them: Java's ``Double.toString`` and date formats.

A date format is one of OpenSearch's named formats (``strict_date_time``, ``epoch_millis``, ...) or a
Java ``DateTimeFormatter`` pattern (``yyyy-MM-dd'T'HH:mm``); ``a||b`` prints with ``a``. Only printing is
needed here: aggregation keys and ``*_as_string`` values (OpenSearch: ``DocValueFormat.DateTime``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from mlgate.domain.errors import InvalidRequestError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

_ISO = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"
_NAMED = {
    "date_time": _ISO,
    "date_optional_time": _ISO,
    "date_optional_time_nanos": _ISO,
    "date_time_no_millis": "yyyy-MM-dd'T'HH:mm:ssXXX",
    "date": "yyyy-MM-dd",
    "year_month_day": "yyyy-MM-dd",
    "year_month": "yyyy-MM",
    "year": "yyyy",
    "date_hour": "yyyy-MM-dd'T'HH",
    "date_hour_minute": "yyyy-MM-dd'T'HH:mm",
    "date_hour_minute_second": "yyyy-MM-dd'T'HH:mm:ss",
    "date_hour_minute_second_millis": "yyyy-MM-dd'T'HH:mm:ss.SSS",
    "date_hour_minute_second_fraction": "yyyy-MM-dd'T'HH:mm:ss.SSS",
    "hour": "HH",
    "hour_minute": "HH:mm",
    "hour_minute_second": "HH:mm:ss",
    "hour_minute_second_millis": "HH:mm:ss.SSS",
    "time": "HH:mm:ss.SSSXXX",
    "time_no_millis": "HH:mm:ssXXX",
    "basic_date": "yyyyMMdd",
    "basic_date_time": "yyyyMMdd'T'HHmmss.SSSXX",
    "basic_date_time_no_millis": "yyyyMMdd'T'HHmmssXX",
}
_EPOCH_FORMATS = frozenset({"epoch_millis", "epoch_second"})
# One run of a pattern letter, a quoted literal, or any other single character.
_PATTERN_TOKEN = re.compile(r"([A-Za-z])\1*|'(?:[^']|'')*'|.", re.DOTALL)
_SUPPORTED_LETTERS = frozenset("yuMLdHhkKmsSaEZXx")


def java_double(value: float) -> str:
    """``Double.toString``: plain digits in [1e-3, 1e7), else ``1.0E7`` style; always a fraction digit."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if str(value).startswith("-") else "0.0"
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        return sign + repr(magnitude)  # Python's shortest repr is plain in this range, like Java's
    exact = Decimal(repr(magnitude)).normalize()
    _, digits, exponent = exact.as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    return f"{sign}{text[0]}.{text[1:] or '0'}E{len(text) - 1 + exponent}"


@dataclass(frozen=True)
class DateFormat:
    """A parsed date format; ``name`` is what the request said (for messages)."""

    name: str
    tokens: tuple[str, ...]
    epoch: str | None = None

    def format(self, millis: float, offset_ms: int = 0) -> str:
        """Print the instant ``millis`` (epoch milliseconds) as seen at UTC offset ``offset_ms``."""
        if self.epoch == "epoch_millis":
            return str(int(millis))
        if self.epoch == "epoch_second":
            seconds, rest = divmod(int(millis), 1000)
            return f"{seconds}.{rest:03d}".rstrip("0").rstrip(".")
        try:
            moment = _EPOCH + timedelta(milliseconds=int(millis) + offset_ms)
        except OverflowError as err:
            raise InvalidRequestError(f"date [{int(millis)}] is out of the printable range") from err
        return "".join(_print(token, moment, offset_ms) for token in self.tokens)


def parse_date_format(spec: str) -> DateFormat:
    """Parse ``format``: a named format or a Java pattern; ``a||b`` prints with ``a``."""
    first = spec.split("||", 1)[0].strip()
    name = first.removeprefix("strict_")
    if name in _EPOCH_FORMATS:
        return DateFormat(spec, (), epoch=name)
    pattern = _NAMED.get(name, first)
    tokens = tuple(match.group(0) for match in _PATTERN_TOKEN.finditer(pattern))
    for token in tokens:
        if token[0].isalpha() and token[0] not in _SUPPORTED_LETTERS:
            raise InvalidRequestError(f"Invalid format: [{spec}]: Unknown pattern letter: {token[0]}")
    if not tokens:
        raise InvalidRequestError(f"Invalid format: [{spec}]: a date format cannot be empty")
    return DateFormat(spec, tokens)


DEFAULT_DATE_FORMAT = parse_date_format("strict_date_time||epoch_millis")


def _offset(offset_ms: int, *, colon: bool, zulu: bool, minutes_optional: bool = False) -> str:
    if offset_ms == 0 and zulu:
        return "Z"
    sign = "-" if offset_ms < 0 else "+"
    hours, minutes = divmod(abs(offset_ms) // 60_000, 60)
    if minutes_optional and minutes == 0:
        return f"{sign}{hours:02d}"
    return f"{sign}{hours:02d}{':' if colon else ''}{minutes:02d}"


def _print(token: str, moment: datetime, offset_ms: int) -> str:
    letter, width = token[0], len(token)
    if token.startswith("'"):
        return token[1:-1].replace("''", "'") if width > 1 else "'"
    if not letter.isalpha():
        return token
    if letter in "yu":
        return f"{moment.year % 100:02d}" if width == 2 else f"{moment.year:0{width}d}"
    if letter in "ML":
        if width >= 4:
            return _MONTHS[moment.month - 1]
        return _MONTHS[moment.month - 1][:3] if width == 3 else f"{moment.month:0{width}d}"
    if letter == "E":
        day = _DAYS[moment.weekday()]
        return day if width >= 4 else day[:3]
    if letter == "a":
        return "AM" if moment.hour < 12 else "PM"
    if letter == "S":
        fraction = f"{moment.microsecond // 1000:03d}" + "0" * max(0, width - 3)
        return fraction[:width]
    if letter in "ZXx":
        return _zone(letter, width, offset_ms)
    number = {
        "d": moment.day,
        "H": moment.hour,
        "k": moment.hour or 24,
        "K": moment.hour % 12,
        "h": moment.hour % 12 or 12,
        "m": moment.minute,
        "s": moment.second,
    }[letter]
    return f"{number:0{width}d}"


def _zone(letter: str, width: int, offset_ms: int) -> str:
    if letter == "Z":
        if width == 4:
            return "GMT" if offset_ms == 0 else "GMT" + _offset(offset_ms, colon=True, zulu=False)
        return _offset(offset_ms, colon=width == 5, zulu=width == 5)
    zulu = letter == "X"
    if width == 1:
        return _offset(offset_ms, colon=False, zulu=zulu, minutes_optional=True)
    return _offset(offset_ms, colon=width >= 3, zulu=zulu)
