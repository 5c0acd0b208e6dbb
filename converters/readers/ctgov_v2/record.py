"""One ClinicalTrials.gov API v2 study record -> canonical `Study`: schema first, then the field map.

Schema policy (what is refused and what is read with a warning):
- the record is validated against `schemas/ctgov/study.schema.json` (derived from the official OpenAPI spec)
  with fastjsonschema, compiled once per converter; only when that fails is jsonschema run, to list every
  failure with its JSON pointer and a readable message. jsonschema-rs (the same schema, compiled once, in
  Rust: ~15x faster) answers first. It is never laxer than fastjsonschema on this schema (its `date` format
  and pattern digits are as strict or stricter; see tests/readers_ctgov/test_schema_gate.py), so a record it
  accepts is one fastjsonschema accepts; anything it refuses or cannot take (a lone surrogate) goes to
  fastjsonschema as before. The outcome is fastjsonschema's either way. fastjsonschema (a third of a second to
  compile this schema) and jsonschema are loaded on the first record Rust does not accept;
- a failure at the record's root, at `/protocolSection`, at `/protocolSection/identificationModule` or at
  its `nctId` refuses the record (`ctgov-schema-refused`, error): without them nothing identifies the study;
- any other failure is a warning (`ctgov-schema-invalid`); the failing value (and anything under it) is not
  used and is listed as unmapped with the schema's message; the rest of the record is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from converters.fieldmap import (
    NOT_IN_SCHEMA,
    ConversionContext,
    EngineKinds,
    FieldMap,
    JsonAdapter,
    MapResult,
    UnmappedEntry,
    iter_leaves,
)
from converters.model import SourceInfo, Study
from converters.model.comparators import ComparatorRules, mark_damaged_comparators
from converters.model.provenance import PointerLocations, resolve_pointer
from converters.model.vocabulary import IdentifierSystems, Vocabulary
from converters.problem_codes import ctgov
from converters.problems import Location, Problem, ProblemKind
from converters.readers.base import ReadOutcome, SourceUse
from converters.readers.ctgov_v2.classic import classic_problem, classic_shape
from converters.resources import Resources

if TYPE_CHECKING:
    import jsonschema

FORMAT = "ctgov-v2-json"
MAPPING = "ctgov_v2/study.yaml"
SCHEMA = "ctgov/study.schema.json"
NCT_ID_POINTER = "/protocolSection/identificationModule/nctId"
_REFUSING_POINTERS = ("", "/protocolSection", "/protocolSection/identificationModule", NCT_ID_POINTER)
ENGINE_KINDS = EngineKinds(unknown_value=ctgov.UNKNOWN_VALUE, bad_value=ctgov.BAD_VALUE,
                           dropped_object=ctgov.DROPPED_OBJECT)


@dataclass(frozen=True)
class RecordContext:
    """Where a record sits: the file, its digest, its form, and its name inside the file."""

    file: str
    sha256: str
    form: str
    encoding: str | None
    label: str | None  # "#3", a ZIP member name, ...; None for a single-record file


def known_paths(schema: dict[str, Any]) -> frozenset[str]:
    """Every generic JSON path (`/a/*/b`) the schema defines properties for."""
    definitions = schema.get("definitions", {})
    out: set[str] = set()

    def visit(node: dict[str, Any], path: str, seen: tuple[str, ...]) -> None:
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name in seen:
                return
            visit(definitions.get(name, {}), path, (*seen, name))
            return
        for sub in node.get("allOf", []):
            visit(sub, path, seen)
        if "items" in node:
            out.add(path + "/*")
            visit(node["items"], path + "/*", seen)
        for key, sub in node.get("properties", {}).items():
            out.add(f"{path}/{key}")
            visit(sub, f"{path}/{key}", seen)

    visit(schema, "", ())
    return frozenset(out)


class V2RecordConverter:
    """Built once per reader use (per run): compiled schema validators and field map."""

    def __init__(self, resources: Resources) -> None:
        schema = resources.schema(SCHEMA)
        self._schema = schema
        self._rust = jsonschema_rs.Draft7Validator(schema, validate_formats=True, offline=True)
        self._known = known_paths(schema)
        ctx = ConversionContext(Vocabulary(resources), IdentifierSystems(resources))
        self.field_map = FieldMap(resources.mapping(MAPPING), MAPPING, JsonAdapter(), ctx, ENGINE_KINDS)
        self._mapped_paths = frozenset(self.field_map.source_paths())
        self.comparators = ComparatorRules.load(resources)
        self.locations = PointerLocations()

    @cached_property
    def _fast(self) -> Callable[[Any], Any]:
        import fastjsonschema

        return fastjsonschema.compile(self._schema)

    @cached_property
    def _slow(self) -> jsonschema.Draft7Validator:
        import jsonschema

        return jsonschema.Draft7Validator(self._schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)

    def is_known(self, generic: str) -> bool:
        return generic in self._known

    # -- schema --

    def schema_failures(self, record: Any) -> list[tuple[str, str]]:
        """(JSON pointer, message) for every schema failure, [] when the record is valid.

        A value outside an enum that the field map reads is left to the map's vocabulary, which reports it
        with its path and keeps the wording where the model has a place for it (status.overall_text)."""
        if self.passes_schema(record):
            return []
        failures = []
        for error in self._slow.iter_errors(record):
            pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path)
            if error.validator == "enum" and _without_indexes(pointer) in self._mapped_paths:
                continue  # a coded value the field map reads: its vocabulary reports it (ctgov-unknown-value)
            failures.append((pointer, _short(error.message)))
        return sorted(failures)

    def passes_schema(self, record: Any) -> bool:
        """Whether fastjsonschema accepts the record; jsonschema-rs answers first for the common valid one."""
        try:
            if self._rust.is_valid(record):
                return True
        except ValueError:  # a value Rust cannot hold (e.g. a lone surrogate): fastjsonschema decides
            pass
        import fastjsonschema

        try:
            self._fast(record)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    # -- one record --

    def map_record(self, record: dict[str, Any], where: Callable[[str], Location]
                   ) -> tuple[MapResult | None, dict[str, str], list[Problem]]:
        """Schema check plus field map; (None, ...) when the record is refused."""
        problems: list[Problem] = []
        failures = self.schema_failures(record)
        invalid: dict[str, str] = {}
        for pointer, message in failures:
            if pointer in _REFUSING_POINTERS:
                problems.append(ctgov.SCHEMA_REFUSED(where(pointer), path=pointer or "/", reason=message))
            else:
                invalid.setdefault(pointer, message)
                problems.append(ctgov.SCHEMA_INVALID(where(pointer), path=pointer, reason=message))
        if any(p.code == ctgov.SCHEMA_REFUSED.code for p in problems):
            return None, invalid, problems
        result = self.field_map.apply(record, "", where, invalid)
        return result, invalid, problems

    def source_use(self, record: dict[str, Any], file: str) -> SourceUse:
        """Which values of one study record the field map uses (for coverage): schema check and map only."""
        result, invalid, problems = self.map_record(record, lambda p: Location(file=file, path=p))
        if result is None:
            return SourceUse(None, tuple(problems))
        return SourceUse(source_leaves(self.field_map, record, "", result, invalid, self.is_known))

    def convert(self, value: Any, ctx: RecordContext) -> ReadOutcome:
        """One parsed JSON value -> an outcome with a Study, or the problems that refused it."""
        nct_id = _nct_id(value)
        name = nct_id or ctx.label
        outcome_record = None if ctx.label is None else name

        def where(pointer: str) -> Location:
            return Location(file=ctx.file, record=name, path=pointer or None)

        if not isinstance(value, dict) or "protocolSection" not in value:
            shape = classic_shape(value)
            if shape is not None:
                problem = classic_problem(shape, where(""))
                if ctx.label is not None:  # one record of a larger file: refuse the record, not the file
                    problem = problem.model_copy(update={"severity": ctgov.NOT_A_STUDY.severity})
                return ReadOutcome(outcome_record, None, [problem])
            what = "The record" if isinstance(value, dict) else f"A JSON {_json_type(value)}"
            return ReadOutcome(outcome_record, None, [ctgov.NOT_A_STUDY(where(""), what=what)])
        result, invalid, problems = self.map_record(value, where)
        if result is None:
            return ReadOutcome(outcome_record, None, problems)
        if nct_id is None:
            problems.append(ctgov.NO_NCT_ID(where(NCT_ID_POINTER)))
        entries = self.field_map.unmapped(value, "", result, invalid, self.is_known)
        problems.extend(_unknown_field_problems(entries, where))
        problems.extend(result.problems)
        study = build_study(result, entries, problems, SourceInfo(
            file=ctx.file, format=FORMAT, layout=ctx.form, encoding=ctx.encoding, sha256=ctx.sha256,
            record=ctx.label,
        ), self.locations)
        if isinstance(study, Problem):
            return ReadOutcome(outcome_record, None, [*problems, study.with_location(file=ctx.file, record=name)])
        return ReadOutcome(outcome_record, mark_damaged_comparators(study, self.comparators), [])


def build_study(result: MapResult, entries: list[UnmappedEntry], problems: list[Problem],
                source: SourceInfo, locations: PointerLocations | None = None,
                invalid: ProblemKind = ctgov.RECORD_INVALID) -> Study | Problem:
    """Assemble the Study from mapped data; a model failure here is a reader bug, reported (as `invalid`), not
    raised. `locations`: the converter's shared provenance locations, when it keeps them."""
    data = result.data
    data["source"] = source.model_copy(update={"text_formats": result.text_formats}) if result.text_formats \
        else source
    # plain dicts: pydantic-core makes the model objects from them as fast as Python could build them unchecked
    provenance = result.provenance  # sorted by target (sorting the keys alone is twice as fast as the items)
    data["provenance"] = locations.of(provenance) if locations is not None else \
        {target: {"pointer": provenance[target]} for target in sorted(provenance)}
    data["unmapped"] = [{"pointer": e.pointer, "text": e.text, "reason": e.reason} for e in entries]
    data["problems"] = problems
    try:
        return Study.model_validate(data)
    except ValueError as exc:  # pydantic.ValidationError
        first = str(exc).splitlines()
        return invalid(Location(), reason=" ".join(first[:3])[:300])


def source_leaves(field_map: FieldMap, root: Any, pointer: str, result: MapResult, invalid: dict[str, str],
                  known: Callable[[str], bool] | None = None,
                  generic: str | None = None) -> tuple[tuple[str, str | None], ...]:
    """Every source leaf under `pointer` as (generic path, None if used else why not), for `SourceUse`;
    `generic`: the record's own path without indexes, when its pointer has one."""
    start = pointer if generic is None else generic
    return tuple(
        (path, None if result.used(ptr) else field_map.reason_for(ptr, path, result.rejected, invalid, known))
        for ptr, path in iter_leaves(field_map.adapter, root, pointer, start)
    )


def _unknown_field_problems(entries: list[UnmappedEntry], where: Callable[[str], Location]) -> list[Problem]:
    return [
        ctgov.UNKNOWN_FIELD(where(e.pointer), path=e.pointer)
        for e in entries
        if e.reason == NOT_IN_SCHEMA
    ]


def _without_indexes(pointer: str) -> str:
    """A JSON pointer without its array indexes (`/a/0/b` -> `/a/b`), as field-map source paths are written."""
    return "/".join(step for step in pointer.split("/") if not step.isdigit())


def _nct_id(value: Any) -> str | None:
    nct = resolve_pointer(value, NCT_ID_POINTER)
    return nct if isinstance(nct, str) and nct else None


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _short(message: str) -> str:
    return message if len(message) <= 200 else message[:197] + "..."
