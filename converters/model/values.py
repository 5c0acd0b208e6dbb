"""Value parsers of the model layer: dates, ages, whole numbers and yes/no as registries write them.

The named conversions (converters/fieldmap/conversions.py, for field maps and pages) and writers (the SDTM TS
writer reads an age back) call these.

Each returns None when the text does not fit, so the reader can report the value as unreadable and keep
its text, instead of guessing.
"""

from __future__ import annotations

import re

from converters.model import Age, DatePrecision, PartialDate

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$", re.ASCII)
_MONTH_DAY_YEAR = re.compile(r"^([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})$", re.ASCII)
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})\s+([A-Za-z]+)\.?,?\s+(\d{4})$", re.ASCII)
_MONTH_YEAR = re.compile(r"^([A-Za-z]+)\.?,?\s+(\d{4})$", re.ASCII)
_AGE = re.compile(
    r"^(\d+(?:\.\d+)?)\s*(years?|yrs?|months?|weeks?|days?|hours?|minutes?)$", re.IGNORECASE | re.ASCII
)
_DIGITS = re.compile(r"^\d{1,18}$", re.ASCII)
AGE_UNITS = {  # the unit words of ages, for every reader (a format adds its own codes as data)
    "year": "YEARS", "years": "YEARS", "yr": "YEARS", "yrs": "YEARS",
    "month": "MONTHS", "months": "MONTHS", "week": "WEEKS", "weeks": "WEEKS",
    "day": "DAYS", "days": "DAYS", "hour": "HOURS", "hours": "HOURS",
    "minute": "MINUTES", "minutes": "MINUTES",
}


def _valid(year: int, month: int | None, day: int | None) -> bool:
    if month is not None and not 1 <= month <= 12:
        return False
    if day is not None:
        import calendar

        assert month is not None
        return 1 <= day <= calendar.monthrange(year, month)[1]
    return True


def _make(year: int, month: int | None, day: int | None, text: str, iso_input: bool) -> PartialDate | None:
    if not _valid(year, month, day):
        return None
    if day is not None and month is not None:
        value, precision = f"{year:04d}-{month:02d}-{day:02d}", DatePrecision.DAY
    elif month is not None:
        value, precision = f"{year:04d}-{month:02d}", DatePrecision.MONTH
    else:
        value, precision = f"{year:04d}", DatePrecision.YEAR
    return PartialDate(value=value, precision=precision, text=None if iso_input else text)


def parse_partial_date(text: str, date_type: str | None = None) -> PartialDate | None:
    """'2024-05', '2024-05-27', 'May 2024', 'May 27, 2024', '27 May 2024' -> PartialDate with its precision.

    `date_type` is ACTUAL or ESTIMATED when the source says so; it is never inferred from the date.
    """
    raw = text.strip()
    result: PartialDate | None = None
    if m := _ISO.match(raw):
        result = _make(int(m[1]), int(m[2]) if m[2] else None, int(m[3]) if m[3] else None, raw, True)
    elif (m := _MONTH_DAY_YEAR.match(raw)) and m[1].casefold() in _MONTHS:
        result = _make(int(m[3]), _MONTHS[m[1].casefold()], int(m[2]), raw, False)
    elif (m := _DAY_MONTH_YEAR.match(raw)) and m[2].casefold() in _MONTHS:
        result = _make(int(m[3]), _MONTHS[m[2].casefold()], int(m[1]), raw, False)
    elif (m := _MONTH_YEAR.match(raw)) and m[1].casefold() in _MONTHS:
        result = _make(int(m[2]), _MONTHS[m[1].casefold()], None, raw, False)
    if result is not None and date_type in ("ACTUAL", "ESTIMATED"):
        result = result.model_copy(update={"type": date_type})
    return result


def parse_age(text: str) -> Age | None:
    """'18 Years', '6 Months', '65 years' -> Age; 'N/A', 'No limit' and bare numbers -> None (no unit)."""
    raw = text.strip()
    m = _AGE.match(raw)
    if not m:
        return None
    unit = AGE_UNITS.get(m[2].casefold())
    if unit is None:
        return None
    value = float(m[1])
    return Age(value=value, unit=unit, text=raw)


def parse_int(text: str) -> int | None:
    """A whole non-negative number, allowing thousands separators ('1,200')."""
    raw = text.strip().replace(",", "")
    return int(raw) if _DIGITS.match(raw) else None


def parse_bool(text: str) -> bool | None:
    """Yes/No, true/false as registries write them."""
    low = text.strip().casefold()
    if low in {"yes", "true", "y"}:
        return True
    if low in {"no", "false", "n"}:
        return False
    return None



_DAY_FIRST = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", re.ASCII)
_YEAR_FIRST_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$", re.ASCII)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$", re.ASCII)


def parse_export_date(text: str) -> PartialDate | None:
    """A date as WHO ICTRP exports and the registries' exchange files write it: every form `parse_partial_date`
    reads, and `08/04/2024` (day first, as ICTRP and the registries it lists write it), `20240408`, `2016/12/06`.
    The text as written is kept when it is not ISO 8601."""
    raw = text.strip()
    found = parse_partial_date(raw)
    if found is not None:
        return found
    if m := _DAY_FIRST.match(raw):
        return _make(int(m[3]), int(m[2]), int(m[1]), raw, False)
    if (m := _COMPACT.match(raw)) or (m := _YEAR_FIRST_SLASHED.match(raw)):
        return _make(int(m[1]), int(m[2]), int(m[3]), raw, False)
    return None
