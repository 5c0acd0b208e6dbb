"""Trial Inclusion/Exclusion Criteria (TI): one record per criterion, with stable short codes.

Codes follow the source's structure: top-level criteria of a category are numbered in source order across all
its sections (INCL01, INCL02, ...; three digits past 99); a criterion's sub-items extend its code with a
letter (INCL06A, INCL06B) and theirs with a digit (INCL06A1). A code that would pass 8 characters (or a 27th
sub-item) takes the next free number of its category instead. Sub-headings (a cohort, a disease) are not
criteria: the criteria under them carry the heading in IESCAT, nested headings joined. Criterion text over
200 characters is shortened at a word boundary and its full text kept for define.xml (SDTMIG v3.4 TI
assumption 5).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from converters.model import Criterion, Study, json_pointer
from converters.problem_codes import sdtm_writer as codes
from converters.problems import Location, Problem
from converters.targets.sdtm import text as sdtm_text
from converters.targets.sdtm.spec import SdtmSpec
from converters.targets.sdtm.tables import Row

_CODE_CHARACTERS = re.compile(r"[A-Z_][A-Z0-9_]*")  # its length limit is in variables.yaml


@dataclass(frozen=True)
class _Entry:
    category: str
    path: tuple[int, ...]  # top-level number, then sub-item positions
    text: str
    subcategories: tuple[str, ...]
    pointer: str
    damaged: tuple[str, ...] = ()  # phrases whose comparison sign was lost (Criterion.damaged_comparators)


@dataclass(frozen=True)
class TiResult:
    rows: list[Row]
    full_texts: dict[str, str]  # IETESTCD -> full text, for criteria whose IETEST was shortened
    problems: list[Problem]
    damaged: dict[str, tuple[str, ...]] = field(default_factory=dict)  # IETESTCD -> phrases that lost their sign


def _collect(study: Study, categories: set[str]) -> tuple[list[_Entry], int]:
    """Criteria in source order with their structural paths; also the count of uncategorised criteria."""
    entries: list[_Entry] = []
    tops: Counter[str] = Counter()
    children: Counter[tuple[str, tuple[int, ...]]] = Counter()
    skipped = 0

    def visit(category: str, items: list[Criterion], base: tuple[str | int, ...], subcats: tuple[str, ...],
              parent: tuple[int, ...] | None) -> None:
        for i, item in enumerate(items):
            pointer = (*base, i)
            text = sdtm_text.clean(item.text)
            if item.heading:
                heading = (*subcats, text) if text else subcats
                visit(category, item.children, (*pointer, "children"), heading, parent)
                continue
            if not text:
                continue
            if parent is None:
                tops[category] += 1
                path: tuple[int, ...] = (tops[category],)
            else:
                children[(category, parent)] += 1
                path = (*parent, children[(category, parent)])
            entries.append(_Entry(category, path, text, subcats, json_pointer(*pointer, "text"),
                                  tuple(d.phrase for d in item.damaged_comparators)))
            visit(category, item.children, (*pointer, "children"), subcats, path)

    def count(items: list[Criterion]) -> int:
        return sum((0 if item.heading else 1) + count(item.children) for item in items)

    for s, section in enumerate(study.eligibility.criteria):
        if section.category in categories:
            visit(section.category, section.items, ("eligibility", "criteria", s, "items"), (), None)
        else:
            skipped += count(section.items)
    return entries, skipped


def _suffix(path: tuple[int, ...]) -> str | None:
    """Letter for a sub-item, digit for a sub-sub-item; None when the structure is deeper or wider."""
    parts = []
    for depth, position in enumerate(path[1:], start=1):
        if depth == 1 and position <= 26:
            parts.append(chr(ord("A") + position - 1))
        elif depth == 2 and position <= 9:
            parts.append(str(position))
        else:
            return None
    return "".join(parts)


def _assign_codes(entries: list[_Entry], prefixes: dict[str, str], max_length: int) -> list[str]:
    tops = Counter(e.category for e in entries if len(e.path) == 1)
    widths = {cat: max(2, len(str(n))) for cat, n in tops.items()}
    spare = dict(tops)
    out = []
    for e in entries:
        prefix = prefixes[e.category]
        width = widths.get(e.category, 2)
        suffix = _suffix(e.path)
        code = f"{prefix}{e.path[0]:0{width}d}{suffix}" if suffix is not None else ""
        if len(code) > max_length or not _CODE_CHARACTERS.fullmatch(code):
            spare[e.category] = spare.get(e.category, 0) + 1
            code = f"{prefix}{spare[e.category]:0{width}d}"
        out.append(code)
    return out


def build_ti(study: Study, study_id: str, spec: SdtmSpec, file: str) -> TiResult:
    settings = spec.settings
    categories = set(settings.criterion_prefix)
    entries, skipped = _collect(study, categories)
    problems: list[Problem] = []
    if skipped:
        problems.append(codes.SDTM_TI_CATEGORY_UNKNOWN(Location(file=file, path="/eligibility/criteria"),
                                                       count=skipped))
    rows: list[Row] = []
    full_texts: dict[str, str] = {}
    damaged: dict[str, tuple[str, ...]] = {}
    marker = settings.shortened_marker
    ietestcds = _assign_codes(entries, dict(settings.criterion_prefix), spec.max_length("TI", "IETESTCD"))
    for entry, code in zip(entries, ietestcds, strict=True):
        mapped = spec.terminology.map_value("inclusion_category", entry.category)
        assert mapped is not None and mapped.term is not None
        test = sdtm_text.shorten(entry.text, marker)
        if test != entry.text:
            full_texts[code] = entry.text
            problems.append(codes.SDTM_TEXT_SHORTENED(Location(file=file, path=entry.pointer), domain="TI",
                                                      variable="IETEST", key=code, length=len(entry.text),
                                                      marker=marker))
        if entry.damaged:
            damaged[code] = entry.damaged
        subcat = settings.subcategory_separator.join(entry.subcategories) or None
        rows.append({
            "STUDYID": study_id, "DOMAIN": "TI", "IETESTCD": code, "IETEST": test, "IECAT": mapped.term.value,
            "IESCAT": sdtm_text.shorten(subcat, marker) if subcat else None, "TIRL": None, "TIVERS": None,
        })
    return TiResult(rows, full_texts, problems, damaged)
