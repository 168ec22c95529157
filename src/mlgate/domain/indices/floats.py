"""32-bit float arithmetic as Java does it, and Java's ``Float.toString``: OpenSearch computes scores
in ``float`` and prints them with the shortest decimal that reads back as the same float."""

from __future__ import annotations

import math
import struct

_FLOAT32 = struct.Struct("<f")


def f32(value: float) -> float:
    """``value`` rounded to the nearest 32-bit float (one Java ``float`` operation's result)."""
    try:
        return float(_FLOAT32.unpack(_FLOAT32.pack(value))[0])
    except OverflowError:
        return math.copysign(math.inf, value)


def java_float_str(value: float) -> str:
    """``Float.toString``: ``1.7878418``, ``1.0``, ``1.0E-4``, ``1.2345678E7``, ``NaN``, ``Infinity``."""
    value = f32(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    for digits in range(1, 10):
        text = f"{value:.{digits}e}" if digits > 1 else f"{value:.0e}"
        if f32(float(text)) == value:
            break
    mantissa, exponent = text.split("e")
    sign = "-" if mantissa.startswith("-") else ""
    figures = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    power = int(exponent)
    if -3 <= power < 7:
        if power >= 0:
            whole, frac = figures[: power + 1].ljust(power + 1, "0"), figures[power + 1 :]
        else:
            whole, frac = "0", "0" * (-power - 1) + figures
        return f"{sign}{whole}.{frac or '0'}"
    return f"{sign}{figures[0]}.{figures[1:] or '0'}E{power}"
