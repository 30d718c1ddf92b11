"""Durations for the API's `google.protobuf.Duration` fields (a cache's `ttl`): pure, no I/O.

    >>> to_duration("1h"), to_duration("90m"), to_duration("3600s"), to_duration(3600)
    ('3600s', '5400s', '3600s', '3600s')
    >>> to_duration("1h30m"), to_duration(1.5), to_duration("2d")
    ('5400s', '1.500s', '172800s')
    >>> duration_seconds("1.5s")
    1.5
"""

from __future__ import annotations

import datetime
import math
import re

from ..errors import SettingsError

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_PIECE = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*(d|h|m|s)")
_WHOLE = re.compile(r"\s*(?:(?:\d+(?:\.\d+)?|\.\d+)\s*[dhms]\s*)+")
_EXAMPLES = 'write it like "3600s", "90m", "1h", "1h30m", "2d" or a number of seconds'


def duration_seconds(value) -> float:
    """Seconds in `value`: a number of seconds, a `datetime.timedelta`, or text such as "3600s",
    "90m", "1h", "1h30m", "2d" (a bare number in text counts as seconds).

    Raises SettingsError for anything else, or for a duration that is not positive."""
    if isinstance(value, bool):
        raise SettingsError(f"A duration cannot be {value!r}: {_EXAMPLES}.")
    if isinstance(value, datetime.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if text.startswith("-") and (re.fullmatch(r"-\s*\d+(?:\.\d+)?", text) or _WHOLE.fullmatch(text[1:])):
            raise SettingsError(f"The duration {value!r} is negative: a time to live counts from now, so give a "
                                f"positive one ({_EXAMPLES}).")
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        elif text and _WHOLE.fullmatch(text):
            seconds = sum(float(number) * _UNITS[unit] for number, unit in _PIECE.findall(text))
        else:
            raise SettingsError(f"Cannot read {value!r} as a duration: {_EXAMPLES}.")
    else:
        raise SettingsError(f"A duration must be text or a number of seconds, not {type(value).__name__}: "
                            f"{_EXAMPLES}.")
    if not math.isfinite(seconds) or seconds <= 0:
        raise SettingsError(f"The duration {value!r} is not positive: give a time to live above zero "
                            f"({_EXAMPLES}).")
    return seconds


def to_duration(value) -> str:
    """The API's Duration text for `value` (see `duration_seconds`): "3600s", or "1.500s" with
    fractions (at most nanoseconds, as the protobuf JSON form allows).

    Raises SettingsError for an unreadable or non-positive duration."""
    seconds = duration_seconds(value)
    nanos = round(seconds * 1e9)
    if nanos == 0:
        raise SettingsError(f"The duration {value!r} is shorter than a nanosecond: give a time to live of at least "
                            "a second or so.")
    whole, fraction = divmod(nanos, 1_000_000_000)
    if not fraction:
        return f"{whole}s"
    digits = f"{fraction:09d}"
    for size in (3, 6, 9):  # protobuf JSON prints 0, 3, 6 or 9 fractional digits
        if digits[size:].strip("0") == "":
            return f"{whole}.{digits[:size]}s"
    return f"{whole}.{digits}s"
