"""Pages written as pipe tables: 'Label | value |' rows and tables with a '---|---|' line under their header.

Scrapers break long table rows over several lines ("Terminated |" / "NCT03843125 -" / title / "|" /
"Phase 3 | |"), so a row is read until it has as many cell separators as its header; a row cut short by the
next table keeps the cells it has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from converters.model.vocabulary import normalise_wording
from converters.problem_codes import page as codes
from converters.readers.registry_page.context import ReadContext
from converters.readers.registry_page.draft import Span
from converters.readers.registry_page.page import REASON_PLACEHOLDER, REASON_TABLE_HEADER, Line
from converters.readers.registry_page.parsers import (
    Entry,
    parse_fields,
    put_related_phase,
    put_related_status,
    read_labelled,
    set_entry,
    store_entry,
)
from converters.readers.registry_page.rules import TableRule
from converters.readers.registry_page.sections import PageSection

_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_TRIAL = re.compile(r"^(?P<id>\S+)\s*(?:[-–:]\s*(?P<title>.*))?$", re.DOTALL)


@dataclass
class Cell:
    text: str
    first: int
    last: int
    column: str = ""  # the column's header as the page writes it

    @property
    def span(self) -> Span:
        return (self.first, self.last)


@dataclass
class Row:
    cells: list[Cell]
    first: int
    last: int


def cells_of(text: str) -> list[str]:
    """'A | B |' -> ['A', 'B'] (a trailing separator closes the last cell)."""
    parts = [part.strip() for part in text.split("|")]
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def parse_pipe_page(ctx: ReadContext, section: PageSection) -> None:
    lines = section.lines
    first_pipe = next((i for i, line in enumerate(lines) if "|" in line.text), len(lines))
    parse_fields(ctx, PageSection(section.rule, None, lines[:first_pipe]))
    index = first_pipe
    while index < len(lines):
        line = lines[index]
        if _is_header(lines, index):
            index = _table(ctx, section, lines, index)
            continue
        if "|" in line.text:
            _label_row(ctx, section, line)
        index += 1


def _is_header(lines: list[Line], index: int) -> bool:
    return "|" in lines[index].text and index + 1 < len(lines) and bool(_SEPARATOR.match(lines[index + 1].text))


def _label_row(ctx: ReadContext, section: PageSection, line: Line) -> None:
    cells = cells_of(line.text)
    if not cells:
        return
    label, value = cells[0], " | ".join(cells[1:]).strip()
    read_labelled(ctx, section.rule.rows.label_only(normalise_wording(label)), label, value, line.no)


def _table(ctx: ReadContext, section: PageSection, lines: list[Line], index: int) -> int:
    """Read one table from its header line; returns the index after it."""
    header = lines[index]
    headers = cells_of(header.text)
    columns = [normalise_wording(c) for c in headers]
    named = [c for c in columns if c]
    pipes = header.text.count("|")
    rule = next((t for t in section.rule.tables if list(t.columns) == named), None)
    ctx.ledger.skip(header.no, REASON_TABLE_HEADER)
    ctx.ledger.skip(lines[index + 1].no, REASON_TABLE_HEADER)
    index += 2
    rows: list[Row] = []
    current: list[Line] = []
    seen = 0  # cell separators in the row so far
    while index < len(lines) and not _is_header(lines, index):
        current.append(lines[index])
        seen += lines[index].text.count("|")
        index += 1
        if seen >= pipes:
            rows.append(_row(current))
            current, seen = [], 0
    if current:
        rows.append(_row(current))
        if index >= len(lines) and len(rows[-1].cells) < len(named):
            ctx.draft.report(codes.TRUNCATED(
                ctx.draft.where((rows[-1].first, rows[-1].last)),
                reason=f"its last table row has {len(rows[-1].cells)} of {len(named)} cells",
            ))
    if rule is None:
        return index
    for row in rows:
        for cell, column in zip(row.cells, headers, strict=False):
            cell.column = column
        by_role = {rule.cells.get(columns[i], ""): cell for i, cell in enumerate(row.cells) if i < len(columns)}
        _TABLES[rule.target](ctx, rule, row, by_role)
    return index


def _row(lines: list[Line]) -> Row:
    cells: list[Cell] = []
    parts: list[str] = []
    first: int | None = None
    last = lines[0].no
    for line in lines:
        pieces = line.text.split("|")
        for position, piece in enumerate(pieces):
            if piece.strip():
                parts.append(piece.strip())
                first = line.no if first is None else first
                last = line.no
            if position < len(pieces) - 1:  # a separator closes the cell
                cells.append(Cell(" ".join(parts), first or line.no, last if first else line.no))
                parts, first = [], None
    if parts:
        cells.append(Cell(" ".join(parts), first or lines[-1].no, last))
    return Row(cells, lines[0].no, lines[-1].no)


def _skip_row(ctx: ReadContext, row: Row, reason: str) -> None:
    for line in range(row.first, row.last + 1):
        ctx.ledger.skip(line, reason)


def _value(ctx: ReadContext, cell: Cell | None) -> str | None:
    if cell is None or not cell.text or ctx.converter.is_placeholder(cell.text):
        return None
    return cell.text


def _sites(ctx: ReadContext, rule: TableRule, row: Row, cells: dict[str, Cell]) -> None:
    entry = Entry(row.first, row.last)
    for role in ("facility", "city", "state", "country"):
        text = _value(ctx, cells.get(role))
        if text is not None:
            entry.put(role, text, cells[role].span)
    if entry.values:
        store_entry(ctx, "sites", entry)
    else:
        _skip_row(ctx, row, REASON_PLACEHOLDER)


def _sponsors(ctx: ReadContext, rule: TableRule, row: Row, cells: dict[str, Cell]) -> None:
    used = False
    lead = _value(ctx, cells.get("lead"))
    if lead is not None:
        entry = Entry(cells["lead"].first, cells["lead"].last)
        entry.put("name", lead, cells["lead"].span)
        if set_entry(ctx, "sponsors.lead", entry):
            used = True
        else:
            ctx.draft.report(codes.FIELD_REPEATED(ctx.draft.where(entry_span(entry)), field="lead sponsor",
                                                  value=lead, first_line=_first_line(ctx, "/sponsors/lead")))
    collaborator = _value(ctx, cells.get("collaborator"))
    if collaborator is not None:
        entry = Entry(cells["collaborator"].first, cells["collaborator"].last)
        entry.put("name", collaborator, cells["collaborator"].span)
        store_entry(ctx, "sponsors.collaborators", entry)
        used = True
    if not used:
        _skip_row(ctx, row, REASON_PLACEHOLDER)


def _outcomes(ctx: ReadContext, rule: TableRule, row: Row, cells: dict[str, Cell]) -> None:
    measure = _value(ctx, cells.get("measure"))
    kind_text = _value(ctx, cells.get("kind"))
    kind = ctx.converter.lookup("OutcomeKind", kind_text) if kind_text else None
    if measure is None or kind is None:
        if kind_text and kind is None:
            ctx.draft.report(codes.VALUE_UNRECOGNISED(ctx.draft.where(cells["kind"].span), value=kind_text,
                                                      label="outcome type", what="a known outcome type"))
        return
    entry = Entry(row.first, row.last)
    entry.put("kind", kind, cells["kind"].span)
    entry.put("measure", measure, cells["measure"].span)
    for role in ("description", "time_frame"):
        text = _value(ctx, cells.get(role))
        if text is not None:
            entry.put(role, text, cells[role].span)
    store_entry(ctx, "outcomes", entry)
    safety = _value(ctx, cells.get("safety_issue"))
    if safety is not None:
        ctx.labelled(cells["safety_issue"].column, safety, cells["safety_issue"].span)


def _related(ctx: ReadContext, rule: TableRule, row: Row, cells: dict[str, Cell]) -> None:
    trial = cells.get("trial")
    m = _TRIAL.match(trial.text) if trial is not None else None
    if trial is None or m is None or ctx.rules.identifiers.classify(m["id"]) is None:
        return
    entry = Entry(row.first, row.last)
    entry.put("identifier", m["id"], (trial.first, trial.first))
    entry.put("relation", rule.relation, (trial.first, trial.first))
    if m["title"] and m["title"].strip():
        entry.put("title", m["title"].strip(), trial.span)
    status_text = _value(ctx, cells.get("status"))
    if status_text is not None:
        put_related_status(ctx, entry, status_text, cells["status"].span)
    phase_cell = cells.get("phase")
    if phase_cell is not None and phase_cell.text:
        put_related_phase(ctx, entry, phase_cell.text, phase_cell.span)
    store_entry(ctx, "related_studies", entry)


_TABLES = {"sites": _sites, "sponsors": _sponsors, "outcomes": _outcomes, "related_studies": _related}


def entry_span(entry: Entry) -> Span:
    return (entry.first, entry.last)


def _first_line(ctx: ReadContext, pointer: str) -> int:
    return ctx.draft.provenance.get(pointer, (0, 0))[0]
