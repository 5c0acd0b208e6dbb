"""Read one scraped registry page into a `Study`: layout, repeats, boilerplate, sections, fields, checks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from converters.loading import DecodedText, SourceDocument, binary_reason, decode_text
from converters.model import SourceInfo, Study, TextFormat
from converters.model.comparators import mark_damaged_comparators
from converters.model.vocabulary import normalise_wording
from converters.problem_codes import core
from converters.problem_codes import page as codes
from converters.problems import Location, Problem
from converters.readers.base import ReaderConfig, ReadOutcome
from converters.readers.registry_page.context import ReadContext
from converters.readers.registry_page.convert import Converter
from converters.readers.registry_page.draft import Draft
from converters.readers.registry_page.duplicates import find_repeats
from converters.readers.registry_page.evidence import page_evidence
from converters.readers.registry_page.labelled import label_value
from converters.readers.registry_page.page import (
    REASON_BOILERPLATE,
    REASON_EMPTY_SECTION,
    REASON_HEADING,
    REASON_MARKUP,
    REASON_NAVIGATION,
    Ledger,
    Line,
    Page,
)
from converters.readers.registry_page.parsers import PARSERS, read_labelled
from converters.readers.registry_page.pipe import cells_of, parse_pipe_page
from converters.readers.registry_page.rules import LayoutRule, LinePattern, PageRules
from converters.readers.registry_page.sections import PageSection, split_sections
from converters.readers.registry_page.statements import overall_status_from_sites, sole_age_statement
from converters.readers.registry_page.textchecks import check_lines
from converters.resources import Resources

FORMAT = "registry-page"
_SNIFF_BYTES = 65536
# The head of a JSON object or array, or of XML: never a page ('[Skip to content](...)', a Markdown link, is).
_STRUCTURED = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:[{<]|\[\s*(?:[-\d{\[\"\]]|$))")
_PROSE_WORDS = 8  # a last line this long that stops without punctuation was cut off

ALL_PARSERS: dict[str, Callable[[ReadContext, PageSection], None]] = {**PARSERS, "pipe_page": parse_pipe_page}
# Parsers whose results others need (arms link to interventions by name): run first.
_FIRST = ("interventions", "intervention_names", "sites")


def layout_scores(lines: list[Line], rules: PageRules) -> dict[str, int]:
    """How many of each layout's signature labels and headings the page has (each counted once)."""
    keys: set[str] = set()
    for line in lines:
        keys.add(line.norm)
        text = line.stripped
        if "|" in text and len(text) <= 2000:
            cells = [c for c in cells_of(text) if c]
            if cells:
                keys.add(normalise_wording(cells[0]))
                keys.add(normalise_wording(" | ".join(cells)))
        if ":" in text[:200]:
            keys.add(normalise_wording(text.split(":", 1)[0]))
    return {layout.id: len(layout.signatures & keys) for layout in rules.layouts}


def detect_layout(lines: list[Line], rules: PageRules) -> tuple[LayoutRule | None, str]:
    """The layout with most signatures (at least its minimum), and a description of the best score."""
    scores = layout_scores(lines, rules)
    best: LayoutRule | None = None
    for layout in rules.layouts:
        score = scores[layout.id]
        if score >= layout.min_score and (best is None or score > scores[best.id]):
            best = layout
    top = max(rules.layouts, key=lambda layout: scores[layout.id])
    return best, f"{top.id} with {scores[top.id]} of its labels"


def read_page(text: str, *, file: str, encoding: str, sha256: str, rules: PageRules, converter: Converter,
              problems: tuple[Problem, ...] = ()) -> Study:
    """The study a page states, with provenance for every value and every unused line listed."""
    page = Page.from_text(text)
    draft = Draft(file)
    draft.problems.extend(problems)
    ledger = Ledger()
    ctx = ReadContext(page, draft, ledger, rules, converter)
    layout, best = detect_layout(page.lines, rules)
    lines = _drop_repeats(ctx, page.lines)
    content, separators = _drop_boilerplate(ctx, lines, layout)
    draft.problems.extend(check_lines((line for line in content if line.no not in separators),
                                      rules.text_checks, file))
    statement_lines = content
    content, consumed = _line_patterns(ctx, layout, content, page)
    if layout is None:
        draft.report(codes.LAYOUT_UNKNOWN(draft.where(), best=best))
        _read_generic(ctx, content)
    else:
        _read_sections(ctx, layout, content, separators, consumed)
    overall_status_from_sites(ctx)
    sole_age_statement(ctx, statement_lines)
    _check_truncation(ctx, page)
    if not draft.data:
        draft.report(codes.NO_STUDY_DATA(draft.where()))
    return _finish(ctx, layout, file, encoding, sha256)


# --- steps ---------------------------------------------------------------------------------------------


def _drop_repeats(ctx: ReadContext, lines: list[Line]) -> list[Line]:
    reasons: dict[int, str] = {}
    for repeat in find_repeats(lines, ctx.rules.duplicate_min_chars, ctx.rules.duplicate_window_chars):
        reason = f"repeats lines {repeat.first_line}-{repeat.first_end_line}"
        how = "same text, re-wrapped" if repeat.rewrapped else "same text"
        if repeat.times > 1:
            how += f", {repeat.times} times"
        ctx.draft.report(codes.DUPLICATE_BLOCK(
            ctx.draft.where((repeat.line, repeat.end_line)), line=repeat.line, end_line=repeat.end_line,
            first_line=repeat.first_line, first_end_line=repeat.first_end_line, how=how,
        ))
        for no in range(repeat.line, repeat.end_line + 1):
            reasons[no] = reason
    kept: list[Line] = []
    for line in lines:
        why = reasons.get(line.no)
        if why is None:
            kept.append(line)
        else:
            ctx.ledger.skip(line.no, why)
    return kept


def _drop_boilerplate(ctx: ReadContext, lines: list[Line], layout: LayoutRule | None
                      ) -> tuple[list[Line], set[int]]:
    boilerplate = layout.boilerplate if layout else ctx.rules.all_boilerplate
    navigation = layout.navigation if layout else ctx.rules.all_navigation
    content: list[Line] = []
    separators: set[int] = set()
    for line in lines:
        if line.norm in boilerplate:
            ctx.ledger.skip(line.no, REASON_BOILERPLATE)
        elif line.norm in navigation:
            ctx.ledger.skip(line.no, REASON_NAVIGATION)
        else:
            if line.stripped in ctx.rules.criteria.separators:
                separators.add(line.no)
            content.append(line)
    return content, separators


def _line_patterns(ctx: ReadContext, layout: LayoutRule | None, content: list[Line], page: Page
                   ) -> tuple[list[Line], dict[int, frozenset[str]]]:
    """Self-describing lines ('18 participants in 1 patient group', 'Ages 3-65 All Genders'), read wherever
    they are: the layout's own patterns first, then those of every layout. Returns the other lines, and the
    targets each read line gave (so a section holding only such a line is not reported empty)."""
    patterns = (*(layout.line_patterns if layout else ()), *ctx.rules.line_patterns)
    if not patterns:
        return content, {}
    first_line = page.lines[0].no if page.lines else 0
    kept: list[Line] = []
    consumed: dict[int, frozenset[str]] = {}
    for line in content:
        pattern = _matching_pattern(patterns, line, first_line)
        if pattern is None:
            kept.append(line)
            continue
        m, rule = pattern
        for group, field_rule in rule.groups.items():
            if m[group] is not None:
                ctx.apply(field_rule, m[group], (line.no, line.no))
        consumed[line.no] = frozenset(field_rule.target for field_rule in rule.groups.values())
    return kept, consumed


def _matching_pattern(patterns: tuple[LinePattern, ...], line: Line, first_line: int
                      ) -> tuple[re.Match[str], LinePattern] | None:
    if len(line.stripped) > 1000:
        return None
    for pattern in patterns:
        if pattern.first_line_only and line.no != first_line:
            continue
        m = pattern.regex.match(line.stripped)
        if m:
            return m, pattern
    return None


def _read_sections(ctx: ReadContext, layout: LayoutRule, content: list[Line], separators: set[int],
                   consumed: dict[int, frozenset[str]]) -> None:
    sections = _drop_repeated_sections(ctx, split_sections(content, layout, separators))
    order = sorted(range(len(sections)), key=lambda i: (sections[i].rule.parser not in _FIRST, i))
    ends = _section_ends(sections)
    for index in order:
        section = sections[index]
        if section.heading is not None and not section.lines:
            if _holds_read_line(section, ends[index], consumed):
                ctx.ledger.skip(section.heading.no, REASON_HEADING)
                continue
            ctx.draft.report(codes.SECTION_EMPTY(ctx.draft.where((section.heading.no, section.heading.no)),
                                                 heading=section.heading.stripped))
            ctx.ledger.skip(section.heading.no, REASON_EMPTY_SECTION)
            continue
        ALL_PARSERS[section.rule.parser](ctx, section)
    covered = ctx.draft.covered_lines()
    for section in sections:
        if section.heading is not None and section.lines and section.heading.no not in covered:
            ctx.ledger.skip(section.heading.no, REASON_HEADING)
    for line in content:
        if line.no in separators:
            ctx.ledger.skip(line.no, REASON_MARKUP)


def _section_ends(sections: list[PageSection]) -> list[int]:
    """The line before the next section's heading (the page's end for the last one), per section."""
    starts = [s.heading.no if s.heading is not None else 0 for s in sections]
    return [next((start - 1 for start in starts[i + 1 :] if start > 0), 10**9) for i in range(len(sections))]


def _holds_read_line(section: PageSection, end: int, consumed: dict[int, frozenset[str]]) -> bool:
    """A heading whose only line was read as a self-describing line stating this section's field
    ('Enrollment' over '18 participants in 1 patient group'): the section is not empty."""
    if section.heading is None:
        return False
    targets = {rule.target for rule in section.rule.matcher.fields}
    return any(section.heading.no < no <= end and targets & found for no, found in consumed.items())


def _drop_repeated_sections(ctx: ReadContext, sections: list[PageSection]) -> list[PageSection]:
    """A whole section the page repeats (same heading, same text) is read once."""
    seen: dict[tuple[str, str], PageSection] = {}
    kept: list[PageSection] = []
    for section in sections:
        key = (section.rule.key, section.content_key())
        first = seen.get(key)
        if section.heading is None or not section.lines or first is None or first.heading is None:
            seen.setdefault(key, section)
            kept.append(section)
            continue
        start, end = section.heading.no, section.lines[-1].no
        first_end = first.lines[-1].no if first.lines else first.heading.no
        ctx.draft.report(codes.DUPLICATE_BLOCK(
            ctx.draft.where((start, end)), line=start, end_line=end, first_line=first.heading.no,
            first_end_line=first_end, how="the whole section repeated",
        ))
        for line in (section.heading, *section.lines):
            ctx.ledger.skip(line.no, f"repeats lines {first.heading.no}-{first_end}")
    return kept


def _read_generic(ctx: ReadContext, content: list[Line]) -> None:
    """Unknown layout: 'Label | value |' and 'Label: value' lines; known labels to fields, others kept."""
    for line in content:
        pair = label_value(line.stripped)
        if pair is None:
            continue
        label, value = pair
        read_labelled(ctx, ctx.rules.generic.label_only(normalise_wording(label)), label, value, line.no)


def _check_truncation(ctx: ReadContext, page: Page) -> None:
    """A page whose last line is prose that stops without punctuation was probably cut off."""
    if not page.lines:
        return
    last = page.lines[-1]
    if last.no in ctx.ledger.reasons and not ctx.ledger.reasons[last.no].startswith("repeats"):
        return
    text = last.stripped
    if len(text.split()) >= _PROSE_WORDS and (text[-1].isalnum() or text[-1] in ",-("):
        ctx.draft.report(codes.TRUNCATED(ctx.draft.where((last.no, last.no)),
                                         reason="its last line stops in the middle of a sentence"))


def _finish(ctx: ReadContext, layout: LayoutRule | None, file: str, encoding: str, sha256: str) -> Study:
    page, draft = ctx.page, ctx.draft
    # a layout written in Markdown: each text the page gave (every field read from it) is Markdown
    formats = {f"/{name}": layout.text_format for name in sorted(draft.data)} \
        if layout is not None and layout.text_format is not TextFormat.PLAIN else {}
    source = SourceInfo(
        file=file, format=FORMAT, layout=layout.id if layout else None, encoding=encoding, sha256=sha256,
        line_count=len(page.raw), content_lines=len(page.lines), text_formats=formats,
    )
    unmapped = ctx.ledger.unmapped_spans(page, draft.covered_lines())
    problems = sorted(draft.problems, key=lambda p: p.location.line or 0)
    study = Study.model_validate({
        **draft.data, "source": source, "provenance": draft.provenance_map(), "unmapped": unmapped,
        "problems": problems,
    })
    return mark_damaged_comparators(study, ctx.rules.comparators)


# --- the reader object ---------------------------------------------------------------------------------


class RegistryPageReader:
    """`READER` of this package: registry pages saved as text, recognised by their layout's labels."""

    name = FORMAT
    description = "Scraped registry / patient-site trial pages saved as text (layouts in mappings/registry_page/)"

    def __init__(self) -> None:
        self._compiled: dict[Path, tuple[PageRules, Converter]] = {}
        self._default: Resources | None = None

    def rules(self, resources: Resources) -> tuple[PageRules, Converter]:
        """The compiled rules for these resources (compiled once per reader and data folder)."""
        key = resources.root.resolve()
        if key not in self._compiled:
            rules = PageRules.load(resources)
            self._compiled[key] = (rules, Converter(rules))
        return self._compiled[key]

    def sniff(self, doc: SourceDocument) -> float:
        """Sure for a page of a known layout; a guess for other text showing evidence of a study (`evidence` in
        the layouts mapping); nothing for text without it, nor for JSON or XML (structured readers' content)."""
        lines = self._sniff_lines(doc)
        if lines is None:
            return 0.0
        rules = self._default_rules()
        layout, _best = detect_layout(lines, rules)
        if layout is not None:
            return 0.9
        return 0.2 if page_evidence(lines, rules).is_study(rules.evidence) else 0.0

    def refusal(self, doc: SourceDocument) -> str | None:
        """Why detection gave this text to no reader: what it lacks of a study page (None: not text, or a page)."""
        lines = self._sniff_lines(doc)
        if lines is None:
            return None
        rules = self._default_rules()
        if detect_layout(lines, rules)[0] is not None:
            return None
        evidence = page_evidence(lines, rules)
        return None if evidence.is_study(rules.evidence) else evidence.shortfall(rules.evidence)

    def _default_rules(self) -> PageRules:
        """Detection has no resources of its own: it uses the shipped mapping files."""
        if self._default is None:
            self._default = Resources()
        return self.rules(self._default)[0]

    def _sniff_lines(self, doc: SourceDocument) -> list[Line] | None:
        """The lines of the document's head when it may be a page: text, not JSON or XML."""
        data = doc.data[:_SNIFF_BYTES]
        if not data.strip() or binary_reason(data):
            return None
        if _STRUCTURED.match(data):
            return None  # JSON or XML: a structured reader takes it, or nobody does
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            if self._default is None:
                self._default = Resources()
            decoded = decode_text(data, doc.name, self._default)
            text = decoded.text if isinstance(decoded, DecodedText) else ""
        else:
            text = data.decode("utf-8", errors="ignore")
        return Page.from_text(text).lines

    def read(self, doc: SourceDocument, config: ReaderConfig) -> Iterator[ReadOutcome]:
        if len(doc.data) > config.max_bytes:
            yield ReadOutcome(None, None, [core.INPUT_TOO_LARGE(Location(file=doc.name), size=len(doc.data),
                                                                limit=config.max_bytes, what="a page")])
            return
        decoded = decode_text(doc.data, doc.name, config.resources)
        if isinstance(decoded, Problem):
            yield ReadOutcome(None, None, [decoded])
            return
        rules, converter = self.rules(config.resources)
        try:
            study = read_page(decoded.text, file=doc.name, encoding=decoded.encoding, sha256=doc.sha256,
                              rules=rules, converter=converter, problems=decoded.problems)
        except Exception as exc:  # a bug in this reader: one clear problem, never a traceback
            yield ReadOutcome(None, None, [core.READER_FAILED(Location(file=doc.name), reader=self.name,
                                                              reason=f"{type(exc).__name__}: {exc}")])
            return
        yield ReadOutcome(None, study)
