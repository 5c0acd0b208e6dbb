"""ISO 8601 date/time and duration checks as SDTM uses them (for the CORE `invalid_date`/`invalid_duration`).

SDTM --DTC values may be partial (`2012-06`), may have unknown components written as `-` (`2012---15`) and
may be intervals (`2012-01-01/2012-02`). A value is a valid date when it has that shape and, when it names
only known components, is a real calendar date. Durations are `PnYnMnDTnHnMnS` or `PnW`, with a decimal
fraction allowed only in the smallest unit given.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta, timezone

_DATE = re.compile(
    r"^(?P<year>-?\d{4}|-)"
    r"(?:-(?P<month>\d{2}|-)"
    r"(?:-(?P<day>\d{2}|-)"
    r"(?:T(?P<hour>\d{2}|-)"
    r"(?::(?P<minute>\d{2}|-)"
    r"(?::(?P<second>\d{2}|-)(?P<fraction>\.\d+)?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?"
    r")?)?)?)?$"
)
_UNKNOWN_MARKERS = ("--", "-:")
_NUMBER = r"\d+(?:[.,]\d*)?"
_DURATION = re.compile(
    rf"^(?P<sign>-)?P(?:(?P<weeks>{_NUMBER})W|"
    rf"(?:(?P<years>{_NUMBER})Y)?(?:(?P<months>{_NUMBER})M)?(?:(?P<days>{_NUMBER})D)?"
    rf"(?:T(?:(?P<hours>{_NUMBER})H)?(?:(?P<minutes>{_NUMBER})M)?(?:(?P<seconds>{_NUMBER})S)?)?)$"
)
_DURATION_UNITS = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")
_RANGES = {"month": (1, 12), "hour": (0, 23), "minute": (0, 59), "second": (0, 59)}


def _shape_ok(text: str) -> re.Match[str] | None:
    match = _DATE.match(text)
    if match is None:
        return None
    for part, (low, high) in _RANGES.items():
        value = match.group(part)
        if value not in (None, "-") and not low <= int(value) <= high:
            return None
    day = match.group("day")
    if day not in (None, "-") and not 1 <= int(day) <= 31:
        return None
    tz = match.group("tz")
    if tz not in (None, "Z") and (int(tz[1:3]) > 23 or int(tz[4:6]) > 59):
        return None
    return match


def _calendar_ok(match: re.Match[str]) -> bool:
    """A date with only known components must exist: year 1 or later, day within its month."""
    year = match.group("year")
    if year.startswith("-") or int(year) < 1:
        return False
    month, day = match.group("month"), match.group("day")
    if month is not None and day is not None:
        return int(day) <= calendar.monthrange(int(year), int(month))[1]
    return True


def is_valid_date(value: object) -> bool:
    """True for an SDTM ISO 8601 date/datetime, partial or with unknown parts, or an interval of two."""
    if not isinstance(value, str) or value == "":
        return False
    if "/" in value:
        parts = value.split("/")
        return len(parts) == 2 and all(_shape_ok(p) is not None for p in parts)
    match = _shape_ok(value)
    if match is None:
        return False
    if any(marker in value for marker in _UNKNOWN_MARKERS):
        return True
    return _calendar_ok(match)


def is_valid_duration(value: object, *, negative_allowed: bool = True) -> bool:
    """True for an ISO 8601 duration (`P2Y`, `P26W`, `PT36H`, `P1DT12H`, `-P3D` when allowed)."""
    if not isinstance(value, str):
        return False
    match = _DURATION.match(value)
    if match is None or (match.group("sign") and not negative_allowed):
        return False
    given = [match.group(unit) for unit in _DURATION_UNITS if match.group(unit) is not None]
    if not given:
        return False
    if "T" in value and not any(match.group(u) for u in ("hours", "minutes", "seconds")):
        return False
    with_fraction = [i for i, part in enumerate(given) if "." in part or "," in part]
    return not with_fraction or with_fraction == [len(given) - 1]


def comparable_datetime(value: object) -> datetime | None:
    """A value as a UTC datetime for date comparisons, missing parts taken as their first value.

    Returns None for anything that is not a date with a known year (unknown components, intervals, text).
    """
    if not isinstance(value, str) or "/" in value or any(m in value for m in _UNKNOWN_MARKERS):
        return None
    match = _shape_ok(value)
    if match is None or not _calendar_ok(match):
        return None

    def part(name: str, default: int) -> int:
        text = match.group(name)
        return default if text in (None, "-") else int(text)

    fraction = match.group("fraction")
    micro = round(float(fraction) * 1_000_000) if fraction else 0
    tz_text = match.group("tz")
    offset = timedelta(0)
    if tz_text not in (None, "Z"):
        sign = -1 if tz_text[0] == "-" else 1
        offset = sign * timedelta(hours=int(tz_text[1:3]), minutes=int(tz_text[4:6]))
    return datetime(
        part("year", 1), part("month", 1), part("day", 1), part("hour", 0), part("minute", 0),
        part("second", 0), min(micro, 999_999), tzinfo=timezone(offset),
    ).astimezone(UTC)
