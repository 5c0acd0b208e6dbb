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
"""

from __future__ import annotations

import json
import textwrap
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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


@dataclass
class _State:
    provenance: dict[str, str] = field(default_factory=dict)
    consumed: set[str] = field(default_factory=set)
    absent: dict[str, str] = field(default_factory=dict)  # read, and meaning "nothing to record": why
    rejected: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def merge(self, other: _State) -> None:
        self.provenance.update(other.provenance)
        self.consumed.update(other.consumed)
        self.absent.update(other.absent)
        self.rejected.update(other.rejected)
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
        self._exact: dict[str, dict[str, tuple[str, ...]]] = {}
        for rule in _all_rules(self.rules):
            if rule.vocabulary is not None:
                try:
                    values = ctx.vocabulary.values(rule.vocabulary)
                except KeyError:
                    raise MappingError(f"{name}: unknown vocabulary {rule.vocabulary!r}") from None
                self._exact[rule.vocabulary] = {value: (value,) for value in values}

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
        self._run(self.rules, record, pointer, data, "", state, location, invalid or {})
        return MapResult(data, state.provenance, state.consumed, state.absent, state.rejected, state.problems)

    # -- internals --

    def _run(self, rules: tuple[Rule, ...], node: Any, pointer: str, out: dict[str, Any], out_ptr: str,
             state: _State, location: Callable[[str], Location], invalid: dict[str, str]) -> None:
        parents: dict[tuple[str, ...], list[tuple[Any, str]]] = {}  # shared path prefixes, resolved once
        for rule in rules:
            found = self._find(rule.source, node, pointer, parents)
            if not found:
                continue
            if invalid:
                found = [(v, p) for v, p in found if not _is_invalid(p, invalid)]
            if rule.each is not None:
                for value, ptr in found if rule.append else found[:1]:
                    self._run_object(rule, value, ptr, out, out_ptr, state, location, invalid)
                continue
            for value, ptr in found if rule.append else found[:1]:
                self._run_value(rule, value, ptr, out, out_ptr, state, location, invalid)

    def _find(self, source: tuple[str, ...], node: Any, pointer: str,
              parents: dict[tuple[str, ...], list[tuple[Any, str]]]) -> list[tuple[Any, str]]:
        """The nodes at `source` under `node`. Hot path for JSON: the parent path is resolved once per
        node for all rules that share it, and the last step is a plain dict lookup."""
        if not source:
            return [(node, pointer)]
        if type(node) is not dict:
            return self.adapter.resolve(node, pointer, source)
        bases = [(node, pointer)]
        if len(source) > 1:
            prefix = source[:-1]
            if prefix not in parents:
                parents[prefix] = self.adapter.resolve(node, pointer, prefix)
            bases = parents[prefix]
        step = source[-1]
        found: list[tuple[Any, str]] = []
        for base, base_ptr in bases:
            if type(base) is not dict or step not in base:
                continue
            child = base[step]
            child_ptr = f"{base_ptr}/{_escape(step)}"
            if type(child) is list:
                found.extend((v, f"{child_ptr}/{i}") for i, v in enumerate(child))
            else:
                found.append((child, child_ptr))
        return found

    def _run_object(self, rule: Rule, node: Any, pointer: str, out: dict[str, Any], out_ptr: str,
                    state: _State, location: Callable[[str], Location], invalid: dict[str, str]) -> None:
        key = rule.target[-1]
        existing = _peek(out, rule.target)
        target_ptr = out_ptr + "/" + "/".join(rule.target)
        if rule.append:
            target_ptr = f"{target_ptr}/{len(existing) if isinstance(existing, list) else 0}"
        elif existing is not None:
            state.rejected.setdefault(pointer, f"{'.'.join(rule.target)} was already filled from another field")
            return
        obj: dict[str, Any] = dict(rule.constants)
        sub = _State()
        assert rule.each is not None
        self._run(rule.each, node, pointer, obj, target_ptr, sub, location, invalid)
        if not sub.consumed:
            state.rejected.update(sub.rejected)
            state.problems.extend(sub.problems)
            state.absent.update(sub.absent)
            return  # nothing in the source object was usable (or it was empty): nothing to create
        missing = [name for name in rule.required if name not in obj]
        if missing:
            state.problems.extend(sub.problems)
            state.rejected.update(sub.rejected)
            reason = f"no {', '.join(missing)} for {'.'.join(rule.target)}"
            for consumed in sub.consumed:
                state.rejected.setdefault(consumed, reason)
            state.problems.append(self.kinds.dropped_object(
                location(pointer), path=pointer, target=".".join(rule.target), missing=", ".join(missing)))
            return
        for name in rule.constants:
            sub.provenance[f"{target_ptr}/{name}"] = pointer
        parent = _container(out, rule.target[:-1])
        if rule.append:
            parent.setdefault(key, []).append(obj)
        else:
            parent[key] = obj
        state.merge(sub)

    def _run_value(self, rule: Rule, node: Any, pointer: str, out: dict[str, Any], out_ptr: str,
                   state: _State, location: Callable[[str], Location], invalid: dict[str, str]) -> None:
        used: list[str]
        if rule.simple is not None:  # hot path: one value, a one-argument conversion
            ok, value = self.adapter.scalar(node)
            result = rule.simple(value) if ok else Rejected("expected a single value, found a structure")
            used = [pointer]
        else:
            gathered = self._gather(rule, node, pointer)
            if isinstance(gathered, Rejected):
                self._reject(state, [pointer], gathered.reason, pointer, location)
                return
            parts, used = gathered
            if not used:
                return
            assert rule.convert is not None
            result = rule.convert(parts, rule.options, self.ctx)
        if isinstance(result, Rejected):
            self._reject(state, used, result.reason, pointer, location)
            return
        if isinstance(result, Absent):
            for ptr in used:
                state.absent.setdefault(ptr, result.note or "read; it states nothing the model records")
            return
        values: list[Any]
        if rule.vocabulary is not None:
            found = None
            if isinstance(result, str):
                found = self._exact[rule.vocabulary].get(result) or self.ctx.vocabulary.lookup(
                    rule.vocabulary, result)
            if found is None or (len(found) > 1 and not rule.append):
                state.problems.append(self.kinds.unknown_value(
                    location(pointer), value=result, path=pointer, vocabulary=rule.vocabulary))
                if rule.unknown_to is not None and isinstance(result, str) and self._place(
                    rule.unknown_to, False, [result], pointer, out, out_ptr, state
                ):
                    state.consumed.update(used)  # kept as written in its *_text field
                    return
                for ptr in used:
                    state.rejected.setdefault(ptr, f"{result!r} is not a known {rule.vocabulary} value")
                return
            values = list(found)
        elif rule.append and isinstance(result, list):
            values = result
        else:
            values = [result]
        placed = self._place(rule.target, rule.append, values, pointer, out, out_ptr, state)
        if placed is SAME:
            for ptr in used:
                state.absent.setdefault(ptr, f"says the same as the field that filled {'.'.join(rule.target)}")
        elif placed:
            state.consumed.update(used)
        else:
            state.rejected.setdefault(pointer, f"{'.'.join(rule.target)} was already filled from another field")

    def _gather(self, rule: Rule, node: Any, pointer: str) -> tuple[Parts, list[str]] | Rejected:
        """The scalar value(s) a conversion reads: the node itself, or its named parts (`with:`)."""
        scalar = self.adapter.scalar
        if not rule.parts:
            ok, value = scalar(node)
            if not ok:
                return Rejected("expected a single value, found a structure")
            return {"value": value}, [pointer]
        parts: Parts = {}
        used: list[str] = []
        for role, steps in rule.parts:
            found = self.adapter.resolve(node, pointer, steps) if steps else [(node, pointer)]
            if not found:
                continue
            value, ptr = found[0]
            ok, value = scalar(value)
            if not ok:
                return Rejected(f"{role}: expected a single value, found a structure")
            parts[role] = value
            used.append(ptr)
        return parts, used

    def _place(self, target: tuple[str, ...], append: bool, values: list[Any], source_ptr: str,
               out: dict[str, Any], out_ptr: str, state: _State) -> bool | str:
        """Write the value(s); False when the field is already filled with something else, SAME when with
        the same value (a retired and a current field saying one thing)."""
        parent = _container(out, target[:-1]) if len(target) > 1 else out
        key = target[-1]
        base = out_ptr + "/" + "/".join(target)
        if append:
            items = parent.setdefault(key, [])
            for value in values:
                state.provenance[f"{base}/{len(items)}"] = source_ptr
                items.append(value)
            return True
        if key in parent:
            existing = parent[key]
            if isinstance(existing, dict) and isinstance(values[0], dict):
                overlap = set(existing) & set(values[0])
                if overlap:
                    return False
                existing.update(values[0])
                state.provenance[base] = source_ptr
                return True
            return SAME if existing == values[0] else False
        parent[key] = values[0]
        state.provenance[base] = source_ptr
        return True

    def _reject(self, state: _State, pointers: list[str], reason: str, where: str,
                location: Callable[[str], Location]) -> None:
        for ptr in pointers:
            state.rejected.setdefault(ptr, reason)
        state.problems.append(self.kinds.bad_value(location(where), path=where, reason=reason))

    # -- unmapped leaves --

    def unmapped(self, record: Any, pointer: str, result: MapResult, invalid: dict[str, str],
                 known: Callable[[str], bool] | None = None) -> list[UnmappedEntry]:
        """Every source leaf the map did not use, whole untouched subtrees as one entry each."""
        touched = _ancestors(result.consumed | set(result.absent))
        entries: list[UnmappedEntry] = []
        walk = self.adapter.walk
        deeper = {prefix.rsplit("/", 1)[0] for prefix, _ in self.unmapped_reasons}
        deeper = _ancestors(deeper) | deeper

        def visit(node: Any, ptr: str, generic: str) -> None:
            for child, child_ptr, child_generic, is_leaf in walk(node, ptr, generic):
                if child_ptr in result.consumed:
                    continue
                if child_ptr in result.absent and child_ptr not in result.rejected:
                    # read, and it means "nothing" (e.g. an age of N/A): listed, with what it means
                    entries.append(UnmappedEntry(child_ptr, child_generic, leaf_text(self.adapter, child),
                                                 result.absent[child_ptr], is_leaf))
                    continue
                if not is_leaf and (child_ptr in touched or child_generic in deeper):
                    visit(child, child_ptr, child_generic)
                    continue
                reason = self.reason_for(child_ptr, child_generic, result.rejected, invalid, known)
                text = leaf_text(self.adapter, child) if is_leaf else None
                entries.append(UnmappedEntry(child_ptr, child_generic, text, reason, is_leaf))

        visit(record, pointer, pointer)
        return entries

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


def _ancestors(pointers: set[str]) -> set[str]:
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
