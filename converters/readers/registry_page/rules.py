"""The reader's rules, compiled once per reader from the mapping files (`mappings/registry_page/*.yaml`).

Everything a steward may change (labels, headings, boilerplate, wordings, encoding-loss patterns) is data; this
module only turns it into lookup tables and compiled patterns, so that reading a page does no set-up work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from converters.fieldmap.conversions import CONVERSIONS, FREE_TEXT_CONVERSIONS, PAGE_LAYOUTS, ValueWordings
from converters.model import TextFormat
from converters.model.comparators import ComparatorRules
from converters.model.vocabulary import IdentifierSystems, Vocabulary, normalise_wording
from converters.readers.registry_page.boundaries import BOUNDARIES_MAPPING, CriteriaBoundaries
from converters.resources import MappingError, Resources

LAYOUTS_MAPPING = "registry_page/layouts.yaml"
TEXT_CHECKS_MAPPING = "registry_page/text-checks.yaml"


@dataclass(frozen=True)
class FieldRule:
    """One field a layout states: its labels, where it goes, and how its text is converted."""

    target: str
    convert: str
    labels: tuple[str, ...] = ()
    vocabulary: str | None = None
    positional: bool = False
    value_type: str | None = None
    label: str | None = None
    assumed_unit: str | None = None

    @property
    def display_label(self) -> str:
        return self.label or (self.labels[0] if self.labels else self.target)


@dataclass(frozen=True)
class LabelMatcher:
    """Finds a field label at the start of a line: alone (value on the next line) or followed by its value."""

    fields: tuple[FieldRule, ...]
    by_label: dict[str, FieldRule]
    inline: re.Pattern[str] | None

    @classmethod
    def build(cls, fields: tuple[FieldRule, ...]) -> LabelMatcher:
        by_label: dict[str, FieldRule] = {}
        for rule in fields:
            for label in rule.labels:
                by_label.setdefault(normalise_wording(label), rule)
        labels = sorted({label for rule in fields for label in rule.labels}, key=len, reverse=True)
        inline = None
        if labels:
            alternatives = "|".join(_label_regex(label) for label in labels)
            inline = re.compile(rf"^(?P<label>{alternatives})(?P<sep>\s*:\s*|\s+)(?P<value>\S.*)$", re.IGNORECASE)
        return cls(fields, by_label, inline)

    def label_only(self, norm: str) -> FieldRule | None:
        """The field whose label is the whole line (its value follows on the next line)."""
        return self.by_label.get(norm)

    def with_value(self, text: str) -> tuple[FieldRule, str] | None:
        """The field whose label starts the line, and the value after it."""
        if self.inline is None:
            return None
        m = self.inline.match(text)
        if not m:
            return None
        rule = self.by_label.get(normalise_wording(m["label"]))
        if rule is None:
            return None
        if ":" not in m["sep"] and rule.convert in FREE_TEXT_CONVERSIONS:
            return None  # "Summary of the trial..." is text, not the label "Summary": free text needs a colon
        return rule, m["value"].strip()


def _label_regex(label: str) -> str:
    """A label as a pattern: literal, with any run of spaces matching any whitespace."""
    return r"\s+".join(re.escape(part) for part in label.split())


@dataclass(frozen=True)
class LinePattern:
    regex: re.Pattern[str]
    groups: dict[str, FieldRule]
    first_line_only: bool


@dataclass(frozen=True)
class TableRule:
    columns: tuple[str, ...]  # normalised column names
    target: str
    cells: dict[str, str]  # normalised column name -> role
    relation: str | None


@dataclass(frozen=True)
class SectionRule:
    key: str
    headings: tuple[str, ...]
    parser: str
    target: str | None = None
    category: str | None = None
    relation: str | None = None
    name_degrees_separator: str | None = None
    kind_when_unstated: str | None = None
    matcher: LabelMatcher = field(default_factory=lambda: LabelMatcher.build(()))
    rows: LabelMatcher = field(default_factory=lambda: LabelMatcher.build(()))
    tables: tuple[TableRule, ...] = ()


@dataclass(frozen=True)
class LayoutRule:
    id: str
    title: str
    min_score: int
    signatures: frozenset[str]
    boilerplate: frozenset[str]
    navigation: frozenset[str]
    line_patterns: tuple[LinePattern, ...]
    header: SectionRule | None
    sections: tuple[SectionRule, ...]
    heading_index: dict[str, SectionRule]
    text_format: TextFormat = TextFormat.PLAIN  # the format the layout's pages write every text in


@dataclass(frozen=True)
class TextCheck:
    id: str
    regex: re.Pattern[str]
    explanation: str
    requires: tuple[str, ...] = ()  # casefolded; the check runs only on lines containing one of them

    def applies_to(self, folded_line: str) -> bool:
        return not self.requires or any(r in folded_line for r in self.requires)


@dataclass(frozen=True)
class CriteriaRules:
    headings: dict[str, str]  # normalised heading -> category
    heading_line: re.Pattern[str]  # a heading at the start of a line, then optional text
    inline_heading: re.Pattern[str]  # a heading inside a line, after a sentence
    separators: frozenset[str]
    boundaries: CriteriaBoundaries  # list markers and run-on signals (criteria-boundaries.yaml)


@dataclass(frozen=True)
class AgeStatementRules:
    """An age limit stated once as a line of its own (`age_statement` in the layouts mapping), compiled."""

    line: re.Pattern[str]  # group: value (an age range as `value_wordings.age_range` reads it)
    mentions: tuple[re.Pattern[str], ...]  # any of them on a line makes it an age statement

    def mentions_age(self, text: str) -> bool:
        return any(pattern.search(text) for pattern in self.mentions)


@dataclass(frozen=True)
class EvidenceRules:
    """How much a page of no known layout must show to be read as a study (`evidence` in the layouts mapping):
    enough labelled registry fields alone, or enough kinds of evidence together (labelled fields, a registry id,
    a criteria heading). Anything less is not claimed, so a README is never made a study."""

    min_labels: int  # distinct known field labels that make one kind of evidence
    labels_alone: int  # distinct known field labels that are evidence enough on their own
    min_kinds: int  # kinds of evidence that are enough together


@dataclass(frozen=True)
class PageRules:
    """All compiled rules of the registry-page reader."""

    layouts: tuple[LayoutRule, ...]
    generic: LabelMatcher
    criteria: CriteriaRules
    placeholders: frozenset[str]
    value_wordings: ValueWordings
    age_statement: AgeStatementRules
    # site status (RecruitmentStatus) -> the overall status (Status) it implies for the whole study
    overall_status_from_site_status: dict[str, str]
    line_patterns: tuple[LinePattern, ...]  # self-describing lines of any layout
    page_vocabulary: Vocabulary  # the layouts mapping's own `vocabularies` (page wordings: outcome kind, ...)
    vocabulary: Vocabulary
    identifiers: IdentifierSystems
    text_checks: tuple[TextCheck, ...]
    comparators: ComparatorRules  # damaged thresholds in criteria (the one detector, in the model layer)
    duplicate_min_chars: int
    duplicate_window_chars: int
    evidence: EvidenceRules  # what a page of no known layout must show to be read as a study
    all_boilerplate: frozenset[str]
    all_navigation: frozenset[str]

    @classmethod
    def load(cls, resources: Resources) -> PageRules:
        data = resources.mapping(LAYOUTS_MAPPING)
        checks = resources.mapping(TEXT_CHECKS_MAPPING)
        layouts = tuple(_layout(item) for item in data["layouts"])
        vocabulary = Vocabulary(resources)
        generic_fields: list[FieldRule] = []
        for layout in layouts:
            for section in (layout.header, *layout.sections):
                if section is not None:
                    generic_fields.extend(section.rows.fields)
                    if section.parser == "fields" or section.parser == "criteria":
                        generic_fields.extend(f for f in section.matcher.fields if _is_study_path(f.target))
        return cls(
            layouts=layouts,
            generic=LabelMatcher.build(tuple(generic_fields)),
            criteria=_criteria(data["criteria"], resources.mapping(BOUNDARIES_MAPPING)),
            placeholders=frozenset(normalise_wording(p) for p in data["placeholders"]),
            value_wordings=_value_wordings(data["value_wordings"]),
            age_statement=_age_statement(data["age_statement"]),
            overall_status_from_site_status=_status_implications(data["overall_status_from_site_status"],
                                                                 vocabulary),
            line_patterns=tuple(_line_pattern(p) for p in data["line_patterns"]),
            page_vocabulary=Vocabulary(resources, LAYOUTS_MAPPING),
            vocabulary=vocabulary,
            identifiers=IdentifierSystems(resources),
            text_checks=tuple(
                TextCheck(c["id"], re.compile(c["pattern"]), c["explanation"],
                          tuple(r.casefold() for r in c.get("requires", ())))
                for c in checks["checks"]
            ),
            comparators=ComparatorRules.load(resources),
            duplicate_min_chars=int(data["settings"]["duplicate_min_chars"]),
            duplicate_window_chars=int(data["settings"]["duplicate_window_chars"]),
            evidence=_evidence(data["evidence"]),
            all_boilerplate=frozenset().union(*(layout.boilerplate for layout in layouts)),
            all_navigation=frozenset().union(*(layout.navigation for layout in layouts)),
        )


_STUDY_ROOTS = ("status.", "design.", "eligibility", "titles.", "identifiers", "conditions", "brief_summary",
                "detailed_description", "keywords", "countries")


def _is_study_path(target: str) -> bool:
    """Fields addressed from the study root (not relative to an arm, site, ...), usable by generic rules."""
    return target.startswith(_STUDY_ROOTS)


def _field(item: dict[str, Any]) -> FieldRule:
    conversion = CONVERSIONS.get(item["convert"])
    if conversion is None or PAGE_LAYOUTS not in conversion.kinds:
        raise MappingError(f"{LAYOUTS_MAPPING}: {item['convert']!r} is not a conversion a page field can use")
    return FieldRule(
        target=item["target"],
        convert=item["convert"],
        labels=tuple(item.get("labels", ())),
        vocabulary=item.get("vocabulary"),
        positional=bool(item.get("positional", False)),
        value_type=item.get("value_type"),
        label=item.get("label"),
        assumed_unit=item.get("assumed_unit"),
    )


def _section(item: dict[str, Any]) -> SectionRule:
    return SectionRule(
        key=item.get("key", "header"),
        headings=tuple(normalise_wording(h) for h in item.get("headings", ())),
        parser=item["parser"],
        target=item.get("target"),
        category=item.get("category"),
        relation=item.get("relation"),
        name_degrees_separator=item.get("name_degrees_separator"),
        kind_when_unstated=item.get("kind_when_unstated"),
        matcher=LabelMatcher.build(tuple(_field(f) for f in item.get("fields", ()))),
        rows=LabelMatcher.build(tuple(_field(f) for f in item.get("rows", ()))),
        tables=tuple(
            TableRule(
                columns=tuple(normalise_wording(c) for c in t["columns"]),
                target=t["target"],
                cells={normalise_wording(k): v for k, v in t["cells"].items()},
                relation=t.get("relation"),
            )
            for t in item.get("tables", ())
        ),
    )


def _layout(item: dict[str, Any]) -> LayoutRule:
    sections = tuple(_section(s) for s in item.get("sections", ()))
    heading_index: dict[str, SectionRule] = {}
    for section in sections:
        for heading in section.headings:
            heading_index.setdefault(heading, section)
    return LayoutRule(
        id=item["id"],
        title=item["title"],
        min_score=int(item["detect"]["min_score"]),
        signatures=frozenset(normalise_wording(s) for s in item["detect"]["signatures"]),
        boilerplate=frozenset(normalise_wording(s) for s in item.get("boilerplate", ())),
        navigation=frozenset(normalise_wording(s) for s in item.get("navigation", ())),
        line_patterns=tuple(_line_pattern(p) for p in item.get("line_patterns", ())),
        header=_section(item["header"]) if "header" in item else None,
        sections=sections,
        heading_index=heading_index,
        text_format=TextFormat(item.get("text_format", TextFormat.PLAIN)),
    )


def _line_pattern(item: dict[str, Any]) -> LinePattern:
    return LinePattern(
        regex=re.compile(item["pattern"], re.IGNORECASE),
        groups={name: _field(f) for name, f in item["groups"].items()},
        first_line_only=item.get("where") == "first-line",
    )


def _evidence(item: dict[str, Any]) -> EvidenceRules:
    return EvidenceRules(min_labels=int(item["min_labels"]), labels_alone=int(item["labels_alone"]),
                         min_kinds=int(item["min_kinds"]))


def _status_implications(item: dict[str, str], vocabulary: Vocabulary) -> dict[str, str]:
    """Site status -> overall status, each checked against its vocabulary (a typo never passes silently)."""
    sites, overall = set(vocabulary.values("RecruitmentStatus")), set(vocabulary.values("Status"))
    unknown = sorted({k for k in item if k not in sites} | {v for v in item.values() if v not in overall})
    if unknown:
        raise MappingError(f"{LAYOUTS_MAPPING}: overall_status_from_site_status uses unknown statuses {unknown}")
    return dict(item)


def _age_statement(item: dict[str, Any]) -> AgeStatementRules:
    labels = _alternatives(item["labels"])
    return AgeStatementRules(
        # matched after the item's list marker, if any, is taken off (the criteria boundaries say what a marker is)
        line=re.compile(rf"^(?:{labels})(?:\s*:\s*|\s+)(?P<value>\S.*?)\s*[;,.]?$", re.IGNORECASE),
        mentions=tuple(re.compile(pattern, re.IGNORECASE) for pattern in item["mentions"]),
    )


def _before(wordings: list[str]) -> str:
    """Wordings written before a value: a sign may touch it ("≥5"), a word needs a space ("at least 5")."""
    ordered = sorted(set(wordings), key=len, reverse=True)
    parts = [_label_regex(w) + (r"\s+" if w[-1].isalnum() else r"\s*") for w in ordered]
    return "|".join(parts) if parts else "(?!)"


def _alternatives(wordings: list[str]) -> str:
    """Wordings as regex alternatives, longest first; a pattern that never matches for an empty list."""
    ordered = sorted(set(wordings), key=len, reverse=True)
    return "|".join(_label_regex(w) for w in ordered) if ordered else "(?!)"


def _value_wordings(item: dict[str, Any]) -> ValueWordings:
    enrollment, ages = item["enrollment"], item["age_range"]
    separators = "|".join(
        rf"\s+{_label_regex(s)}\s+" if s[0].isalnum() else rf"\s*{re.escape(s)}\s*"
        for s in sorted(set(ages["separators"]), key=len, reverse=True)
    )
    minimum_after = _alternatives(ages["minimum_only_after"])
    minimum_before = _before(ages.get("minimum_only_before", []))
    maximum_before = _before(ages["maximum_only_before"])
    maximum_after = _alternatives(ages["maximum_only_after"])
    unit_suffixes = _alternatives(ages.get("unit_suffixes", []))
    return ValueWordings(
        enrollment=re.compile(
            rf"^(?P<count>\d{{1,3}}(?:,\d{{3}})+|\d{{1,9}})(?:\s+(?:{_alternatives(enrollment['nouns'])}))?"
            rf"(?:\s*\[?\(?(?P<type>[A-Za-z]+)\)?\]?)?$",
            re.IGNORECASE,
        ),
        enrollment_type_vocabulary=enrollment["type_vocabulary"],
        range_split=re.compile(separators, re.IGNORECASE),
        minimum_only=re.compile(
            rf"^(?:{minimum_before})(?P<age2>\S.*)$|^(?P<age>.+?)\s+(?:{minimum_after})$", re.IGNORECASE
        ),
        maximum_only=re.compile(
            rf"^(?:{maximum_before})(?P<age>\S.*)$|^(?P<age2>.+?)\s+(?:{maximum_after})$", re.IGNORECASE
        ),
        unit_suffix=re.compile(rf"^(?P<age>.+?)\s+(?:{unit_suffixes})$", re.IGNORECASE),
    )


def _criteria(item: dict[str, Any], boundaries: dict[str, Any]) -> CriteriaRules:
    headings = {
        normalise_wording(label): category
        for category in ("inclusion", "exclusion")
        for label in item["headings"][category]
    }
    line_labels = sorted(
        {label for c in ("inclusion", "exclusion") for label in item["headings"][c]}, key=len, reverse=True
    )
    inline_labels = sorted(
        {label for c in ("inclusion", "exclusion") for label in item["inline_headings"][c]}, key=len, reverse=True
    )
    line_alt = "|".join(_label_regex(label) for label in line_labels)
    inline_alt = "|".join(_label_regex(label) for label in inline_labels)
    return CriteriaRules(
        headings=headings,
        heading_line=re.compile(rf"^(?P<label>{line_alt})\s*(?::\s*(?P<rest>.*)|$)", re.IGNORECASE),
        inline_heading=re.compile(rf"(?<=[.;!?])\s+(?P<label>{inline_alt})\s*:", re.IGNORECASE),
        separators=frozenset(s.strip() for s in item["separators"]),
        boundaries=CriteriaBoundaries.from_mapping(boundaries),
    )

