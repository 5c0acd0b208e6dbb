"""A field-map engine for structured registry records (JSON and XML): mapping is data, conversions are named.

A field map (`mappings/<format>/*.yaml`, kind `field-map`, schema `schemas/mapping/field-map.schema.json`) is a
list of rules. Each rule reads a source path (`protocolSection/statusModule/overallStatus`, or for XML
`eligibility/minimum_age`, `enrollment/@type`) and writes a target field of the canonical `Study`
(`status.overall`, `arms[]`). A rule may name a conversion (`convert: partial_date`, implemented once in
`conversions`), a vocabulary (`vocabulary: Status`, looked up in `mappings/common/vocabulary.yaml`),
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

A map is checked for structure by its schema and for meaning by `spec` (target fields against the pydantic
model, conversion and vocabulary names against their registries), so a typo in a mapping file fails at start-up,
not silently at run time; objects the model requires fields for (an `Arm` needs a `label`) are only created when
those fields were found.

The package: `conversions` (the one registry of named conversions, shared with the page reader), `adapters`
(walking JSON and XML), `spec` (a map's rules, checked), `compile` and `place` (the rules as closures),
`state` (per-record bookkeeping), `unmapped` (the unmapped listing), and this module, which puts them together.

Speed: the rules are compiled once per FieldMap into closures (see `compile`), so reading a record does no path
parsing and no lookups of rule metadata; the mapping files stay the only place where paths are written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from converters.fieldmap.adapters import Adapter
from converters.fieldmap.compile import compile_rules
from converters.fieldmap.conversions import ConversionContext
from converters.fieldmap.spec import FieldMapSpec, Rule, all_rules
from converters.fieldmap.state import EngineKinds, Env, MapResult, State
from converters.fieldmap.unmapped import UnmappedEntry, UnmappedListing
from converters.model import TextFormat
from converters.problems import Location


class FieldMap:
    """A compiled field map for one source format (JSON data or XML elements)."""

    def __init__(self, mapping: dict[str, Any], name: str, adapter: Adapter, ctx: ConversionContext,
                 kinds: EngineKinds) -> None:
        spec = FieldMapSpec.from_mapping(mapping, name, ctx.vocabulary)
        ctx = replace(ctx, criteria_headings=spec.criteria_headings)  # the map's own wording of them
        self.name = name
        self.adapter = adapter
        self.ctx = ctx
        self.kinds = kinds
        self.root = spec.root
        self.rules = spec.rules
        self.unmapped_reasons = spec.unmapped_reasons
        # canonical values map to themselves; looking them up first skips wording normalisation (hot path)
        exact: dict[str, dict[str, tuple[str, ...]]] = {
            rule.vocabulary: {value: (value,) for value in ctx.vocabulary.values(rule.vocabulary)}
            for rule in all_rules(self.rules) if rule.vocabulary is not None
        }
        self._run = compile_rules(self.rules, adapter, ctx, kinds, exact)
        self._listing = UnmappedListing(adapter, self.rules, self.root, self.unmapped_reasons)
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
        state = State()
        data: dict[str, Any] = {}
        self._run(record, pointer, data, "", state, Env(location, invalid or {}))
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
                 known: Callable[[str], bool] | None = None, generic: str | None = None) -> list[UnmappedEntry]:
        """Every source leaf the map did not use, whole untouched subtrees as one entry each (see `unmapped`);
        `generic`: the record's path without indexes, when its pointer has one."""
        return self._listing.entries(record, pointer, result, invalid, known, generic)

    def reason_for(self, ptr: str, generic: str, rejected: dict[str, str], invalid: dict[str, str],
                   known: Callable[[str], bool] | None) -> str:
        """Why the source value at `ptr` is not used."""
        return self._listing.reason_for(ptr, generic, rejected, invalid, known)


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
