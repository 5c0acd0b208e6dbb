"""The named conversions of mapping files: one registry, used by the field maps and by the page reader.

A field-map rule or a page field names a conversion (`convert: partial_date`); the conversion turns what the
source gives (one value, or named parts such as a date and its type) into the model's value, says the value means
"nothing to record" (`Absent`), or refuses it with the reason (`Rejected`): it never guesses. Each name means one
thing wherever it is used. `CONVERSIONS` lists them, with the kinds of mapping file that may name each (a page
field gives one text, so conversions that read named parts are for field maps; conversions that read wordings
of free text need the page layouts' `value_wordings`). The schemas of those files enumerate exactly these names
(a test checks they agree), so a wrong name fails when the mapping is loaded.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from converters.fieldmap.conversion_types import (
    Absent as Absent,
)
from converters.fieldmap.conversion_types import (
    Conversion as Conversion,
)
from converters.fieldmap.conversion_types import (
    ConversionContext as ConversionContext,
)
from converters.fieldmap.conversion_types import (
    Parts as Parts,
)
from converters.fieldmap.conversion_types import (
    Rejected as Rejected,
)
from converters.fieldmap.conversion_types import (
    ValueWordings as ValueWordings,
)
from converters.fieldmap.ictrp import (
    convert_ictrp_age,
    convert_ictrp_arms,
    convert_ictrp_contacts,
    convert_ictrp_count,
    convert_ictrp_criteria,
    convert_ictrp_criteria_text,
    convert_ictrp_date,
    convert_ictrp_ethics_reviews,
    convert_ictrp_identifiers,
    convert_ictrp_interventions,
    convert_ictrp_list,
    convert_ictrp_phase,
    convert_ictrp_text,
)
from converters.model import Age, Enrollment, GeoPoint, PartialDate, TextFormat
from converters.model.criteria_markdown import parse_criteria
from converters.model.study import Identifier, IdentifierKind
from converters.model.values import parse_age, parse_bool, parse_int, parse_partial_date

FIELD_MAP = "field-map"  # the kinds of mapping file that name conversions
PAGE_LAYOUTS = "page-layouts"
_BARE_AGE = re.compile(r"^\d{1,3}(?:\.\d+)?$")




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
    found = ctx.lookup_one("YesNo", value)
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
    """A count of participants, ACTUAL or ESTIMATED if stated: from the parts `count` and `type`, or from one
    text as the context's wordings write it ('120 participants (Actual)'), whose `type` part then overrides the
    type word the text may give."""
    if "value" in parts:
        return _enrollment_text(parts, options, ctx)
    count = convert_integer({"value": parts.get("count")}, options, ctx)
    if isinstance(count, Rejected | Absent):
        return count
    enrollment_type = _date_type(parts.get("type"), ctx)
    if isinstance(enrollment_type, Rejected):
        return enrollment_type
    return Enrollment(count=count, type=enrollment_type)


def _enrollment_text(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    raw, wordings = parts["value"], ctx.wordings
    if not isinstance(raw, str) or wordings is None:
        return Rejected(f"expected a number of participants, found {_describe(raw)}")
    m = wordings.enrollment.match(raw)
    stated = ctx.lookup_one(wordings.enrollment_type_vocabulary, m["type"]) if m and m["type"] else None
    if not m or (m["type"] and stated is None):
        return Rejected(f"{raw!r} is not a number of participants")
    return convert_enrollment({"count": m["count"], "type": parts.get("type") or stated}, options, ctx)


def convert_age(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """'18 Years' -> Age; 'N/A' (the legacy XML's "no limit") -> nothing, as an absent limit means."""
    value = _one(parts)
    if not isinstance(value, str):
        return Rejected(f"expected an age, found {_describe(value)}")
    if value.strip().upper() == "N/A":
        return Absent("N/A: no age limit, which the model states by leaving the limit out")
    age = _age(value, ctx)
    return age if age is not None else Rejected(f"{value!r} is not an age with a unit")


def convert_age_range(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """'18 Years to 70 Years', '18-60 years', '18 Years and older', '≥5 years old', 'up to 65 Years', as the
    context's wordings write ranges -> the fields `minimum_age` and/or `maximum_age`."""
    value = _one(parts)
    if not isinstance(value, str) or ctx.wordings is None:
        return Rejected(f"expected an age range, found {_describe(value)}")
    minimum, maximum = _age_limits(value, ctx.wordings, ctx)
    if minimum is None and maximum is None:
        return Rejected(f"{value!r} is not an age range")
    limits: dict[str, Age] = {}
    if minimum is not None:
        limits["minimum_age"] = minimum
    if maximum is not None:
        limits["maximum_age"] = maximum
    return limits


def _age_limits(raw: str, wordings: ValueWordings, ctx: ConversionContext) -> tuple[Age | None, Age | None]:
    if (m := wordings.minimum_only.match(raw)) and (minimum := _age(m["age"] or m["age2"], ctx)):
        return minimum, None
    if (m := wordings.maximum_only.match(raw)) and (maximum := _age(m["age"] or m["age2"], ctx)):
        return None, maximum
    parts = wordings.range_split.split(raw, maxsplit=1)
    if len(parts) != 2:
        return None, None
    low, high = _age(parts[0], ctx), _age(parts[1], ctx)
    if low is None and high is not None and _BARE_AGE.match(parts[0].strip()):
        # '18-60 years': the unit is written once, after the range, for both ends
        low = Age(value=float(parts[0].strip()), unit=high.unit, text=parts[0].strip())
    return (low, high) if low is not None and high is not None else (None, None)


def _age(text: str, ctx: ConversionContext) -> Age | None:
    """An age with its unit; words after the unit that the context's wordings allow ('5 years old') stay in its
    text."""
    raw = text.strip()
    age = parse_age(raw)
    if age is None and ctx.wordings is not None and (m := ctx.wordings.unit_suffix.match(raw)):
        found = parse_age(m["age"])
        age = found.model_copy(update={"text": raw}) if found is not None else None
    return age


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
    """The structure of criteria text (sections, sub-headings, nested items), with the section headings the
    context's field map writes (`criteria_headings`); see converters/model/criteria_markdown.py."""
    value = _one(parts)
    if not isinstance(value, str):
        return Rejected(f"expected text, found {_describe(value)}")
    if ctx.criteria_headings is None:
        return Rejected("no criteria headings to read it with")  # spec.py makes a field map using it give them
    text = dedent_textblock(value) if options.get("textblock") else value
    sections = parse_criteria(text, ctx.criteria_headings, TextFormat(options.get("text_format", TextFormat.PLAIN)))
    return sections if sections else Absent("no criteria text")


def convert_identifier_registry(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """Which registry an identifier's format belongs to (mappings/common/identifiers.yaml), if any."""
    value = _one(parts)
    if not isinstance(value, str):
        return Rejected(f"expected text, found {_describe(value)}")
    key = ctx.identifiers.classify(value)
    return key if key is not None else Absent("no registry pattern matches")


def convert_registry_identifier(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """An identifier that must belong to a known registry (a field labelled 'NCT ID'), as the identifier itself:
    its text, kind `registry` and the registry `identifier_registry` finds; refused when none does."""
    key = convert_identifier_registry(parts, options, ctx)
    if not isinstance(key, str):
        return key if isinstance(key, Rejected) else Rejected(f"{_one(parts)!r} is not of a known registry")
    return Identifier(value=parts["value"], kind=IdentifierKind.REGISTRY, registry=key)


def convert_vocabulary(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """The coded value of a wording in the vocabulary `options.vocabulary` (the mapping's own first)."""
    value = _one(parts)
    if not isinstance(value, str):
        return Rejected(f"expected text, found {_describe(value)}")
    vocabulary = str(options.get("vocabulary", ""))
    found = ctx.lookup_one(vocabulary, value)
    return found if found else Rejected(f"{value!r} is not a known {vocabulary} wording")


def convert_phases(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """The phase(s) a wording names ('Phase 1/Phase 2' -> both), from the Phase vocabulary."""
    value = _one(parts)
    if not isinstance(value, str):
        return Rejected(f"expected text, found {_describe(value)}")
    found = ctx.vocabulary.lookup("Phase", value)
    return list(found) if found else Rejected(f"{value!r} is not a known phase")


def convert_split_semicolons(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """A list written on one line with semicolons between its items; empty items are left out."""
    value = _one(parts)
    if not isinstance(value, str):
        return Rejected(f"expected text, found {_describe(value)}")
    return [part.strip() for part in value.split(";") if part.strip()]


def convert_flag_if_contains(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """True when the text contains `options.text` (e.g. 'Observational [Patient Registry]'), else nothing."""
    value = _one(parts)
    if not isinstance(value, str):
        return Rejected(f"expected text, found {_describe(value)}")
    return True if str(options["text"]) in value else Absent()


@dataclass(frozen=True)
class NamedConversion:
    """One entry of the registry: the conversion, where it may be named, and what a usable value looks like."""

    run: Conversion
    expects: str  # a usable value, in words (the page reader's problems say it; `{vocabulary}` is filled in)
    kinds: frozenset[str]  # the kinds of mapping file that may name it (their schemas enumerate these names)
    keeps_text: bool = False  # writes the source text as it is (so it keeps the format the rule declares)
    free_text: bool = False  # its value is free text, not a coded value (a page label before it needs a colon)
    gives_fields: bool = False  # gives several fields of the target object (a dict), not one value
    simple: tuple[Callable[[Any], Any], type] | None = None  # a one-argument form for the hot path, and the exact
    # type it returns unchanged (so the hot path can skip the call for a value of that type)


_BOTH = frozenset({FIELD_MAP, PAGE_LAYOUTS})
_FIELD_MAP = frozenset({FIELD_MAP})
_PAGE = frozenset({PAGE_LAYOUTS})

CONVERSIONS: dict[str, NamedConversion] = {
    "text": NamedConversion(convert_text, "text", _BOTH, keeps_text=True, free_text=True, simple=(text_value, str)),
    "textblock": NamedConversion(convert_textblock, "text", _FIELD_MAP, keeps_text=True, free_text=True),
    "split_semicolons": NamedConversion(convert_split_semicolons, "text", _PAGE, free_text=True),
    # pages name `criteria` too; their criteria are read as a tree by the page reader, with the layouts' headings
    "criteria": NamedConversion(convert_criteria, "criteria text", _BOTH, free_text=True),
    "boolean": NamedConversion(convert_boolean, "true or false", _FIELD_MAP, simple=(boolean_value, bool)),
    "yes_no": NamedConversion(convert_yes_no, "yes or no", _BOTH),
    "integer": NamedConversion(convert_integer, "a whole number", _BOTH),
    "number": NamedConversion(convert_number, "a number", _FIELD_MAP),
    "partial_date": NamedConversion(convert_partial_date, "a date (2024-05, May 2024, May 27, 2024)", _BOTH),
    "enrollment": NamedConversion(convert_enrollment, "a number of participants", _BOTH),
    "age": NamedConversion(convert_age, "an age with its unit (18 Years)", _BOTH),
    "age_range": NamedConversion(convert_age_range, "an age range (18 Years to 70 Years)", _PAGE, gives_fields=True),
    "geo_point": NamedConversion(convert_geo_point, "a latitude and a longitude", _FIELD_MAP),
    "person_name": NamedConversion(convert_person_name, "a name", _FIELD_MAP),
    "masking_text": NamedConversion(convert_masking_text, "a masking wording", _FIELD_MAP, gives_fields=True),
    "vocabulary": NamedConversion(convert_vocabulary, "a known {vocabulary} wording", _PAGE),
    "phases": NamedConversion(convert_phases, "a known phase", _PAGE),
    "identifier_registry": NamedConversion(convert_identifier_registry, "an identifier", _FIELD_MAP),
    "registry_identifier": NamedConversion(convert_registry_identifier, "an identifier of a known registry", _PAGE),
    "flag_if_contains": NamedConversion(convert_flag_if_contains, "text", _FIELD_MAP),
    # values as WHO ICTRP exports write them (converters/fieldmap/ictrp.py)
    "ictrp_text": NamedConversion(convert_ictrp_text, "text", _FIELD_MAP, free_text=True),
    "ictrp_list": NamedConversion(convert_ictrp_list, "items separated by semicolons", _FIELD_MAP, free_text=True),
    "ictrp_date": NamedConversion(convert_ictrp_date, "a date (08/04/2024, 20240408, April 25, 2024)", _FIELD_MAP),
    "ictrp_count": NamedConversion(convert_ictrp_count, "a number of participants", _FIELD_MAP),
    "ictrp_phase": NamedConversion(convert_ictrp_phase, "a phase (Phase 2, 2-3, EU CTR phase flags)", _FIELD_MAP),
    "ictrp_age": NamedConversion(convert_ictrp_age, "an age limit (18 Years, 18, N/A)", _FIELD_MAP),
    "ictrp_contacts": NamedConversion(convert_ictrp_contacts, "contacts, one value per contact in each field",
                                      _FIELD_MAP),
    "ictrp_ethics_reviews": NamedConversion(convert_ictrp_ethics_reviews, "ethics reviews, one value per review in "
                                            "each field", _FIELD_MAP),
    "ictrp_interventions": NamedConversion(convert_ictrp_interventions, "interventions", _FIELD_MAP),
    "ictrp_arms": NamedConversion(convert_ictrp_arms, "groups and their interventions", _FIELD_MAP),
    "ictrp_identifiers": NamedConversion(convert_ictrp_identifiers, "identifiers", _FIELD_MAP),
    "ictrp_criteria_text": NamedConversion(convert_ictrp_criteria_text, "criteria text", _FIELD_MAP, free_text=True),
    "ictrp_criteria": NamedConversion(convert_ictrp_criteria, "criteria text", _FIELD_MAP, free_text=True),
}

# The one-argument forms, by name (see NamedConversion.simple).
SIMPLE_CONVERSIONS = {name: c.simple for name, c in CONVERSIONS.items() if c.simple is not None}
TEXT_KEEPING_CONVERSIONS = frozenset(name for name, c in CONVERSIONS.items() if c.keeps_text)
FREE_TEXT_CONVERSIONS = frozenset(name for name, c in CONVERSIONS.items() if c.free_text)


def conversion_names(kind: str) -> list[str]:
    """The conversion names a kind of mapping file may use, in registry order (its schema's enum)."""
    return [name for name, c in CONVERSIONS.items() if kind in c.kinds]


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"[:80]
