"""The named conversions of mapping files: one registry, used by the field maps and the page reader.

A rule or a page field names a conversion (`convert: partial_date`); the conversion turns what the source gives
(one value, or named parts such as a date and its type) into the model's value, says the value means "nothing to
record" (`Absent`), or refuses it with the reason (`Rejected`): it never guesses. The names a mapping may use are
listed in its schema (an enum checked against this registry by a test), so a wrong name fails when the mapping is
loaded.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from converters.model import Age, Enrollment, GeoPoint, PartialDate, TextFormat
from converters.model.criteria_markdown import parse_criteria
from converters.model.values import parse_age, parse_bool, parse_int, parse_partial_date
from converters.model.vocabulary import IdentifierSystems, Vocabulary


@dataclass(frozen=True, slots=True)
class Absent:
    """The source value was read and means "nothing to record" (e.g. an XML age of "N/A" = no limit)."""

    note: str = ""


@dataclass(frozen=True, slots=True)
class Rejected:
    """The source value could not be used; it stays unmapped with this reason and a problem is reported."""

    reason: str


@dataclass(frozen=True, slots=True)
class ConversionContext:
    vocabulary: Vocabulary
    identifiers: IdentifierSystems


Parts = dict[str, Any]
Conversion = Callable[[Parts, dict[str, Any], ConversionContext], Any]


def _one(parts: Parts) -> Any:
    return parts.get("value")


def text_value(value: Any) -> Any:
    """A string, kept exactly as given."""
    return value if type(value) is str else Rejected(f"expected text, found {_describe(value)}")


def boolean_value(value: Any) -> Any:
    return value if type(value) is bool else Rejected(f"expected true or false, found {_describe(value)}")


def convert_text(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    return text_value(_one(parts))


def dedent_textblock(text: str) -> str:
    """Legacy XML text blocks are indented to sit inside the XML; remove that indentation and outer blank lines.

    Only the layout the XML serialisation added is removed (common leading indentation, leading/trailing
    blank lines); words, line breaks and relative indentation are kept.
    """
    return textwrap.dedent(text.replace("\r\n", "\n")).strip("\n").rstrip()


def convert_textblock(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    value = _one(parts)
    if not isinstance(value, str):
        return Rejected(f"expected text, found {_describe(value)}")
    text = dedent_textblock(value)
    return text if text else Absent("empty text block")


def convert_boolean(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    return boolean_value(_one(parts))


def convert_yes_no(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """'Yes' / 'No' (and the wordings listed in the YesNo vocabulary) as a boolean."""
    value = _one(parts)
    if not isinstance(value, str):
        return Rejected(f"expected Yes or No, found {_describe(value)}")
    found = ctx.vocabulary.lookup_one("YesNo", value)
    if found is None:
        parsed = parse_bool(value)
        return parsed if parsed is not None else Rejected(f"{value!r} is not a yes/no answer")
    return found == "true"


def convert_integer(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """A whole number >= 0 (JSON integer, or digits in XML text)."""
    value = _one(parts)
    if isinstance(value, str):
        parsed = parse_int(value)
        return parsed if parsed is not None else Rejected(f"{value!r} is not a whole number")
    if isinstance(value, bool) or not isinstance(value, int):
        return Rejected(f"expected a whole number, found {_describe(value)}")
    return value if value >= 0 else Rejected(f"{value} is negative")


def convert_number(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    value = _one(parts)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Rejected(f"expected a number, found {_describe(value)}")
    return value


def _date_type(raw: Any, ctx: ConversionContext) -> str | Rejected | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        return Rejected(f"date type: expected text, found {_describe(raw)}")
    found = ctx.vocabulary.lookup_one("DateType", raw)
    return found if found is not None else Rejected(f"date type {raw!r} is not ACTUAL or ESTIMATED")


def convert_partial_date(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """A date as precise as written ('2015-08', 'August 2015', 'May 27, 2024'), with ACTUAL/ESTIMATED if stated."""
    raw = parts.get("date", parts.get("value"))
    if not isinstance(raw, str):
        return Rejected(f"expected a date, found {_describe(raw)}")
    if raw.strip().casefold() == "unknown":
        return Absent("the source says the date is unknown")
    date_type = _date_type(parts.get("type"), ctx)
    if isinstance(date_type, Rejected):
        return date_type
    parsed: PartialDate | None = parse_partial_date(raw, date_type)
    return parsed if parsed is not None else Rejected(f"{raw!r} is not a date")


def convert_enrollment(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    count = convert_integer({"value": parts.get("count")}, options, ctx)
    if isinstance(count, Rejected | Absent):
        return count
    enrollment_type = _date_type(parts.get("type"), ctx)
    if isinstance(enrollment_type, Rejected):
        return enrollment_type
    return Enrollment(count=count, type=enrollment_type)


def convert_age(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """'18 Years' -> Age; 'N/A' (the legacy XML's "no limit") -> nothing, as an absent limit means."""
    value = _one(parts)
    if not isinstance(value, str):
        return Rejected(f"expected an age, found {_describe(value)}")
    if value.strip().upper() == "N/A":
        return Absent("N/A: no age limit, which the model states by leaving the limit out")
    age: Age | None = parse_age(value)
    return age if age is not None else Rejected(f"{value!r} is not an age with a unit")


def convert_geo_point(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    coordinates: list[float] = []
    for name in ("lat", "lon"):
        value = parts.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return Rejected(f"{name}: expected a number, found {_describe(value)}")
        coordinates.append(float(value))
    lat, lon = coordinates
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return Rejected(f"({lat}, {lon}) is not a latitude/longitude")
    return GeoPoint(lat=parts["lat"], lon=parts["lon"])


def convert_person_name(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """First, middle and last name joined by single spaces, in that order, leaving out absent parts."""
    names = [parts.get(k) for k in ("first", "middle", "last")]
    if any(n is not None and not isinstance(n, str) for n in names):
        return Rejected("name parts must be text")
    joined = " ".join(n.strip() for n in names if isinstance(n, str) and n.strip())
    return joined if joined else Absent("empty name")


def convert_masking_text(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """Legacy XML masking: 'Double (Participant, Investigator)' -> masking DOUBLE, who_masked [...]."""
    value = _one(parts)
    if not isinstance(value, str):
        return Rejected(f"expected text, found {_describe(value)}")
    whole = ctx.vocabulary.lookup_one("DesignMasking", value)
    if whole is not None:
        return {"masking": whole}
    head, _, rest = value.partition("(")
    masking = ctx.vocabulary.lookup_one("DesignMasking", head)
    if masking is None or not rest.endswith(")"):
        return Rejected(f"{value!r} is not a known masking wording")
    who: list[str] = []
    for wording in rest[:-1].split(","):
        code = ctx.vocabulary.lookup_one("WhoMasked", wording)
        if code is None:
            return Rejected(f"{wording.strip()!r} in {value!r} is not a known masked role")
        who.append(code)
    return {"masking": masking, "who_masked": who}


def convert_criteria(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """The structure of criteria text (sections, sub-headings, nested items); see criteria_markdown."""
    value = _one(parts)
    if not isinstance(value, str):
        return Rejected(f"expected text, found {_describe(value)}")
    text = dedent_textblock(value) if options.get("textblock") else value
    sections = parse_criteria(text, TextFormat(options.get("text_format", TextFormat.PLAIN)))
    return sections if sections else Absent("no criteria text")


def convert_identifier_registry(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """Which registry an identifier's format belongs to (mappings/common/identifiers.yaml), if any."""
    value = _one(parts)
    if not isinstance(value, str):
        return Rejected(f"expected text, found {_describe(value)}")
    key = ctx.identifiers.classify(value)
    return key if key is not None else Absent("no registry pattern matches")


def convert_flag_if_contains(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """True when the text contains `options.text` (e.g. 'Observational [Patient Registry]'), else nothing."""
    value = _one(parts)
    if not isinstance(value, str):
        return Rejected(f"expected text, found {_describe(value)}")
    return True if str(options["text"]) in value else Absent()


# One-argument forms of the commonest conversions, used on the hot path when a rule has no parts or options,
# each with the exact type it returns unchanged (so the hot path can skip the call for a value of that type).
SIMPLE_CONVERSIONS: dict[str, tuple[Callable[[Any], Any], type]] = {
    "text": (text_value, str),
    "boolean": (boolean_value, bool),
}

# Conversions that write the source text as it is (so it keeps the format the rule declares).
TEXT_KEEPING_CONVERSIONS = frozenset({"text", "textblock"})

CONVERSIONS: dict[str, Conversion] = {
    "text": convert_text,
    "textblock": convert_textblock,
    "boolean": convert_boolean,
    "yes_no": convert_yes_no,
    "integer": convert_integer,
    "number": convert_number,
    "partial_date": convert_partial_date,
    "enrollment": convert_enrollment,
    "age": convert_age,
    "geo_point": convert_geo_point,
    "person_name": convert_person_name,
    "masking_text": convert_masking_text,
    "criteria": convert_criteria,
    "identifier_registry": convert_identifier_registry,
    "flag_if_contains": convert_flag_if_contains,
}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"[:80]
