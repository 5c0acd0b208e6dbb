"""The one detector of damaged comparators: thresholds in eligibility criteria whose ≥ / ≤ was lost.

Scraped pages drop comparison signs ("ANA titer 1:80" for "≥1:80") or write "=" or "?" in their place
("SELENA-SLEDAI score = 6"). `find_damaged_comparators` finds such phrases in one text; `mark_damaged_comparators`
runs it over every criterion of a study, marks each criterion (`Criterion.damaged_comparators`) and reports each
phrase as a problem at its criterion's source location. Readers call it once on the study they built, so every
input (pages, ClinicalTrials.gov records) goes through this one place; steward validation and computable
eligibility reuse the same functions. What counts as a measure, a comparator and a lost sign is data
(mappings/common/thresholds.yaml). Precision comes before recall, and nothing is repaired: the sign is never
guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from converters.model.provenance import json_pointer
from converters.model.study import CriteriaSection, Criterion, DamagedComparator, SourceLocation, Study
from converters.problem_codes import criteria as codes
from converters.problems import Location, Problem
from converters.resources import Resources

THRESHOLDS_MAPPING = "common/thresholds.yaml"

Damage = Literal["missing", "equals", "question-mark", "replacement-character"]

_GAP_ITEMS = 6  # most gap words / bracketed abbreviations between a measure and its number
_BEFORE_WINDOW = 40  # characters before a measure searched for a comparator
_AFTER_WINDOW = 60  # characters after a number searched for a comparator
_AFTER_FILLER = 25  # most characters between a number (and unit) and a comparator after it
# A number: a titre (1:80), a number with thousands separators (100,000) or a plain/decimal number. It must not
# continue another token: no letter, digit or "/^×*+-" right before it, and not a digit then ".,:" either.
_NUMBER = r"(?<![\w/^×*+\-])(?<!\d[.,:])(?:1\s?:\s?\d{1,5}|\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?)"
_TITRE = re.compile(r"1\s?:\s?\d+")
_YEAR = re.compile(r"(?:19|20)\d\d")
_DIGIT = re.compile(r"\d")
_SIGN_START = r"(?<![^\s(\[:;,])"  # a lost sign stands first, or after a space, a bracket or punctuation
_NORMALISE = re.compile(r"[\s\-]+")


def _term_pattern(term: str) -> str:
    """A term as a regex: a space or hyphen in it matches either, or nothing ('SLEDAI 2K' ~ 'SLEDAI-2K')."""
    return "".join(r"[\s\-]?" if ch in " -" else re.escape(ch) for ch in term)


def _unit_pattern(unit: str) -> str:
    """A unit as a regex: spaces around '/' and inside the unit are optional; '^' may be markdown-escaped."""
    out = []
    for ch in unit:
        if ch == "/":
            out.append(r"\s*/\s*")
        elif ch == " ":
            out.append(r"\s*")
        elif ch == "^":
            out.append(r"\\?\^")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def _trie(terms: Iterable[str]) -> str:
    """Terms as one regex factored by common prefixes ('SLEDAI', 'SLEDAI 2K', ...): a plain alternation of a few
    hundred terms is tried branch by branch at every word start, a trie once per character. Greedy, so the
    longest term wins, as in a longest-first alternation."""
    root: dict[str, Any] = {}
    for term in terms:
        node = root
        for ch in term.casefold():
            node = node.setdefault(" " if ch in " -" else ch, {})
        node[""] = {}
    return _trie_node(root)


def _trie_node(node: dict[str, Any]) -> str:
    branches = [(r"[\s\-]?" if key == " " else re.escape(key)) + _trie_node(node[key])
                for key in sorted(k for k in node if k)]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


def _alternation(items: Iterable[str], pattern: Any = re.escape) -> str:
    """Longest first, so that 'SLEDAI 2K' wins over 'SLEDAI' and 'mg/dL' over 'mg'."""
    return "|".join(pattern(item) for item in sorted(set(items), key=lambda s: (-len(s), s)))


def _words(items: Iterable[str]) -> str:
    """Words matched whole (no word character on either side); signs matched as they are."""
    parts = []
    for item in sorted(set(items), key=lambda s: (-len(s), s)):
        core = _term_pattern(item)
        left = r"(?<!\w)" if item[0].isalnum() else ""
        right = r"(?!\w)" if item[-1].isalnum() else ""
        parts.append(f"{left}{core}{right}")
    return "|".join(parts)


def normalise_term(text: str) -> str:
    """How a matched measure is looked up: casefolded, spaces and hyphens removed."""
    return _NORMALISE.sub("", text.casefold())


@dataclass(frozen=True)
class ComparatorRules:
    """The compiled thresholds mapping. Each pattern is compiled on first use (`re` is slow to compile the large
    ones, and a run whose criteria hold no number never needs them); the sources are built from the mapping."""

    sources: Mapping[str, str]  # pattern name -> regex source (compiled with re.IGNORECASE)
    ordinal: frozenset[str]  # normalised terms of ordinal measures
    damage_of: Mapping[str, Damage]  # lost sign -> damage
    explanations: Mapping[str, str]  # damage -> how the problem report describes it

    @cached_property
    def measured(self) -> re.Pattern[str]:
        """measure gap [lost sign] number [unit]"""
        return self._compiled("measured")

    @cached_property
    def fronted(self) -> re.Pattern[str]:
        """lost sign, then as `measured` ('=grade 2')"""
        return self._compiled("fronted")

    @cached_property
    def signed(self) -> re.Pattern[str]:
        """lost sign, number [unit]: no measure named"""
        return self._compiled("signed")

    @cached_property
    def before(self) -> re.Pattern[str]:
        """a comparator (or change word) ending right before a measure"""
        return self._compiled("before")

    @cached_property
    def after(self) -> re.Pattern[str]:
        """a comparator right after the number and its unit"""
        return self._compiled("after")

    @cached_property
    def range_next(self) -> re.Pattern[str]:
        """right after the number: a joiner and another number (a range or a list)"""
        return self._compiled("range_next")

    def _compiled(self, name: str) -> re.Pattern[str]:
        return re.compile(self.sources[name], re.IGNORECASE)

    @classmethod
    def load(cls, resources: Resources) -> ComparatorRules:
        return cls.from_mapping(resources.mapping(THRESHOLDS_MAPPING))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ComparatorRules:
        terms = [t for m in data["measures"] for t in m["terms"]]
        ordinal = frozenset(normalise_term(t) for m in data["measures"] if m["kind"] == "ordinal" for t in m["terms"])
        signs = "".join(re.escape(s["sign"]) for s in data["lost_signs"])
        sign = rf"[{signs}](?![=<>/])"
        units = _alternation(data["units"], _unit_pattern)
        gap = rf"(?:\s*(?:\([^()\n]{{1,40}}\)|[:：%)]|(?:{_words(data['gap_words'])}))){{0,{_GAP_ITEMS}}}?\s*"
        number_and_unit = rf"(?P<number>{_NUMBER})(?P<unit>\s*(?:{units}))?(?![^\W\d_]|\d)"
        core = rf"(?<![\w\-])(?P<measure>{_trie(terms)})(?!\w){gap}(?:(?P<sign>{sign})\s*)?{number_and_unit}"
        fronted = rf"{_SIGN_START}(?P<pre_sign>{sign})\s?{core}"
        signed = rf"{_SIGN_START}(?P<sign>{sign})\s?{number_and_unit}"
        comparators = data["comparators"]
        before = rf"(?:{_words(comparators['before'])})\s*(?:(?:{_words(comparators['articles'])})\s+)?$"
        symbols = [c for c in comparators["after"] if not c[0].isalnum()]
        words = [c for c in comparators["after"] if c[0].isalnum()]
        after = rf"^(?:\s?(?:{_alternation(symbols)})|[^;.,()\d\n]{{0,{_AFTER_FILLER}}}?(?:{_words(words)}))"
        joiners = comparators["range_joiners"]
        tail = rf"(?:\s*(?:{_words(comparators['range_tail_words'])}))+\s*(?:{_words(j for j in joiners if j != ',')})"
        range_next = rf"^(?:\s*(?:{_words(joiners)})|{tail})\s*[≥≤<>]?\s*\d"
        sources = {"measured": core, "fronted": fronted, "signed": signed, "before": before, "after": after,
                   "range_next": range_next}
        return cls(sources=sources, ordinal=ordinal, damage_of={s["sign"]: s["damage"] for s in data["lost_signs"]},
                   explanations=dict(data["damages"]))


# --- one text ----------------------------------------------------------------------------------------


def find_damaged_comparators(text: str, rules: ComparatorRules) -> list[DamagedComparator]:
    """Every threshold-shaped phrase of `text` whose comparison sign is missing or replaced, in text order."""
    if _DIGIT.search(text) is None:
        return []  # no number, no threshold (most criteria): skip the measure patterns
    found = [f for f in (_from_measured(m, text, rules) for m in rules.measured.finditer(text)) if f]
    found += [f for f in (_finding(m, text, rules, m.group("pre_sign")) for m in rules.fronted.finditer(text)) if f]
    found += [f for f in (_from_signed(m, text, rules) for m in rules.signed.finditer(text)) if f]
    kept: list[DamagedComparator] = []
    for finding in sorted(found, key=lambda f: (f.start, -f.end)):
        if not kept or finding.start >= kept[-1].end:  # one finding per stretch: a measure's wins over a bare sign
            kept.append(finding)
    return kept


def _from_measured(match: re.Match[str], text: str, rules: ComparatorRules) -> DamagedComparator | None:
    sign = match.group("sign")
    if normalise_term(match.group("measure")) in rules.ordinal:
        return None  # one value of an ordinal scale may be honest ('ECOG = 1'); only a sign before it is damage
    if not sign and _stated_before(text, match.start("measure"), rules):
        return None  # the comparator stands before the measure ('over the age of 18')
    return _finding(match, text, rules, sign)


def _from_signed(match: re.Match[str], text: str, rules: ComparatorRules) -> DamagedComparator | None:
    if not match.group("unit") and not _TITRE.fullmatch(match.group("number")):
        return None  # a bare '= 5' may be an honest equation; a quantity with a unit is a threshold
    return _finding(match, text, rules, match.group("sign"))


def _finding(match: re.Match[str], text: str, rules: ComparatorRules, sign: str | None) -> DamagedComparator | None:
    number = match.group("number")
    end = match.end()
    if _honest_number(number, has_unit=bool(match.group("unit"))) or _bounded_after(text, end, rules):
        return None
    start = match.start()
    return DamagedComparator(
        phrase=text[start:end], start=start, end=end, number=number, number_start=match.start("number"),
        damage=rules.damage_of[sign] if sign else "missing",
    )


def _honest_number(number: str, *, has_unit: bool) -> bool:
    """Zero states one value ('BVAS score of 0'); a four-digit year with no unit names a version ('SLEDAI 2000')."""
    if _TITRE.fullmatch(number):
        return False
    if not has_unit and _YEAR.fullmatch(number):
        return True
    return float(number.replace(",", "")) == 0


def _stated_before(text: str, measure_start: int, rules: ComparatorRules) -> bool:
    """A comparator or change word right before the measure ('over the age of 18', 'a decline in FVC of 10%')."""
    return rules.before.search(text[max(0, measure_start - _BEFORE_WINDOW):measure_start]) is not None


def _bounded_after(text: str, end: int, rules: ComparatorRules) -> bool:
    """A comparator after the number ('8 or higher', '18+'), or the number is one end of a range or list."""
    rest = text[end:end + _AFTER_WINDOW]
    return rules.after.search(rest) is not None or rules.range_next.search(rest) is not None


# --- a study -----------------------------------------------------------------------------------------


def mark_damaged_comparators(study: Study, rules: ComparatorRules) -> Study:
    """The study with each criterion's damaged thresholds marked and reported; the same object when none."""
    sections: list[CriteriaSection] = []
    found: list[tuple[str, DamagedComparator]] = []
    for s, section in enumerate(study.eligibility.criteria):
        items, in_section = _mark_items(section.items, ("eligibility", "criteria", s, "items"), rules)
        sections.append(section if items is section.items else section.model_copy(update={"items": items}))
        found += in_section
    if not found:
        return study
    new = [_problem(study, pointer, finding, rules) for pointer, finding in found]
    eligibility = study.eligibility.model_copy(update={"criteria": sections})
    return study.model_copy(update={"eligibility": eligibility, "problems": _merged(study.problems, new)})


def _mark_items(items: list[Criterion], base: tuple[str | int, ...],
                rules: ComparatorRules) -> tuple[list[Criterion], list[tuple[str, DamagedComparator]]]:
    """The items with their marks (the same list when nothing is damaged) and (text pointer, finding) pairs."""
    out: list[Criterion] = []
    found: list[tuple[str, DamagedComparator]] = []
    changed = False
    for i, item in enumerate(items):
        children, below = _mark_items(item.children, (*base, i, "children"), rules)
        marks = [] if item.heading else find_damaged_comparators(item.text, rules)
        found += [(json_pointer(*base, i, "text"), mark) for mark in marks]
        found += below
        if marks or children is not item.children:
            item = item.model_copy(update={"children": children, "damaged_comparators": marks})
            changed = True
        out.append(item)
    return (out if changed else items), found


def _problem(study: Study, pointer: str, finding: DamagedComparator, rules: ComparatorRules) -> Problem:
    source = _source_of(study, pointer)
    if source is not None and source.line is not None:
        where = Location(file=study.source.file, line=source.line, end_line=source.end_line)
    else:
        where = Location(file=study.source.file, record=study.registry_id() or study.source.record,
                         path=source.pointer if source else None)
    return codes.COMPARATOR_DAMAGED(where, pointer=pointer, phrase=finding.phrase,
                                    how=rules.explanations[finding.damage])


def _source_of(study: Study, pointer: str) -> SourceLocation | None:
    """Where the value at `pointer` came from: its own provenance entry, else its nearest ancestor's."""
    path = pointer
    while path:
        if path in study.provenance:
            return study.provenance[path]
        path = path.rpartition("/")[0]
    return None


def _merged(existing: list[Problem], new: list[Problem]) -> list[Problem]:
    """A page's problems stay in line order (as its reader sorts them); otherwise the new ones come last."""
    keys = [p.location.line or 0 for p in existing]
    if all(p.location.line is not None for p in new) and keys == sorted(keys):
        return sorted([*existing, *new], key=lambda p: p.location.line or 0)
    return [*existing, *new]
