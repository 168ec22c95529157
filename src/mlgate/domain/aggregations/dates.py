"""Time in aggregations: ``time_zone`` offsets, ``date_histogram`` intervals and their rounding, dates.

Dates are epoch milliseconds, as ML Commons stores them. Rounding follows OpenSearch's ``Rounding``:
a value is rounded down in local time (UTC plus the zone's offset) to the start of its calendar unit
(weeks start on Monday) or to a multiple of a fixed interval, then shifted back to UTC. Only fixed
offsets are zones here (``UTC``, ``+02:00``): a named zone would need the tz database, which a pure
domain cannot read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from mlgate.domain.errors import InvalidRequestError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND, _MINUTE, _HOUR, _DAY = 1000, 60_000, 3_600_000, 86_400_000
# OpenSearch: DateHistogramAggregationBuilder.DATE_FIELD_UNITS.
CALENDAR_UNITS = {
    "1s": "second",
    "second": "second",
    "1m": "minute",
    "minute": "minute",
    "1h": "hour",
    "hour": "hour",
    "1d": "day",
    "day": "day",
    "1w": "week",
    "week": "week",
    "1M": "month",
    "month": "month",
    "1q": "quarter",
    "quarter": "quarter",
    "1y": "year",
    "year": "year",
}
_FIXED_UNITS = {"ms": 1, "s": _SECOND, "m": _MINUTE, "h": _HOUR, "d": _DAY}
_UNIT_MS = {"second": _SECOND, "minute": _MINUTE, "hour": _HOUR, "day": _DAY}
_MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}
_TIME_VALUE = re.compile(r"(\d+)\s*(ms|s|m|h|d)")
_OFFSET = re.compile(r"(?:UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2}))?")
_UTC_NAMES = frozenset({"UTC", "Z", "GMT", "UT", "Etc/UTC", "Etc/GMT", "Etc/UCT", "UCT", "Etc/Zulu", "Zulu"})


def parse_time_value(text: str, setting: str) -> int:
    """A fixed duration such as ``30s`` or ``12h`` in milliseconds (OpenSearch's ``TimeValue``)."""
    match = _TIME_VALUE.fullmatch(text.strip())
    if match is None:
        raise InvalidRequestError(
            f"failed to parse setting [{setting}] with value [{text}] as a time value: unit is missing or "
            "unrecognized",
            error_type="parse_exception",
        )
    return int(match.group(1)) * _FIXED_UNITS[match.group(2)]


def parse_time_zone(raw: Any) -> int:
    """The UTC offset in milliseconds of ``time_zone`` (an offset like ``+02:00``, or UTC)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        if -18 <= raw <= 18:
            return raw * _HOUR
        raise InvalidRequestError(
            f"Zone offset hours not in valid range: value {raw} is not in the range -18 to 18"
        )
    if not isinstance(raw, str):
        raise InvalidRequestError(f"Unknown time-zone ID: {raw}")
    if raw in _UTC_NAMES:
        return 0
    match = _OFFSET.fullmatch(raw)
    if match is None:
        if "/" in raw:
            raise InvalidRequestError(
                f"time_zone [{raw}] is not supported by mlgate: use UTC or a fixed offset such as +02:00"
            )
        raise InvalidRequestError(f"Unknown time-zone ID: {raw}")
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    if hours > 18 or minutes > 59:
        raise InvalidRequestError(f"Invalid ID for ZoneOffset, invalid format: {raw}")
    return (-1 if match.group(1) == "-" else 1) * (hours * _HOUR + minutes * _MINUTE)


def parse_date(raw: Any) -> int:
    """A date written in a request (epoch milliseconds or ISO-8601) as epoch milliseconds."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return int(raw)
    if isinstance(raw, str):
        text = raw.strip()
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        if text.startswith("now"):
            raise InvalidRequestError(f"date math [{raw}] is not supported", error_type="parse_exception")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return (moment - _EPOCH) // timedelta(milliseconds=1)
    raise InvalidRequestError(
        f"failed to parse date field [{raw}] with format [strict_date_time||epoch_millis]",
        error_type="parse_exception",
    )


@dataclass(frozen=True)
class Interval:
    """A ``date_histogram`` interval: a calendar unit or a fixed number of milliseconds."""

    calendar: str | None = None
    fixed_ms: int = 0

    def round_down(self, millis: int, offset_ms: int) -> int:
        """The key of the bucket holding ``millis`` in a zone ``offset_ms`` ahead of UTC."""
        local = millis + offset_ms
        if self.calendar is None:
            return local // self.fixed_ms * self.fixed_ms - offset_ms
        if self.calendar in _UNIT_MS:
            unit = _UNIT_MS[self.calendar]
            return local // unit * unit - offset_ms
        if self.calendar == "week":
            day = local // _DAY
            monday = day - (day + 3) % 7  # 1970-01-01 was a Thursday
            return monday * _DAY - offset_ms
        moment = _moment(local)
        months = _MONTHS_PER[self.calendar]
        month = (moment.month - 1) // months * months + 1
        start = datetime(moment.year, month, 1, tzinfo=UTC)
        return (start - _EPOCH) // timedelta(milliseconds=1) - offset_ms

    def next_key(self, key: int, offset_ms: int) -> int:
        """The key of the bucket after the one starting at ``key``."""
        if self.calendar is None:
            return key + self.fixed_ms
        if self.calendar in _UNIT_MS:
            return key + _UNIT_MS[self.calendar]
        if self.calendar == "week":
            return key + 7 * _DAY
        moment = _moment(key + offset_ms)
        total = moment.year * 12 + moment.month - 1 + _MONTHS_PER[self.calendar]
        try:
            start = datetime(total // 12, total % 12 + 1, 1, tzinfo=UTC)
        except ValueError as err:
            raise InvalidRequestError(f"Date histogram bucket key overflow for key [{key}]") from err
        return (start - _EPOCH) // timedelta(milliseconds=1) - offset_ms


def _moment(local_ms: int) -> datetime:
    try:
        return _EPOCH + timedelta(milliseconds=local_ms)
    except OverflowError as err:
        raise InvalidRequestError(f"date [{local_ms}] is out of the supported range") from err


def calendar_interval(text: str) -> Interval:
    """``calendar_interval``: one unit such as ``1d``, ``week`` or ``1M``."""
    unit = CALENDAR_UNITS.get(text)
    if unit is None:
        raise InvalidRequestError(
            f"The supplied interval [{text}] could not be parsed as a calendar interval."
        )
    return Interval(calendar=unit)


def fixed_interval(text: str) -> Interval:
    """``fixed_interval``: a multiple of a fixed unit such as ``90m``."""
    millis = parse_time_value(text, "date_histogram.fixedInterval")
    if millis <= 0:
        raise InvalidRequestError("Zero or negative time interval not supported")
    return Interval(fixed_ms=millis)


def legacy_interval(raw: Any) -> Interval:
    """The deprecated ``interval``: a calendar unit when it names one, else a fixed duration."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw < 1:
            raise InvalidRequestError("[interval] must be 1 or greater for aggregation [date_histogram]")
        return Interval(fixed_ms=raw)
    text = str(raw)
    if text in CALENDAR_UNITS:
        return calendar_interval(text)
    return fixed_interval(text)
