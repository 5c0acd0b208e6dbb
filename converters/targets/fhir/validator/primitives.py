"""Checks of primitive values: JSON type, the official regex of the type, calendar dates, integer ranges.

The regular expressions, maximum lengths and integer ranges are the ones in the official
StructureDefinitions (`regex` extension, `maxLength`, `minValueInteger`/`maxValueInteger` on
`<type>.value`, compiled into the definition table); regexes are matched against the whole value.
Numbers arrive already parsed from JSON: an integer is matched in its JSON text (`str` of the int, which
is how JSON writes it), so positiveInt's `[1-9][0-9]*` rejects 0 and negatives, and checked against the
32-bit range that positiveInt and unsignedInt inherit from integer; a decimal is checked by JSON type
only (the R5 decimal regex in 5.0.0 has a stray `}` that would reject every exponent). Beyond the
regexes, dates must exist on the calendar (`2021-02-30` matches the pattern but is not a date).
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable
from typing import Any

from converters.targets.fhir.validator.definitions import Primitive

#: A checker returns None when the value is fine, else the reason in a few words.
Checker = Callable[[Any], str | None]

_DATE_TYPES = frozenset({"date", "dateTime", "instant"})
_YMD = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def calendar_problem(value: str) -> str | None:
    """Why a date-like value that already matches its regex is not a real date (e.g. 30 February)."""
    match = _YMD.match(value)
    if match is None or match.group(3) is None:
        return None
    year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
    last = calendar.monthrange(year, month)[1]
    if day > last:
        return f"day {day} does not exist in {calendar.month_name[month]} {year}"
    return None


def _json_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a JSON boolean"
    if isinstance(value, int | float):
        return "a JSON number"
    if isinstance(value, str):
        return "a JSON string"
    if isinstance(value, list):
        return "a JSON array"
    return "a JSON object"


def make_checker(type_code: str, primitive: Primitive | None) -> Checker:
    """The checker of one primitive type (built once per validator and type)."""
    json_kind = primitive.json if primitive is not None else "string"
    if json_kind == "boolean":
        return _check_boolean
    if json_kind == "number":
        return _check_decimal
    # ASCII: in the spec's regexes (XML Schema / Java flavour) \s is ASCII white space only, so a
    # no-break space inside a code or string is not white space, as Python's Unicode \s would have it.
    regex = re.compile(primitive.regex, re.ASCII) if primitive is not None and primitive.regex else None
    if json_kind == "integer" and primitive is not None:
        return _integer_checker(type_code, regex, primitive.min_value, primitive.max_value)
    max_length = primitive.max_length if primitive is not None else None
    return _string_checker(type_code, regex, max_length, type_code in _DATE_TYPES)


def _check_boolean(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    return f"it is {_json_name(value)}; a boolean is JSON true or false"


def _integer_checker(
    type_code: str, regex: re.Pattern[str] | None, low: int | None, high: int | None
) -> Checker:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"it is {_json_name(value)}; this type is a JSON number without a fraction"
        if regex is not None and regex.fullmatch(str(value)) is None:
            return f"it does not match the {type_code} pattern {regex.pattern}"
        if low is not None and value < low:
            return f"it is less than {low}"
        if high is not None and value > high:
            return f"it is more than {high}"
        return None

    return check


def _check_decimal(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"it is {_json_name(value)}; a decimal is a JSON number"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN and infinity are not FHIR decimals"
    return None


def _string_checker(
    type_code: str, regex: re.Pattern[str] | None, max_length: int | None, is_date: bool
) -> Checker:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return f"it is {_json_name(value)}; a {type_code} is a JSON string"
        if regex is not None and regex.fullmatch(value) is None:
            if not value:
                return "it is empty; leave the element out instead"
            return f"it does not match the {type_code} pattern {regex.pattern}"
        if max_length is not None and len(value) > max_length:
            return f"it is longer than {max_length} characters"
        if is_date:
            return calendar_problem(value)
        return None

    return check
