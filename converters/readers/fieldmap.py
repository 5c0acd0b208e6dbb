"""A field-map engine for structured registry records (JSON and XML): mapping is data, conversions are named.

A field map (`mappings/<format>/*.yaml`, kind `field-map`, schema `schemas/mapping/field-map.schema.json`) is a
list of rules. Each rule reads a source path (`protocolSection/statusModule/overallStatus`, or for XML
`eligibility/minimum_age`, `enrollment/@type`) and writes a target field of the canonical `Study`
(`status.overall`, `arms[]`). A rule may name a conversion (`convert: partial_date`, implemented once in
`CONVERSIONS` below), a vocabulary (`vocabulary: Status`, looked up in `mappings/common/vocabulary.yaml`),
constants for the object it creates (`set:`), and nested rules for each source object (`each:`).

The engine records, per record:
- provenance: target JSON pointer (in study.json) -> source JSON pointer or XPath, for every value written;
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
import textwrap
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

from converters.model import Age, Enrollment, GeoPoint, PartialDate, Study
from converters.model.vocabulary import IdentifierSystems, Vocabulary
from converters.problems import Location, Problem, ProblemKind
from converters.readers.criteria_markdown import parse_criteria
from converters.readers.values import parse_age, parse_bool, parse_int, parse_partial_date
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


def convert_text(parts: Parts, options: dict[str, Any], ctx: ConversionContext) -> Any:
    """A string, kept exactly as given."""
    value = _one(parts)
    if not isinstance(value, str):
        return Rejected(f"expected text, found {_describe(value)}")
    return value


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
    value = _one(parts)
    return value if isinstance(value, bool) else Rejected(f"expected true or false, found {_describe(value)}")


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
    sections = parse_criteria(text)
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


def _simple_text(value: Any) -> Any:
    return value if type(value) is str else Rejected(f"expected text, found {_describe(value)}")


def _simple_boolean(value: Any) -> Any:
    return value if type(value) is bool else Rejected(f"expected true or false, found {_describe(value)}")


# One-argument forms of the commonest conversions, used on the hot path when a rule has no parts or options.
SIMPLE_CONVERSIONS: dict[str, Callable[[Any], Any]] = {"text": _simple_text, "boolean": _simple_boolean}
# The exact type each of them returns unchanged, so the hot path can skip the call for it.
SIMPLE_IDENTITY: dict[str, type] = {"text": str, "boolean": bool}


class _NoType:
    """Never the type of a value: the identity type of a simple conversion that has none."""

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


class Adapter(typing.Protocol):
    """How the engine walks one kind of source tree (JSON data, or an XML element tree)."""

    def resolve(self, node: Any, pointer: str, steps: tuple[str, ...]) -> list[tuple[Any, str]]: ...

    def scalar(self, node: Any) -> tuple[bool, Any]: ...

    def walk(self, node: Any, pointer: str, generic: str) -> Iterator[tuple[Any, str, str, bool]]: ...


def _escape(key: str) -> str:
    if "~" in key or "/" in key:
        return key.replace("~", "~0").replace("/", "~1")
    return key


class JsonAdapter:
    """JSON data (dict / list / scalars); pointers are RFC 6901 JSON pointers, generic paths use `*`."""

    def resolve(self, node: Any, pointer: str, steps: tuple[str, ...]) -> list[tuple[Any, str]]:
        items: list[tuple[Any, str]] = [(node, pointer)]
        for step in steps:
            following: list[tuple[Any, str]] = []
            for value, ptr in items:
                if type(value) is not dict or step not in value:
                    continue
                child = value[step]
                child_ptr = f"{ptr}/{_escape(step)}"
                if type(child) is list:
                    following.extend((v, f"{child_ptr}/{i}") for i, v in enumerate(child))
                else:
                    following.append((child, child_ptr))
            items = following
        return items

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


_JSON = JsonAdapter()  # stateless: shared by the compiled JSON paths


@dataclass(frozen=True, slots=True)
class XmlAttribute:
    value: str


class XmlAdapter:
    """lxml elements; pointers are XPaths (`/clinical_study/location[3]/facility/name`, `.../@type`).

    A repeated element gets a 1-based index (`location[3]`); an element that occurs once does not. Generic
    paths leave the indexes out. Comments and processing instructions are not data and are skipped.
    """

    def resolve(self, node: Any, pointer: str, steps: tuple[str, ...]) -> list[tuple[Any, str]]:
        items: list[tuple[Any, str]] = [(node, pointer)]
        for step in steps:
            following: list[tuple[Any, str]] = []
            for element, ptr in items:
                if isinstance(element, XmlAttribute):
                    continue
                if step.startswith("@"):
                    value = element.get(step[1:])
                    if value is not None:
                        following.append((XmlAttribute(value), f"{ptr}/{step}"))
                    continue
                found = element.findall(step)
                if len(found) == 1:
                    following.append((found[0], f"{ptr}/{step}"))
                else:
                    following.extend((e, f"{ptr}/{step}[{i}]") for i, e in enumerate(found, start=1))
            items = following
        return items

    def scalar(self, node: Any) -> tuple[bool, Any]:
        if isinstance(node, XmlAttribute):
            return True, node.value
        if any(isinstance(child.tag, str) for child in node):
            return False, None
        return True, _element_text(node)

    def walk(self, node: Any, pointer: str, generic: str) -> Iterator[tuple[Any, str, str, bool]]:
        if isinstance(node, XmlAttribute):
            return
        for name, value in sorted(node.attrib.items()):
            yield XmlAttribute(value), f"{pointer}/@{name}", f"{generic}/@{name}", True
        elements = [c for c in node if isinstance(c.tag, str)]
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
                yield XmlAttribute(value), f"{child_ptr}/@{name}", f"{child_generic}/@{name}", True


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


@dataclass(frozen=True)
class Rule:
    source: tuple[str, ...]
    source_text: str
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
    target_text: str = ""  # "/a/b": the target as a pointer suffix


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


def compile_rules(raw_rules: list[dict[str, Any]], model: type[BaseModel], where: str,
                  conversions: dict[str, Conversion]) -> tuple[Rule, ...]:
    """Turn the rules of a field-map file into `Rule`s, checking every target against `model`."""
    rules: list[Rule] = []
    for raw in raw_rules:
        source_text = str(raw["from"])
        steps, append = _split_target(str(raw["to"]))
        target_model, is_list = _target_model(model, steps, where)
        if append and not is_list:
            raise MappingError(f"{where}: {raw['to']!r} appends to a field that is not a list")
        convert_name = str(raw.get("convert", "text"))
        if convert_name not in conversions:
            raise MappingError(f"{where}: unknown conversion {convert_name!r}")
        each = None
        required: tuple[str, ...] = ()
        if "each" in raw:
            if target_model is None:
                raise MappingError(f"{where}: {raw['to']!r} is not an object, so `each` cannot fill it")
            each = compile_rules(raw["each"], target_model, f"{where} > {source_text}", conversions)
            required = tuple(n for n, f in target_model.model_fields.items() if f.is_required())
            for name in raw.get("set", {}):
                if name not in target_model.model_fields:
                    raise MappingError(f"{where}: constant {name!r} is not a field of {target_model.__name__}")
        unknown_to = None
        if "unknown_to" in raw:
            unknown_to, _ = _split_target(str(raw["unknown_to"]))
            _target_model(model, unknown_to, where)
        rules.append(Rule(
            source=_split_source(source_text),
            source_text=source_text,
            target=steps,
            append=append,
            convert=None if each is not None else conversions[convert_name],
            convert_name=convert_name,
            parts=tuple((role, _split_source(path)) for role, path in raw.get("with", {}).items()),
            options=dict(raw.get("options", {})),
            vocabulary=raw.get("vocabulary"),
            unknown_to=unknown_to,
            constants=dict(raw.get("set", {})),
            each=each,
            required=required,
            simple=None if each is not None or "with" in raw or "options" in raw else SIMPLE_CONVERSIONS.get(
                convert_name),
            target_text="/" + "/".join(steps),
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

    def used(self, pointer: str) -> bool:
        """Whether a source leaf was used: mapped, or read as meaning "nothing" (and not rejected elsewhere)."""
        return pointer in self.consumed or (pointer in self.absent and pointer not in self.rejected)


NOT_IN_SCHEMA = "not defined by the source format's schema"
SAME = "same"

# --- compiling rules into closures ----------------------------------------------------------------------
#
# A field map is compiled once per FieldMap into closures, with everything about each rule worked out in
# advance: the escaped pointer step of each source step, the target container and pointer text, the
# vocabulary table. Running a record is then dict lookups, the conversion call and string concatenation for
# the pointers; no path is split, joined or looked up in the rule's metadata per value.
#
# For JSON, consecutive rules whose sources start with the same step descend together: the step is looked up
# once and the rules run, one step shorter, on the object found (when a list is met on the way, each rule is
# run in full instead). The commonest rule (one scalar to one field with a one-argument conversion) and rules
# that make objects from one step's value are single closures. Whatever is not the plain case goes to the
# general path, which does exactly what the rule says. Other adapters (XML) use the general path throughout,
# with each rule list's shared path prefixes resolved once per node.

Found = list[tuple[Any, str]]
_Cache = dict[int, Found]


@dataclass(slots=True)
class _Env:
    """Per `apply` call: where problems point and which source pointers the schema check rejected."""

    location: Callable[[str], Location]
    invalid: dict[str, str]


Finder = Callable[[Any, str, _Cache], Found]
Apply = Callable[[Any, str, dict[str, Any], str, _State, _Env], None]
Runner = Callable[[Any, str, dict[str, Any], str, _State, _Env], None]
CachedRunner = Callable[[Any, str, _Cache, dict[str, Any], str, _State, _Env], None]
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
    """Turns `Rule`s into closures for one adapter, vocabulary and problem catalogue."""

    def __init__(self, adapter: Adapter, ctx: ConversionContext, kinds: EngineKinds,
                 exact: dict[str, dict[str, tuple[str, ...]]]) -> None:
        self.adapter = adapter
        self.json = isinstance(adapter, JsonAdapter)
        self.ctx = ctx
        self.kinds = kinds
        self.exact = exact
        # Compiled once each, however often reached (a rule list again through every group above it; a rule as
        # itself and as the one-step-shorter copy its group runs): id -> (the rule or list, kept alive, compiled).
        self._lists: dict[int, tuple[tuple[Rule, ...], Runner]] = {}
        self._applies: dict[int, tuple[Rule, Apply]] = {}
        self._finishes: dict[int, tuple[Rule, Finish]] = {}
        self._origins: dict[int, tuple[Rule, Rule]] = {}  # shortened copy -> the rule it was made from

    def rules(self, rules: tuple[Rule, ...]) -> Runner:
        """One closure running `rules` in order on one source node (the record, or one object)."""
        known = self._lists.get(id(rules))
        if known is not None and known[0] is rules:
            return known[1]
        runner = self._json_rules(rules) if self.json else self._any_rules(rules)
        self._lists[id(rules)] = (rules, runner)  # the list is kept, so its id is not reused
        return runner

    # -- JSON --

    def _json_rules(self, rules: tuple[Rule, ...]) -> Runner:
        keyed: list[tuple[str | None, Runner]] = []  # (the first source step, if any; the rule or group)
        i = 0
        while i < len(rules):
            rule = rules[i]
            if len(rule.source) < 2:
                keyed.append((rule.source[0] if rule.source else None, self._json_rule(rule)))
                i += 1
                continue
            j = i + 1
            while j < len(rules) and len(rules[j].source) >= 2 and rules[j].source[0] == rule.source[0]:
                j += 1
            keyed.append((rule.source[0], self._json_group(rules[i:j])))
            i = j
        steps = tuple(keyed)

        def run(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: _State, env: _Env) -> None:
            # a rule whose first step the object lacks (or that needs an object, on a list or a scalar) finds
            # nothing: it is not called
            if type(node) is dict:
                for key, step in steps:
                    if key is None or key in node:
                        step(node, pointer, out, out_ptr, state, env)
            else:
                for key, step in steps:
                    if key is None:
                        step(node, pointer, out, out_ptr, state, env)

        return run

    def _json_group(self, rules: tuple[Rule, ...]) -> Runner:
        """Rules whose sources start with the same step, run on the object that step finds."""
        first = rules[0].source[0]
        sep = "/" + _escape(first)
        shorter = tuple(replace(rule, source=rule.source[1:]) for rule in rules)
        for copy, rule in zip(shorter, rules, strict=True):
            self._origins[id(copy)] = (copy, self._origin(rule))
        inner = self._json_rules(shorter)
        in_full = tuple(self._json_general(rule) for rule in rules)

        def group(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: _State, env: _Env) -> None:
            if type(node) is not dict:
                return
            child = node.get(first, _MISSING)
            if type(child) is dict:
                inner(child, pointer + sep, out, out_ptr, state, env)
            elif type(child) is list:  # each element is a candidate: every rule resolves its whole path
                for rule in in_full:
                    rule(node, pointer, out, out_ptr, state, env)
            # absent, or a scalar: no rule finds anything

        return group

    def _json_rule(self, rule: Rule) -> Runner:
        """A rule whose source is one step (or the node itself)."""
        if len(rule.source) == 1:
            if rule.each is not None:
                return self._json_objects(rule)
            if rule.simple is not None and not rule.append:
                return self._json_value(rule, self._json_general(rule))
        return self._json_general(rule)

    def _json_general(self, rule: Rule) -> Runner:
        """A rule run in full: every node it finds (the first only, unless it appends), minus invalid ones."""
        find = _json_path(rule.source)
        apply = self._apply(rule)
        append = rule.append

        def general(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: _State, env: _Env) -> None:
            found = find(node, pointer)
            _apply_found(found, apply, append, out, out_ptr, state, env)

        return general

    def _json_objects(self, rule: Rule) -> Runner:
        """An `each:` rule on one step's value: the object, or each element of the list (the first only,
        unless it appends), minus invalid ones."""
        step = rule.source[0]
        sep = "/" + _escape(step)
        build = self._apply(rule)
        append = rule.append

        def objects(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: _State, env: _Env) -> None:
            if type(node) is not dict:
                return
            value = node.get(step, _MISSING)
            if value is _MISSING:
                return
            ptr = pointer + sep
            invalid = env.invalid
            if type(value) is list:
                for index, item in enumerate(value):
                    item_ptr = f"{ptr}/{index}"
                    if invalid and _is_invalid(item_ptr, invalid):
                        continue
                    build(item, item_ptr, out, out_ptr, state, env)
                    if not append:
                        return
            elif not (invalid and _is_invalid(ptr, invalid)):
                build(value, ptr, out, out_ptr, state, env)

        return objects

    def _json_value(self, rule: Rule, general: Runner) -> Runner:
        """The commonest rule, one JSON scalar to one field with a one-argument conversion, in one closure.

        It handles the plain case itself (a scalar that converts, an empty target, a vocabulary's canonical
        value) and hands anything else (a list, a rejected or unknown value, a filled target) on, to the general
        path or to `finish`, which then do exactly what they always do."""
        simple = rule.simple
        assert simple is not None
        same_type = SIMPLE_IDENTITY.get(rule.convert_name, _NoType)
        step = rule.source[0]
        sep = "/" + _escape(step)
        finish = self._finish_of(rule)
        exact = self.exact[rule.vocabulary] if rule.vocabulary is not None else None
        target = rule.target
        key = target[-1]
        text = "/" + "/".join(target)
        depth = len(target) - 1
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
            if depth == 0:
                parent = out
            elif depth == 1:
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

    # -- any adapter --

    def _any_rules(self, rules: tuple[Rule, ...]) -> Runner:
        prefix_keys: dict[tuple[str, ...], int] = {}
        compiled: list[CachedRunner] = []
        for rule in rules:
            prefix = rule.source[:-1]
            key = prefix_keys.setdefault(prefix, len(prefix_keys)) if len(rule.source) > 1 else -1
            compiled.append(self._any_general(rule, self._any_finder(rule.source, key)))
        steps = tuple(compiled)

        def run(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: _State, env: _Env) -> None:
            cache: _Cache = {}  # shared path prefixes, resolved once per node
            for step in steps:
                step(node, pointer, cache, out, out_ptr, state, env)

        return run

    def _any_general(self, rule: Rule, find: Finder) -> CachedRunner:
        apply = self._apply(rule)
        append = rule.append

        def general(node: Any, pointer: str, cache: _Cache, out: dict[str, Any], out_ptr: str, state: _State,
                    env: _Env) -> None:
            found = find(node, pointer, cache)
            _apply_found(found, apply, append, out, out_ptr, state, env)

        return general

    def _any_finder(self, source: tuple[str, ...], key: int) -> Finder:
        """The nodes at `source` under a node, the parent path resolved once per node for the rules sharing it."""
        resolve = self.adapter.resolve
        if key < 0:
            return lambda node, pointer, cache: resolve(node, pointer, source)
        prefix, last = source[:-1], source[-1:]

        def find(node: Any, pointer: str, cache: _Cache) -> Found:
            bases = cache.get(key)
            if bases is None:
                bases = cache[key] = resolve(node, pointer, prefix)
            found: Found = []
            for base, base_ptr in bases:
                found.extend(resolve(base, base_ptr, last))
            return found

        return find

    # -- compiled once per rule --

    def _origin(self, rule: Rule) -> Rule:
        """The rule of the map a shortened copy was made from (the rule itself if it is one)."""
        known = self._origins.get(id(rule))
        return known[1] if known is not None and known[0] is rule else rule

    def _apply(self, rule: Rule) -> Apply:
        """What the rule does with one node it found (the same for a rule and its shortened copies)."""
        origin = self._origin(rule)
        known = self._applies.get(id(origin))
        if known is not None and known[0] is origin:
            return known[1]
        apply = self._object(origin) if origin.each is not None else self._value(origin)
        self._applies[id(origin)] = (origin, apply)
        return apply

    def _finish_of(self, rule: Rule) -> Finish:
        origin = self._origin(rule)
        known = self._finishes.get(id(origin))
        if known is not None and known[0] is origin:
            return known[1]
        finish = self._finish(origin)
        self._finishes[id(origin)] = (origin, finish)
        return finish

    # -- objects (`each:`) --

    def _object(self, rule: Rule) -> Apply:
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
                if sub.rejected:
                    state.rejected.update(sub.rejected)
                if sub.problems:
                    state.problems.extend(sub.problems)
                if sub.absent:
                    state.absent.update(sub.absent)
                return  # nothing in the source object was usable (or it was empty): nothing to create
            if required:
                missing = [name for name in required if name not in obj]
                if missing:
                    state.problems.extend(sub.problems)
                    state.rejected.update(sub.rejected)
                    reason = f"no {', '.join(missing)} for {target_name}"
                    for consumed in sub.consumed:
                        state.rejected.setdefault(consumed, reason)
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

    def _value(self, rule: Rule) -> Apply:
        finish = self._finish_of(rule)
        simple = rule.simple
        if simple is not None:  # one value, a one-argument conversion
            if self.json:
                def apply_json(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: _State,
                               env: _Env) -> None:
                    finish(simple(node) if type(node) not in _CONTAINERS else _STRUCTURE, [pointer], pointer,
                           out, out_ptr, state, env)

                return apply_json
            scalar = self.adapter.scalar

            def apply_simple(node: Any, pointer: str, out: dict[str, Any], out_ptr: str, state: _State,
                             env: _Env) -> None:
                ok, value = scalar(node)
                finish(simple(value) if ok else Rejected("expected a single value, found a structure"),
                       [pointer], pointer, out, out_ptr, state, env)

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
        """The scalar value(s) a conversion reads: the node itself, or its named parts (`with:`)."""
        if self.json:
            return self._json_gather(rule)
        scalar, resolve = self.adapter.scalar, self.adapter.resolve
        if not rule.parts:
            def whole(node: Any, pointer: str) -> tuple[Parts, list[str]] | Rejected:
                ok, value = scalar(node)
                if not ok:
                    return Rejected("expected a single value, found a structure")
                return {"value": value}, [pointer]

            return whole
        roles = tuple((role, steps, Rejected(f"{role}: expected a single value, found a structure"))
                      for role, steps in rule.parts)

        def named(node: Any, pointer: str) -> tuple[Parts, list[str]] | Rejected:
            parts: Parts = {}
            used: list[str] = []
            for role, steps, structure in roles:
                found = resolve(node, pointer, steps) if steps else [(node, pointer)]
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

    @staticmethod
    def _json_gather(rule: Rule) -> Gather:
        """`_gather` for JSON: a one-step part is a dict lookup (the first element when it is a list)."""
        if not rule.parts:
            def whole(node: Any, pointer: str) -> tuple[Parts, list[str]] | Rejected:
                if type(node) in _CONTAINERS:
                    return _STRUCTURE
                return {"value": node}, [pointer]

            return whole
        roles = tuple(
            (role, steps[0] if len(steps) == 1 else "", "/" + _escape(steps[0]) if len(steps) == 1 else "",
             _json_path(steps), Rejected(f"{role}: expected a single value, found a structure"))
            for role, steps in rule.parts
        )

        def named(node: Any, pointer: str) -> tuple[Parts, list[str]] | Rejected:
            parts: Parts = {}
            used: list[str] = []
            for role, step, sep, path, structure in roles:
                if sep:
                    if type(node) is not dict:
                        continue
                    value = node.get(step, _MISSING)
                    if value is _MISSING:
                        continue
                    ptr = pointer + sep
                    if type(value) is list:
                        if not value:
                            continue
                        value, ptr = value[0], ptr + "/0"
                else:
                    found = path(node, pointer)
                    if not found:
                        continue
                    value, ptr = found[0]
                if type(value) in _CONTAINERS:
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


def _json_path(steps: tuple[str, ...]) -> Callable[[Any, str], Found]:
    """`JsonAdapter.resolve` for a fixed path: walks plain objects directly and only expands lists (and
    builds the list of candidates) when one is met on the way."""
    seps = tuple("/" + _escape(step) for step in steps)
    pairs = tuple(zip(steps, seps, strict=True))
    resolve = _JSON.resolve

    def walk(node: Any, pointer: str) -> Found:
        value, ptr = node, pointer
        for index, (step, sep) in enumerate(pairs):
            if type(value) is not dict:
                return []
            child = value.get(step, _MISSING)
            if child is _MISSING:
                return []
            ptr = ptr + sep
            if type(child) is list:
                items = [(v, f"{ptr}/{i}") for i, v in enumerate(child)]
                rest = steps[index + 1:]
                if not rest:
                    return items
                found: Found = []
                for item, item_ptr in items:
                    found.extend(resolve(item, item_ptr, rest))
                return found
            value = child
        return [(value, ptr)]

    return walk


def _reject(state: _State, pointers: list[str], reason: str, where: str, env: _Env, kind: ProblemKind) -> None:
    for ptr in pointers:
        state.rejected.setdefault(ptr, reason)
    state.problems.append(kind(env.location(where), path=where, reason=reason))


class FieldMap:
    """A compiled field map for one source format (JSON data or XML elements)."""

    def __init__(self, mapping: dict[str, Any], name: str, adapter: Adapter, ctx: ConversionContext,
                 kinds: EngineKinds, conversions: dict[str, Conversion] | None = None) -> None:
        self.name = name
        self.adapter = adapter
        self.ctx = ctx
        self.kinds = kinds
        self.root = str(mapping.get("root", ""))
        self.rules = compile_rules(mapping["rules"], Study, name, conversions or CONVERSIONS)
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
        return MapResult(data, state.provenance, state.consumed, state.absent, state.rejected, state.problems)

    # -- unmapped leaves --

    def unmapped(self, record: Any, pointer: str, result: MapResult, invalid: dict[str, str],
                 known: Callable[[str], bool] | None = None) -> list[UnmappedEntry]:
        """Every source leaf the map did not use, whole untouched subtrees as one entry each.

        A container is entered when something under it was used (its pointer is an ancestor of a consumed or
        absent one) or when a path under it has its own unmapped reason; otherwise it is one entry. For JSON
        the walk finds that out itself, entering only containers where a rule can reach (`self._reach`), and
        checks at the end that it met every used pointer; when it did not (a pointer the walk cannot meet),
        the listing is made from the ancestors of the used pointers instead, as it always was."""
        if self._reach is not None:
            entries = self._unmapped_json(record, pointer, result, invalid, known)
            if entries is not None:
                return entries
        consumed, absent, rejected = result.consumed, result.absent, result.rejected
        touched = _ancestors(itertools.chain(consumed, absent))
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
                    if inside or child_generic in deeper:
                        return met + inside
                    del entries[mark:]  # nothing used under it: one entry for the whole
                elif child_generic in deeper:
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


def _apply_found(found: list[tuple[Any, str]], apply: Apply, append: bool, out: dict[str, Any], out_ptr: str,
                 state: _State, env: _Env) -> None:
    """The general path of a rule once its nodes are found: drop invalid ones, then apply the first (or each,
    when the rule appends)."""
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
