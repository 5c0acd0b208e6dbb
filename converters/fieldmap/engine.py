"""A field-map engine for structured registry records (JSON and XML): mapping is data, conversions are named.

A field map (`mappings/<format>/*.yaml`, kind `field-map`, schema `schemas/mapping/field-map.schema.json`) is a
list of rules. Each rule reads a source path (`protocolSection/statusModule/overallStatus`, or for XML
`eligibility/minimum_age`, `enrollment/@type`) and writes a target field of the canonical `Study`
(`status.overall`, `arms[]`). A rule may name a conversion (`convert: partial_date`, implemented once in
`CONVERSIONS` below), a vocabulary (`vocabulary: Status`, looked up in `mappings/common/vocabulary.yaml`),
constants for the object it creates (`set:`), nested rules for each source object (`each:`), and the format
the source writes the field's text in (`text_format: markdown`; default plain).

The engine records, per record:
- provenance: target JSON pointer (in study.json) -> source JSON pointer or XPath, for every value written;
- text formats: the target pointer of every text a `text_format: markdown` rule wrote as it is (conversions
  `text`, `textblock`), for `SourceInfo.text_formats`; a conversion that reads the text instead (`criteria`)
  is given the format as its option `text_format` and writes plain text;
- which source leaves it used; every other leaf is reported as unmapped (whole untouched subtrees as one
  entry, so a results section is one line, not thousands);
- problems for values it could not use (unknown enum wording, unreadable date, an object missing a field
  the model requires): the value stays in the unmapped list with the reason, nothing is guessed.

Target field names are checked against the pydantic model when the map is compiled, so a typo in a mapping
file fails at start-up, not silently at run time; objects the model requires fields for (an `Arm` needs a
`label`) are only created when those fields were found.

Speed: the rules are compiled once per FieldMap into closures (see "compiling rules into closures" below), so
reading a record does no path parsing and no lookups of rule metadata; the mapping files stay the only place
where paths are written.
"""

from __future__ import annotations

import itertools
import json
import re
import textwrap
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from converters.model import Age, Enrollment, GeoPoint, PartialDate, Study, TextFormat
from converters.model.criteria_markdown import parse_criteria
from converters.model.values import parse_age, parse_bool, parse_int, parse_partial_date
from converters.model.vocabulary import IdentifierSystems, Vocabulary
from converters.problems import Location, Problem, ProblemKind
from converters.resources import MappingError

# --- conversion results --------------------------------------------------------------------------------


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


# --- source adapters -----------------------------------------------------------------------------------


Found = list[tuple[Any, str]]  # nodes with their pointers
Find = Callable[[Any, str], Found]  # (node, its pointer) -> the nodes at a fixed path under it


class Adapter(typing.Protocol):
    """How the engine walks one kind of source tree (JSON data, or an XML element tree)."""

    def path(self, steps: tuple[str, ...]) -> Find:
        """A finder for the nodes at `steps` under a node (every element of a list or repeated element)."""
        ...

    def scalar(self, node: Any) -> tuple[bool, Any]: ...

    def walk(self, node: Any, pointer: str, generic: str) -> Iterator[tuple[Any, str, str, bool]]: ...


def _escape(key: str) -> str:
    if "~" in key or "/" in key:
        return key.replace("~", "~0").replace("/", "~1")
    return key


class JsonAdapter:
    """JSON data (dict / list / scalars); pointers are RFC 6901 JSON pointers, generic paths use `*`."""

    def path(self, steps: tuple[str, ...]) -> Find:
        return _json_path(steps)

    def scalar(self, node: Any) -> tuple[bool, Any]:
        return (type(node) not in (dict, list)), node

    def walk(self, node: Any, pointer: str, generic: str) -> Iterator[tuple[Any, str, str, bool]]:
        """Direct children as (child, pointer, generic path, is_leaf)."""
        if type(node) is dict:
            for key, value in node.items():
                step = _escape(key)
                yield value, f"{pointer}/{step}", f"{generic}/{step}", type(value) not in (dict, list)
        elif type(node) is list:
            for index, value in enumerate(node):
                yield value, f"{pointer}/{index}", f"{generic}/*", type(value) not in (dict, list)


@dataclass(frozen=True, slots=True)
class XmlValue:
    """A text value that is not an element of its own: an attribute's value, or the text of an element that
    also has child elements (mixed content, which public.xsd does not allow; listed, never dropped)."""

    value: str


class XmlAdapter:
    """lxml elements; pointers are XPaths (`/clinical_study/location[3]/facility/name`, `.../@type`).

    A repeated element gets a 1-based index (`location[3]`); an element that occurs once does not. Generic
    paths leave the indexes out. Comments and processing instructions are not data and are skipped; text
    beside child elements is a leaf of its own (`.../text()`).
    """

    def path(self, steps: tuple[str, ...]) -> Find:
        return lambda node, pointer: self._resolve(node, pointer, steps)

    @staticmethod
    def _resolve(node: Any, pointer: str, steps: tuple[str, ...]) -> Found:
        items: Found = [(node, pointer)]
        for step in steps:
            following: Found = []
            for element, ptr in items:
                if isinstance(element, XmlValue):
                    continue
                if step.startswith("@"):
                    value = element.get(step[1:])
                    if value is not None:
                        following.append((XmlValue(value), f"{ptr}/{step}"))
                    continue
                found = element.findall(step)
                if len(found) == 1:
                    following.append((found[0], f"{ptr}/{step}"))
                else:
                    following.extend((e, f"{ptr}/{step}[{i}]") for i, e in enumerate(found, start=1))
            items = following
        return items

    def scalar(self, node: Any) -> tuple[bool, Any]:
        if isinstance(node, XmlValue):
            return True, node.value
        if any(isinstance(child.tag, str) for child in node):
            return False, None
        return True, _element_text(node)

    def walk(self, node: Any, pointer: str, generic: str) -> Iterator[tuple[Any, str, str, bool]]:
        if isinstance(node, XmlValue):
            return
        for name, value in sorted(node.attrib.items()):
            yield XmlValue(value), f"{pointer}/@{name}", f"{generic}/@{name}", True
        elements = []
        mixed = bool(node.text) and not node.text.isspace()  # text beside the child elements
        for child in node:
            if isinstance(child.tag, str):
                elements.append(child)
            if not mixed and child.tail and not child.tail.isspace():
                mixed = True
        if mixed:
            yield XmlValue(_element_text(node)), f"{pointer}/text()", f"{generic}/text()", True
        counts: dict[str, int] = {}
        for child in elements:
            counts[child.tag] = counts.get(child.tag, 0) + 1
        seen: dict[str, int] = {}
        for child in elements:
            tag = child.tag
            seen[tag] = seen.get(tag, 0) + 1
            step = f"{tag}[{seen[tag]}]" if counts[tag] > 1 else tag
            child_ptr, child_generic = f"{pointer}/{step}", f"{generic}/{tag}"
            if any(isinstance(c.tag, str) for c in child):
                yield child, child_ptr, child_generic, False  # its attributes come when it is walked
                continue
            yield child, child_ptr, child_generic, True  # the element's text
            for name, value in sorted(child.attrib.items()):
                yield XmlValue(value), f"{child_ptr}/@{name}", f"{child_generic}/@{name}", True


def _element_text(element: Any) -> str:
    """An element's own text, joining the pieces a comment inside it would split."""
    pieces = [element.text or ""]
    pieces.extend(child.tail or "" for child in element)
    return "".join(pieces)


def leaf_text(adapter: Adapter, node: Any) -> str:
    """The value of a leaf as text, for listing it as unmapped."""
    ok, value = adapter.scalar(node)
    if not ok:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


# --- compiled rules ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: the compiler keys its work by rule
class Rule:
    source: tuple[str, ...]
    target: tuple[str, ...]
    append: bool
    convert: Conversion | None
    convert_name: str
    parts: tuple[tuple[str, tuple[str, ...]], ...]
    options: dict[str, Any]
    vocabulary: str | None
    unknown_to: tuple[str, ...] | None
    constants: dict[str, Any]
    each: tuple[Rule, ...] | None
    required: tuple[str, ...]
    simple: Callable[[Any], Any] | None = None  # one-argument conversion when there are no parts or options
    text_format: TextFormat | None = None  # the format of the text a text-keeping conversion writes as it is


def _split_source(path: str) -> tuple[str, ...]:
    return tuple(step for step in path.strip("/").split("/") if step and step != ".")


def _split_target(path: str) -> tuple[tuple[str, ...], bool]:
    append = path.endswith("[]")
    return tuple(path.removesuffix("[]").split(".")), append


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The pydantic model inside an annotation (`list[Arm]`, `Organization | None`) and whether it is a list."""
    origin = typing.get_origin(annotation)
    if origin is list:
        inner, _ = _model_of(typing.get_args(annotation)[0])
        return inner, True
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                return _model_of(arg)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def _target_model(model: type[BaseModel], steps: tuple[str, ...], where: str) -> tuple[type[BaseModel] | None, bool]:
    """Check that the target path exists in the model; return the model class it ends on (if any)."""
    current: type[BaseModel] | None = model
    is_list = False
    for step in steps:
        if current is None or step not in current.model_fields:
            raise MappingError(f"{where}: target field {'.'.join(steps)!r} is not in the model")
        current, is_list = _model_of(current.model_fields[step].annotation)
    return current, is_list


def compile_rules(raw_rules: list[dict[str, Any]], model: type[BaseModel], where: str) -> tuple[Rule, ...]:
    """Turn the rules of a field-map file into `Rule`s, checking every target against `model`."""
    rules: list[Rule] = []
    for raw in raw_rules:
        source_text = str(raw["from"])
        steps, append = _split_target(str(raw["to"]))
        target_model, is_list = _target_model(model, steps, where)
        if append and not is_list:
            raise MappingError(f"{where}: {raw['to']!r} appends to a field that is not a list")
        convert_name = str(raw.get("convert", "text"))
        if convert_name not in CONVERSIONS:
            raise MappingError(f"{where}: unknown conversion {convert_name!r}")
        each = None
        required: tuple[str, ...] = ()
        if "each" in raw:
            if target_model is None:
                raise MappingError(f"{where}: {raw['to']!r} is not an object, so `each` cannot fill it")
            each = compile_rules(raw["each"], target_model, f"{where} > {source_text}")
            required = tuple(n for n, f in target_model.model_fields.items() if f.is_required())
            for name in raw.get("set", {}):
                if name not in target_model.model_fields:
                    raise MappingError(f"{where}: constant {name!r} is not a field of {target_model.__name__}")
        unknown_to = None
        if "unknown_to" in raw:
            unknown_to, _ = _split_target(str(raw["unknown_to"]))
            _target_model(model, unknown_to, where)
        options = dict(raw.get("options", {}))
        text_format = TextFormat(raw["text_format"]) if "text_format" in raw else None
        if text_format is not None and convert_name not in TEXT_KEEPING_CONVERSIONS:
            options["text_format"] = text_format.value  # the conversion reads the text in its format
            text_format = None
        simple = None
        if each is None and "with" not in raw and not options and convert_name in SIMPLE_CONVERSIONS:
            simple = SIMPLE_CONVERSIONS[convert_name][0]
        rules.append(Rule(
            source=_split_source(source_text),
            target=steps,
            append=append,
            convert=None if each is not None else CONVERSIONS[convert_name],
            convert_name=convert_name,
            parts=tuple((role, _split_source(path)) for role, path in raw.get("with", {}).items()),
            options=options,
            vocabulary=raw.get("vocabulary"),
            unknown_to=unknown_to,
            constants=dict(raw.get("set", {})),
            each=each,
            required=required,
            simple=simple,
            text_format=text_format,
        ))
    return tuple(rules)


# --- running a map -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineKinds:
    """The problem kinds the engine reports, supplied by the reader's catalogue (codes carry its prefix)."""

    unknown_value: ProblemKind  # params: value, path, vocabulary
    bad_value: ProblemKind  # params: path, reason
    dropped_object: ProblemKind  # params: path, target, missing


class _State:
    """Bookkeeping of one record, or of one object being built (merged into its parent's when kept)."""

    __slots__ = ("absent", "consumed", "problems", "provenance", "rejected")

    def __init__(self) -> None:
        self.provenance: dict[str, str] = {}
        self.consumed: set[str] = set()
        self.absent: dict[str, str] = {}  # read, and meaning "nothing to record": why
        self.rejected: dict[str, str] = {}
        self.problems: list[Problem] = []

    def merge(self, other: _State) -> None:
        self.provenance.update(other.provenance)
        self.consumed.update(other.consumed)
        if other.absent:
            self.absent.update(other.absent)
        if other.rejected:
            self.rejected.update(other.rejected)
        if other.problems:
            self.problems.extend(other.problems)


@dataclass
class MapResult:
    """What a field map made of one record: the Study's fields as data, plus the bookkeeping."""

    data: dict[str, Any]
    provenance: dict[str, str]
    consumed: set[str]
    absent: dict[str, str]
    rejected: dict[str, str]
    problems: list[Problem]
    text_formats: dict[str, TextFormat] = field(default_factory=dict)  # target pointer -> format (not plain)

    def used(self, pointer: str) -> bool:
        """Whether a source leaf was used: mapped, or read as meaning "nothing" (and not rejected elsewhere)."""
        return pointer in self.consumed or (pointer in self.absent and pointer not in self.rejected)


NOT_IN_SCHEMA = "not defined by the source format's schema"
SAME = "same"

# --- compiling rules into closures ----------------------------------------------------------------------
#
# A field map is compiled once per FieldMap into closures, with everything about each rule worked out in
# advance: the escaped pointer step of each source step, the target container and pointer text, the
# vocabulary table. Running a record is then lookups, the conversion call and string concatenation for the
# pointers; no path is split, joined or looked up in the rule's metadata per value.
#
# Consecutive rules whose sources start with the same step descend together: the step is followed once and
# the rules run, one step further along their sources, on the one node found (when it finds several, a list
# or a repeated element, each rule is run in full instead). Every rule is run by the general path, which does
# exactly what the rule says, the same for JSON and XML; the commonest JSON rule (one scalar to one field with
# a one-argument conversion) is also a single closure that handles the plain case itself and hands anything
# unusual to the general path.

@dataclass(slots=True)
class _Env:
    """Per `apply` call: where problems point and which source pointers the schema check rejected."""

    location: Callable[[str], Location]
    invalid: dict[str, str]


Runner = Callable[[Any, str, dict[str, Any], str, _State, _Env], None]
Finish = Callable[[Any, list[str], str, dict[str, Any], str, _State, _Env], None]
Placer = Callable[[Any, str, dict[str, Any], str, _State], bool | str]
Gather = Callable[[Any, str], tuple[Parts, list[str]] | Rejected]
_MISSING: Any = object()
_CONTAINERS = (dict, list)
_STRUCTURE = Rejected("expected a single value, found a structure")
_NOTHING_RECORDED = "read; it states nothing the model records"


def _container_getter(steps: tuple[str, ...]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """`_container(out, steps)` specialised for a fixed path (creates missing dicts on the way)."""
    if not steps:
        return lambda out: out
    if len(steps) == 1:
        (only,) = steps

        def one(out: dict[str, Any]) -> dict[str, Any]:
            nxt = out.get(only)
            if nxt is None:
                nxt = out[only] = {}
            return nxt

        return one
    return lambda out: _container(out, steps)


def _peeker(steps: tuple[str, ...]) -> Callable[[dict[str, Any]], Any]:
    """`_peek(out, steps)` specialised for a fixed path."""
    if len(steps) == 1:
        (only,) = steps
        return lambda out: out.get(only)
    return lambda out: _peek(out, steps)


class _Compiler:
    """Turns `Rule`s into closures for one adapter, vocabulary and problem catalogue.

    A rule is compiled at each `depth` it is reached from (in full, and one step shorter under each group
    above it); `depth` is how many steps of its source the groups above have already followed."""

    def __init__(self, adapter: Adapter, ctx: ConversionContext, kinds: EngineKinds,
                 exact: dict[str, dict[str, tuple[str, ...]]]) -> None:
        self.adapter = adapter
        self.json = isinstance(adapter, JsonAdapter)
        self.ctx = ctx
        self.kinds = kinds
        self.exact = exact
        # what a rule does with a node it found, compiled once however often the rule is reached
        self._applies: dict[Rule, Runner] = {}
        self._finishes: dict[Rule, Finish] = {}

    def rules(self, rules: tuple[Rule, ...], depth: int = 0) -> Runner:
        """One closure running `rules` in order on one source node (the record, one object, or the node a
        group's shared step found)."""
        keyed: list[tuple[str | None, Runner]] = []  # (the first source step left, if any; the rule or group)
        i = 0
        while i < len(rules):
            rule = rules[i]
            if len(rule.source) < depth + 2:
                keyed.append((rule.source[depth] if len(rule.source) > depth else None, self._rule(rule, depth)))
                i += 1
                continue
            first = rule.source[depth]
            j = i + 1
            while j < len(rules) and len(rules[j].source) >= depth + 2 and rules[j].source[depth] == first:
                j += 1
            keyed.append((first, self._group(rules[i:j], depth)))
            i = j
        steps = tuple(keyed)
        if not self.json:
            runners = tuple(runner for _, runner in steps)

            def run_all(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: _State,
                        env: _Env) -> None:
                for runner in runners:
                    runner(node, pointer, out, out_ptr, state, env)

            return run_all

        def run(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: _State, env: _Env) -> None:
            # JSON: a rule whose first step the object lacks (or that needs an object, on a list or a scalar)
            # finds nothing, so it is not called
            if type(node) is dict:
                for key, step in steps:
                    if key is None or key in node:
                        step(node, pointer, out, out_ptr, state, env)
            else:
                for key, step in steps:
                    if key is None:
                        step(node, pointer, out, out_ptr, state, env)

        return run

    def _group(self, rules: tuple[Rule, ...], depth: int) -> Runner:
        """Rules whose sources share the step at `depth`, run one step further on the node that step finds."""
        follow = self.adapter.path(rules[0].source[depth:depth + 1])
        inner = self.rules(rules, depth + 1)
        in_full = tuple(self._general(rule, depth) for rule in rules)

        def group(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: _State, env: _Env) -> None:
            found = follow(node, pointer)
            if len(found) == 1:
                child, child_ptr = found[0]
                inner(child, child_ptr, out, out_ptr, state, env)
            elif found:  # several candidates: every rule resolves its whole path
                for rule in in_full:
                    rule(node, pointer, out, out_ptr, state, env)

        return group

    def _rule(self, rule: Rule, depth: int) -> Runner:
        """A rule whose source, from `depth` on, is one step or none."""
        if self.json and len(rule.source) == depth + 1 and rule.simple is not None and not rule.append:
            return self._json_value(rule, depth)
        return self._general(rule, depth)

    def _general(self, rule: Rule, depth: int) -> Runner:
        """A rule run as it says: every node it finds (the first only, unless it appends), minus invalid ones."""
        find = self.adapter.path(rule.source[depth:])
        apply = self._apply(rule)
        append = rule.append

        def general(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: _State, env: _Env) -> None:
            found = find(node, pointer)
            if not found:
                return
            invalid = env.invalid
            if invalid:
                found = [(v, p) for v, p in found if not _is_invalid(p, invalid)]
                if not found:
                    return
            if append:
                for value, ptr in found:
                    apply(value, ptr, out, out_ptr, state, env)
            else:
                value, ptr = found[0]
                apply(value, ptr, out, out_ptr, state, env)

        return general

    # -- the commonest JSON rule in one closure --

    def _json_value(self, rule: Rule, depth: int) -> Runner:
        """One JSON scalar to one field with a one-argument conversion.

        It handles the plain case itself (a scalar that converts, an empty target, a vocabulary's canonical
        value) and hands anything else (a list, a rejected or unknown value, a filled target) on, to the general
        path or to `finish`, which then do exactly what they always do."""
        simple = rule.simple
        assert simple is not None
        same_type = SIMPLE_CONVERSIONS[rule.convert_name][1]
        step = rule.source[depth]
        sep = "/" + _escape(step)
        general = self._general(rule, depth)
        finish = self._finish_of(rule)
        exact = self.exact[rule.vocabulary] if rule.vocabulary is not None else None
        target = rule.target
        key = target[-1]
        text = "/" + "/".join(target)
        depth_out = len(target) - 1
        first = target[0]
        holder = target[:-1]

        def value_rule(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: _State,
                       env: _Env) -> None:
            if type(node) is not dict:
                return
            value = node.get(step, _MISSING)
            if value is _MISSING:
                return
            kind = type(value)
            if kind is list:
                general(node, pointer, out, out_ptr, state, env)
                return
            ptr = pointer + sep
            invalid = env.invalid
            if invalid and _is_invalid(ptr, invalid):
                return
            if kind is same_type:
                result = value
            else:
                result = _STRUCTURE if kind is dict else simple(value)
                if exact is None and isinstance(result, Rejected | Absent):
                    finish(result, [ptr], ptr, out, out_ptr, state, env)
                    return
            if exact is not None:
                hit = exact.get(result) if type(result) is str else None
                if hit is None:
                    finish(result, [ptr], ptr, out, out_ptr, state, env)
                    return
                result = hit[0]
            parent: dict[str, Any] | None
            if depth_out == 0:
                parent = out
            elif depth_out == 1:
                parent = out.get(first)
                if parent is None:
                    parent = out[first] = {}
            else:
                parent = _container(out, holder)
            if key in parent:
                finish(result, [ptr], ptr, out, out_ptr, state, env)
                return
            parent[key] = result
            state.provenance[out_ptr + text] = ptr
            state.consumed.add(ptr)

        return value_rule

    # -- compiled once per rule --

    def _apply(self, rule: Rule) -> Runner:
        """What the rule does with one node it found (the same at every depth)."""
        apply = self._applies.get(rule)
        if apply is None:
            apply = self._applies[rule] = self._object(rule) if rule.each is not None else self._value(rule)
        return apply

    def _finish_of(self, rule: Rule) -> Finish:
        finish = self._finishes.get(rule)
        if finish is None:
            finish = self._finishes[rule] = self._finish(rule)
        return finish

    # -- objects (`each:`) --

    def _object(self, rule: Rule) -> Runner:
        assert rule.each is not None
        run_each = self.rules(rule.each)
        target, append, constants, required = rule.target, rule.append, rule.constants, rule.required
        key = target[-1]
        target_text = "/" + "/".join(target)
        target_name = ".".join(target)
        already = f"{target_name} was already filled from another field"
        constant_suffixes = tuple("/" + name for name in constants)
        top = len(target) == 1  # a field of the object being filled itself (the commonest case)
        container = _container_getter(target[:-1])
        peek = _peeker(target)
        dropped = self.kinds.dropped_object

        def apply(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: _State, env: _Env) -> None:
            existing = out.get(key) if top else peek(out)
            if append:
                target_ptr = f"{out_ptr}{target_text}/{len(existing) if isinstance(existing, list) else 0}"
            elif existing is not None:
                state.rejected.setdefault(pointer, already)
                return
            else:
                target_ptr = out_ptr + target_text
            obj: dict[str, Any] = dict(constants) if constants else {}
            sub = _State()
            run_each(node, pointer, obj, target_ptr, sub, env)
            if not sub.consumed:
                state.merge(sub)
                return  # nothing in the source object was usable (or it was empty): nothing to create
            if required:
                missing = [name for name in required if name not in obj]
                if missing:
                    state.problems.extend(sub.problems)
                    state.rejected.update(sub.rejected)
                    reason = f"no {', '.join(missing)} for {target_name}"
                    state.rejected.setdefault(pointer, reason)
                    for read in itertools.chain(sub.consumed, sub.absent):
                        state.rejected.setdefault(read, reason)
                    state.problems.append(dropped(env.location(pointer), path=pointer, target=target_name,
                                                  missing=", ".join(missing)))
                    return
            for suffix in constant_suffixes:
                sub.provenance[target_ptr + suffix] = pointer
            parent = out if top else container(out)
            if append:
                parent.setdefault(key, []).append(obj)
            else:
                parent[key] = obj
            state.merge(sub)

        return apply

    # -- values --

    def _value(self, rule: Rule) -> Runner:
        finish = self._finish_of(rule)
        scalar = self.adapter.scalar
        simple = rule.simple
        if simple is not None:  # one value, a one-argument conversion

            def apply_simple(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: _State,
                             env: _Env) -> None:
                ok, value = scalar(node)
                finish(simple(value) if ok else _STRUCTURE, [pointer], pointer, out, out_ptr, state, env)

            return apply_simple
        gather = self._gather(rule)
        convert, options, ctx = rule.convert, rule.options, self.ctx
        assert convert is not None
        bad_value = self.kinds.bad_value

        def apply(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: _State, env: _Env) -> None:
            gathered = gather(node, pointer)
            if isinstance(gathered, Rejected):
                _reject(state, [pointer], gathered.reason, pointer, env, bad_value)
                return
            parts, used = gathered
            if not used:
                return
            finish(convert(parts, options, ctx), used, pointer, out, out_ptr, state, env)

        return apply

    def _gather(self, rule: Rule) -> Gather:
        """The scalar value(s) a conversion reads: the node itself, or its named parts (`with:`), each the
        first node found at its path."""
        scalar = self.adapter.scalar
        if not rule.parts:
            def whole(node: Any, pointer: str) -> tuple[Parts, list[str]] | Rejected:
                ok, value = scalar(node)
                return ({"value": value}, [pointer]) if ok else _STRUCTURE

            return whole
        path = self.adapter.path
        roles = tuple((role, path(steps), Rejected(f"{role}: expected a single value, found a structure"))
                      for role, steps in rule.parts)

        def named(node: Any, pointer: str) -> tuple[Parts, list[str]] | Rejected:
            parts: Parts = {}
            used: list[str] = []
            for role, find, structure in roles:
                found = find(node, pointer)
                if not found:
                    continue
                value, ptr = found[0]
                ok, value = scalar(value)
                if not ok:
                    return structure
                parts[role] = value
                used.append(ptr)
            return parts, used

        return named

    def _finish(self, rule: Rule) -> Finish:
        """What happens to a converted value: rejected, absent, looked up in a vocabulary, placed."""
        place = self._placer(rule.target, rule.append)
        place_unknown = self._placer(rule.unknown_to, False) if rule.unknown_to is not None else None
        append, vocabulary = rule.append, rule.vocabulary
        exact = self.exact[vocabulary] if vocabulary is not None else {}
        lookup = self.ctx.vocabulary.lookup
        kinds = self.kinds
        already = f"{'.'.join(rule.target)} was already filled from another field"
        same = f"says the same as the field that filled {'.'.join(rule.target)}"

        def finish(result: Any, used: list[str], pointer: str, out: dict[str, Any], out_ptr: str, state: _State,
                   env: _Env) -> None:
            if isinstance(result, Rejected):
                _reject(state, used, result.reason, pointer, env, kinds.bad_value)
                return
            if isinstance(result, Absent):
                for ptr in used:
                    state.absent.setdefault(ptr, result.note or _NOTHING_RECORDED)
                return
            values: list[Any]
            if vocabulary is not None:
                found = None
                if isinstance(result, str):
                    found = exact.get(result) or lookup(vocabulary, result)
                if found is None or (len(found) > 1 and not append):
                    state.problems.append(kinds.unknown_value(
                        env.location(pointer), value=result, path=pointer, vocabulary=vocabulary))
                    if place_unknown is not None and isinstance(result, str) and place_unknown(
                        [result], pointer, out, out_ptr, state
                    ):
                        state.consumed.update(used)  # kept as written in its *_text field
                        return
                    for ptr in used:
                        state.rejected.setdefault(ptr, f"{result!r} is not a known {vocabulary} value")
                    return
                values = list(found)
            elif append and isinstance(result, list):
                values = result
            else:
                values = [result]
            placed = place(values, pointer, out, out_ptr, state)
            if placed is SAME:
                for ptr in used:
                    state.absent.setdefault(ptr, same)
            elif placed:
                state.consumed.update(used)
            else:
                state.rejected.setdefault(pointer, already)

        return finish

    @staticmethod
    def _placer(target: tuple[str, ...], append: bool) -> Placer:
        """Write the value(s); False when the field is already filled with something else, SAME when with
        the same value (a retired and a current field saying one thing)."""
        container = _container_getter(target[:-1])
        key = target[-1]
        text = "/" + "/".join(target)
        if append:
            def place_all(values: Any, source_ptr: str, out: dict[str, Any], out_ptr: str,
                          state: _State) -> bool | str:
                items = container(out).setdefault(key, [])
                base = out_ptr + text
                provenance = state.provenance
                for value in values:
                    provenance[f"{base}/{len(items)}"] = source_ptr
                    items.append(value)
                return True

            return place_all

        def place_one(values: Any, source_ptr: str, out: dict[str, Any], out_ptr: str,
                      state: _State) -> bool | str:
            parent = container(out)
            if key in parent:
                existing = parent[key]
                if isinstance(existing, dict) and isinstance(values[0], dict):
                    if set(existing) & set(values[0]):
                        return False
                    existing.update(values[0])
                    state.provenance[out_ptr + text] = source_ptr
                    return True
                return SAME if existing == values[0] else False
            parent[key] = values[0]
            state.provenance[out_ptr + text] = source_ptr
            return True

        return place_one


def _json_path(steps: tuple[str, ...]) -> Find:
    """`JsonAdapter.path`: a chain of `_json_member` steps (lists met on the way are entered)."""
    if not steps:
        return lambda node, pointer: [(node, pointer)]
    first = _json_member(steps[0])
    if len(steps) == 1:
        return first
    rest = _json_path(steps[1:])

    def walk(node: Any, pointer: str) -> Found:
        found = first(node, pointer)
        if len(found) == 1:
            return rest(*found[0])
        out: Found = []
        for item, item_ptr in found:
            out.extend(rest(item, item_ptr))
        return out

    return walk


def _json_member(step: str) -> Find:
    """The value of member `step` of an object (each element, when it is a list); nothing on anything else."""
    sep = "/" + _escape(step)

    def member(node: Any, pointer: str) -> Found:
        if type(node) is not dict:
            return []
        child = node.get(step, _MISSING)
        if child is _MISSING:
            return []
        ptr = pointer + sep
        if type(child) is list:
            return [(v, f"{ptr}/{i}") for i, v in enumerate(child)]
        return [(child, ptr)]

    return member


def _reject(state: _State, pointers: list[str], reason: str, where: str, env: _Env, kind: ProblemKind) -> None:
    for ptr in pointers:
        state.rejected.setdefault(ptr, reason)
    state.problems.append(kind(env.location(where), path=where, reason=reason))


class FieldMap:
    """A compiled field map for one source format (JSON data or XML elements)."""

    def __init__(self, mapping: dict[str, Any], name: str, adapter: Adapter, ctx: ConversionContext,
                 kinds: EngineKinds) -> None:
        self.name = name
        self.adapter = adapter
        self.ctx = ctx
        self.kinds = kinds
        self.root = str(mapping.get("root", ""))
        self.rules = compile_rules(mapping["rules"], Study, name)
        self.unmapped_reasons: tuple[tuple[str, str], ...] = tuple(
            (str(entry["path"]).rstrip("/"), str(entry["reason"])) for entry in mapping.get("unmapped", [])
        )
        # canonical values map to themselves; looking them up first skips wording normalisation (hot path)
        exact: dict[str, dict[str, tuple[str, ...]]] = {}
        for rule in _all_rules(self.rules):
            if rule.vocabulary is not None:
                try:
                    values = ctx.vocabulary.values(rule.vocabulary)
                except KeyError:
                    raise MappingError(f"{name}: unknown vocabulary {rule.vocabulary!r}") from None
                exact[rule.vocabulary] = {value: (value,) for value in values}
        self._run = _Compiler(adapter, ctx, kinds, exact).rules(self.rules)
        # containers holding a path with its own unmapped reason are always listed leaf by leaf
        deeper = {prefix.rsplit("/", 1)[0] for prefix, _ in self.unmapped_reasons}
        self._deeper = frozenset(_ancestors(deeper) | deeper)
        self._reach = _json_reach(self.rules, self.root) if isinstance(adapter, JsonAdapter) else None
        self._text_formats = _text_formats(self.rules, self.root)
        self._text_format_leaves = frozenset(source.rsplit("/", 1)[-1] for source, _ in self._text_formats)

    def source_paths(self) -> set[str]:
        """Generic source paths the rules read (for coverage listings)."""
        out: set[str] = set()

        def visit(rules: tuple[Rule, ...], prefix: str) -> None:
            for rule in rules:
                base = prefix + "".join("/" + s for s in rule.source)
                if rule.each is not None:
                    visit(rule.each, base)
                elif rule.parts:
                    out.update(base + "".join("/" + s for s in steps) for _, steps in rule.parts)
                else:
                    out.add(base)

        visit(self.rules, self.root)
        return out

    def apply(self, record: Any, pointer: str, location: Callable[[str], Location],
              invalid: dict[str, str] | None = None) -> MapResult:
        """Map one record. `invalid`: source pointers a schema check rejected; they are not used."""
        state = _State()
        data: dict[str, Any] = {}
        self._run(record, pointer, data, "", state, _Env(location, invalid or {}))
        return MapResult(data, state.provenance, state.consumed, state.absent, state.rejected, state.problems,
                         self._formats_of(state.provenance))

    def _formats_of(self, provenance: dict[str, str]) -> dict[str, TextFormat]:
        """Target pointer -> format of the texts written by rules that declare one (a cheap test of the source
        pointer's last step first: most values come from fields that declare none)."""
        formats, leaves = self._text_formats, self._text_format_leaves
        out: dict[str, TextFormat] = {}
        if not formats:
            return out
        for target, source in provenance.items():
            if source[source.rfind("/") + 1:] in leaves:
                found = formats.get((_generic_pointer(source), _generic_pointer(target)))
                if found is not None:
                    out[target] = found
        return out

    # -- unmapped leaves --

    def unmapped(self, record: Any, pointer: str, result: MapResult, invalid: dict[str, str],
                 known: Callable[[str], bool] | None = None) -> list[UnmappedEntry]:
        """Every source leaf the map did not use, whole untouched subtrees as one entry each.

        A container is entered when something under it was used (its pointer is an ancestor of a consumed or
        absent one), when a value under it was refused (so that value is listed with its own reason; a refused
        container is one entry with its reason) or when a path under it has its own unmapped reason; otherwise
        it is one entry. For JSON
        the walk finds that out itself, entering only containers where a rule can reach (`self._reach`), and
        checks at the end that it met every used pointer; when it did not (a pointer the walk cannot meet),
        the listing is made from the ancestors of the used pointers instead, as it always was."""
        if self._reach is not None:
            entries = self._unmapped_json(record, pointer, result, invalid, known)
            if entries is not None:
                return entries
        consumed, absent, rejected = result.consumed, result.absent, result.rejected
        touched = _ancestors(itertools.chain(consumed, absent)) | _holding(rejected)
        deeper = self._deeper
        entries = []
        adapter = self.adapter

        def visit(node: Any, ptr: str, generic: str) -> None:
            for child, child_ptr, child_generic, is_leaf in adapter.walk(node, ptr, generic):
                if child_ptr in consumed:
                    continue
                if child_ptr in absent and child_ptr not in rejected:
                    # read, and it means "nothing" (e.g. an age of N/A): listed, with what it means
                    entries.append(UnmappedEntry(child_ptr, child_generic, leaf_text(adapter, child),
                                                 absent[child_ptr], is_leaf))
                    continue
                if not is_leaf and (child_ptr in touched or child_generic in deeper):
                    visit(child, child_ptr, child_generic)
                    continue
                reason = self.reason_for(child_ptr, child_generic, rejected, invalid, known)
                text = leaf_text(adapter, child) if is_leaf else None
                entries.append(UnmappedEntry(child_ptr, child_generic, text, reason, is_leaf))

        visit(record, pointer, pointer)
        return entries

    def _unmapped_json(self, record: Any, pointer: str, result: MapResult, invalid: dict[str, str],
                       known: Callable[[str], bool] | None) -> list[UnmappedEntry] | None:
        """`unmapped` for JSON in one walk, or None when the walk did not meet every used pointer."""
        consumed, absent, rejected = result.consumed, result.absent, result.rejected
        reach = self._reach
        assert reach is not None
        deeper = self._deeper
        holding = _holding(rejected)
        entries: list[UnmappedEntry] = []
        adapter = self.adapter

        def listed(child: Any, child_ptr: str, child_generic: str) -> int:
            """A child no rule consumed: listed, or entered; how many used pointers were met under it."""
            met = 0
            if child_ptr in absent:
                met = 1
                if child_ptr not in rejected:
                    # read, and it means "nothing" (e.g. an age of N/A): listed, with what it means
                    entries.append(UnmappedEntry(child_ptr, child_generic, leaf_text(adapter, child),
                                                 absent[child_ptr], type(child) not in _CONTAINERS))
                    return met
            is_leaf = type(child) not in _CONTAINERS
            if not is_leaf:
                if child_generic in reach:  # entered to see whether anything under it was used
                    mark = len(entries)
                    inside = visit(child, child_ptr, child_generic)
                    if inside or child_generic in deeper or child_ptr in holding:
                        return met + inside
                    del entries[mark:]  # nothing used or refused under it: one entry for the whole
                elif child_generic in deeper or child_ptr in holding:
                    return met + visit(child, child_ptr, child_generic)
            reason = self.reason_for(child_ptr, child_generic, rejected, invalid, known)
            text = leaf_text(adapter, child) if is_leaf else None
            entries.append(UnmappedEntry(child_ptr, child_generic, text, reason, is_leaf))
            return met

        def visit(node: Any, ptr: str, generic: str) -> int:
            met = 0
            if type(node) is dict:
                for key, value in node.items():
                    step = key if "~" not in key and "/" not in key else _escape(key)
                    child_ptr = ptr + "/" + step
                    if child_ptr in consumed:
                        met += 1
                    else:
                        met += listed(value, child_ptr, generic + "/" + step)
            elif type(node) is list:
                for index, value in enumerate(node):
                    child_ptr = f"{ptr}/{index}"
                    if child_ptr in consumed:
                        met += 1
                    else:
                        met += listed(value, child_ptr, generic + "/*")
            return met

        met = visit(record, pointer, pointer)
        used = len(consumed) + sum(1 for ptr in absent if ptr not in consumed)
        return entries if met == used else None

    def reason_for(self, ptr: str, generic: str, rejected: dict[str, str], invalid: dict[str, str],
                   known: Callable[[str], bool] | None) -> str:
        """Why the source value at `ptr` is not used."""
        if ptr in rejected:
            return rejected[ptr]
        for bad_ptr, message in invalid.items():
            if ptr == bad_ptr or ptr.startswith(bad_ptr + "/"):
                return f"fails the source schema: {message}"
        for prefix, reason in self.unmapped_reasons:
            if generic == prefix or generic.startswith(prefix + "/"):
                return reason
        if known is not None and not known(generic):
            return NOT_IN_SCHEMA
        return "no rule in the field map uses it"


@dataclass(frozen=True, slots=True)
class UnmappedEntry:
    pointer: str
    generic: str
    text: str | None
    reason: str
    is_leaf: bool


def _is_invalid(pointer: str, invalid: dict[str, str]) -> bool:
    if pointer in invalid:
        return True
    return any(pointer.startswith(bad + "/") for bad in invalid)


def _holding(rejected: dict[str, str]) -> set[str]:
    """Containers with a refused value under them that were not refused whole themselves."""
    return _ancestors(rejected) - rejected.keys() if rejected else set()


def _ancestors(pointers: Iterable[str]) -> set[str]:
    """Every proper prefix (container pointer) of the given pointers."""
    out: set[str] = set()
    for ptr in pointers:
        cut = ptr.rfind("/")
        while cut > 0:
            prefix = ptr[:cut]
            if prefix in out:
                break
            out.add(prefix)
            cut = prefix.rfind("/")
    return out


def _json_reach(rules: tuple[Rule, ...], root: str) -> frozenset[str]:
    """Generic paths (`/a/*/b`) of the JSON containers under which a rule can find a value: every step of a
    source path may meet a list (whose elements the engine then enters), so each may be followed by `*`."""
    leaves: set[str] = set()

    def follow(bases: set[str], steps: tuple[str, ...]) -> set[str]:
        for step in steps:
            sep = "/" + _escape(step)
            bases = {base + sep for base in bases} | {base + sep + "/*" for base in bases}
        return bases

    def visit(rules: tuple[Rule, ...], bases: set[str]) -> None:
        for rule in rules:
            found = follow(bases, rule.source)
            if rule.each is not None:
                visit(rule.each, found)
                continue
            leaves.update(found)
            for _, steps in rule.parts:
                leaves.update(follow(found, steps))

    visit(rules, {root})
    return frozenset(_ancestors(leaves))


def _text_formats(rules: tuple[Rule, ...], root: str) -> dict[tuple[str, str], TextFormat]:
    """(generic source path, generic target pointer) -> format, for the rules that declare one."""
    out: dict[tuple[str, str], TextFormat] = {}

    def visit(rules: tuple[Rule, ...], source: str, target: str) -> None:
        for rule in rules:
            rule_source = source + "".join("/" + s for s in rule.source)
            rule_target = target + "".join("/" + s for s in rule.target)
            if rule.each is not None:
                visit(rule.each, rule_source, rule_target)
            elif rule.text_format is not None:
                out[(rule_source, rule_target)] = rule.text_format

    visit(rules, root, "")
    return out


_INDEX_STEP = re.compile(r"/\d+(?=/|$)|\[\d+\]")


def _generic_pointer(pointer: str) -> str:
    """A pointer without its array indexes (`/arms/0/description` -> `/arms/description`)."""
    return _INDEX_STEP.sub("", pointer)


def _peek(out: dict[str, Any], steps: tuple[str, ...]) -> Any:
    """The value at a target path, or None, without creating anything."""
    current: Any = out
    for step in steps:
        if not isinstance(current, dict) or step not in current:
            return None
        current = current[step]
    return current


def _container(out: dict[str, Any], steps: tuple[str, ...]) -> dict[str, Any]:
    current = out
    for step in steps:
        nxt = current.get(step)
        if nxt is None:
            nxt = {}
            current[step] = nxt
        current = nxt
    return current


def _all_rules(rules: tuple[Rule, ...]) -> Iterator[Rule]:
    for rule in rules:
        yield rule
        if rule.each is not None:
            yield from _all_rules(rule.each)


def iter_leaves(adapter: Adapter, record: Any, pointer: str, generic: str) -> Iterator[tuple[str, str]]:
    """Every leaf of a record as (pointer, generic path), for coverage counts."""
    stack = [(record, pointer, generic)]
    while stack:
        node, ptr, gen = stack.pop()
        for child, child_ptr, child_generic, is_leaf in adapter.walk(node, ptr, gen):
            if is_leaf:
                yield child_ptr, child_generic
            else:
                stack.append((child, child_ptr, child_generic))

