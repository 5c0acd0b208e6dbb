"""Eligibility criteria of a scraped page as a tree: sections, cohort headings, nested numbered lists.

Scraped criteria lose their layout: line breaks vanish (a whole list on one line, "1. ...; 2. ..."), list
markers are stripped or kept at random, cohort headings survive only as short lines or as numbers ("1.2.").
The tree is rebuilt from the *numbering*, which survives best, with rules that each need evidence:

- a marker inside a line splits it only when its number is the one a list in progress expects next (or,
  for "1", when it opens a sub-list after a colon or before its own "2"), and only after punctuation (after
  a space for "(1)" and "1.2." markers); so "≥1.5×ULN", "2019)" or "grade 3)" stay text;
- "1" after an item ending with ":" (or after a `<!-- -->` separator) opens that item's sub-list; a
  number that the parent list expects closes the sub-list;
- "1" anywhere else restarts the numbering: the page lost a cohort heading, so the new list becomes its own
  group (a heading item with empty text, reported);
- a short title-like line (no digits, no final punctuation) is a cohort heading when a list restarting at
  1 follows it or when the section already has headed cohorts; text before "1.1." on its line is the
  heading of cohort 1; a multi-level number ("1.2.", "3.2.SSc-PAH") with title-like text is a sub-heading;
- a lowercase line after an item that does not end a sentence continues that item;
- an item ending with ":" is the parent of what follows it: a marked list (its numbering shows where it
  ends), or unmarked lines: the next line, and lines after it that go on in lowercase (nothing on a page
  shows whether a later capitalised line is one more child or the next criterion, so it is the next one);
- any number marker right after ";" starts an item ("ECOG 0-2 points; 6) The estimated survival ..."), and
  lettered and roman lists ("(a) ... (b)", "(i) ... (ii)") follow the same rules as numbered ones.

Where an item's text shows signs of several criteria run together but no marker that can be trusted (a ";"
before a capitalised part, a clause starting with a capital after no punctuation, a marker that continues
no list), it is kept whole and reported as `criteria-run-on`. The markers and the signs are data
(mappings/registry_page/criteria-boundaries.yaml, compiled in `boundaries.py`).

Each item keeps its exact source text (marker removed, no unescaping, nothing reworded) and its marker as
written; lines and markers are never dropped: anything a rule cannot place stays an item of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from converters.model import json_pointer
from converters.model.vocabulary import normalise_wording
from converters.problem_codes import page as codes
from converters.readers.registry_page.boundaries import CriteriaBoundaries, Marker, Reading
from converters.readers.registry_page.draft import Draft, Span
from converters.readers.registry_page.rules import CriteriaRules

_TERMINAL = ".;:,!?"
_ITEM_END = ".;:!?"
_CAPITAL_NEXT = re.compile(r"\s*[A-Z]")
MAX_DEPTH = 8  # nesting beyond this is kept as text: pages never nest deeper, hostile input might


@dataclass(frozen=True)
class Piece:
    """Criteria text from one line (or the part of a line after an inline heading)."""

    line: int
    text: str
    at_line_start: bool = True


@dataclass
class Node:
    text: str
    marker: str | None
    heading: bool
    first: int
    last: int
    marker_line: int | None = None
    children: list[Node] = field(default_factory=list)
    number: tuple[int, ...] | None = None  # group number (cohorts) or dotted number
    provisional: bool = False  # a dotted heading whose text is not known yet
    unmarked_line_start: bool = False
    more: list[str] = field(default_factory=list)  # continuation lines, joined with line breaks at the end
    text_line: int = 0  # the line the text starts on (a lone marker may stand on an earlier line)
    stray_markers: int = 0  # markers in its text that continue no list: a sign of criteria run together

    def full_text(self) -> str:
        return "\n".join([self.text, *self.more]) if self.more else self.text

    def ends_with(self, chars: str) -> bool:
        last = (self.more[-1] if self.more else self.text).rstrip()
        return bool(last) and last[-1] in chars


@dataclass
class Frame:
    items: list[Node]
    owner: Node | None
    kind: str  # "root", "group", "sublist" (a marked list under an item), "children" (unmarked, after ":")
    number: tuple[int, ...] | None = None
    style: str | None = None  # the list's marker kind: a `Reading.key` ("dot", "paren-latin", ...)
    last: int = 0
    bullet: str | None = None  # the bullet of a bulleted sub-list

    def count(self) -> int:
        return sum(1 for item in self.items if not item.heading)


@dataclass
class Section:
    category: str
    heading: str | None
    heading_span: Span | None
    pieces: list[Piece | None] = field(default_factory=list)  # None marks a list separator
    items: list[Node] = field(default_factory=list)


# --- splitting the text into category sections -------------------------------------------------------


def split_sections(lines: list[tuple[int, str, bool]], rules: CriteriaRules, category: str | None,
                   heading: tuple[str, Span] | None) -> list[Section]:
    """Group criteria lines under inclusion/exclusion headings (whole-line or inside a line).

    `lines` are (line number, text, is_separator). `category`/`heading` come from the page section when the
    layout gives one section per category.
    """
    sections: list[Section] = []
    if category is not None:
        sections.append(Section(category, heading[0] if heading else None, heading[1] if heading else None))

    def current() -> Section:
        if not sections:
            sections.append(Section("unspecified", None, None))
        return sections[-1]

    for no, text, separator in lines:
        if separator:
            current().pieces.append(None)
            continue
        stripped = text.strip()
        m = rules.heading_line.match(stripped)
        if m and category is None:
            rest = (m["rest"] or "").strip()
            cat = rules.headings.get(normalise_wording(m["label"]), "unspecified")
            if rest and rules.boundaries.leading(rest) is not None:
                head = stripped[: len(stripped) - len(rest)].rstrip()
                sections.append(Section(cat, head, (no, no)))
                _split_inline_headings(no, rest, rules, category, sections, current)
            else:
                sections.append(Section(cat, stripped, (no, no)))
            continue
        _split_inline_headings(no, stripped, rules, category, sections, current)
    return sections


def _split_inline_headings(no: int, text: str, rules: CriteriaRules, category: str | None,
                           sections: list[Section], current: Any) -> None:
    pos = 0
    at_start = True
    if category is None:
        for m in rules.inline_heading.finditer(text):
            before = text[pos : m.start()].strip()
            if before:
                current().pieces.append(Piece(no, before, at_start))
            cat = rules.headings.get(normalise_wording(m["label"]), "unspecified")
            sections.append(Section(cat, text[m.start("label") : m.end()].strip(), (no, no)))
            pos = m.end()
            at_start = True
    rest = text[pos:].strip()
    if rest:
        current().pieces.append(Piece(no, rest, at_start))


# --- markers -----------------------------------------------------------------------------------------


def _char_before(text: str, position: int, start: int) -> str:
    """The last non-space character of text[start:position] ('' if none), without copying the text."""
    i = position - 1
    while i >= start and text[i].isspace():
        i -= 1
    return text[i] if i >= start else ""


def title_like(text: str) -> bool:
    """A short heading-like line: capitalised, no digits, no final punctuation, no 'Label:' colon."""
    t = text.strip()
    if not 3 <= len(t) <= 100 or len(t.split()) > 12:
        return False
    if t[-1] in _TERMINAL or not t[0].isupper():
        return False
    if any(ch.isdigit() for ch in t):
        return False
    return ":" not in _outside_parentheses(t)


def _dotted_title_like(text: str) -> bool:
    t = text.strip()
    return 0 < len(t) <= 120 and len(t.split()) <= 16 and t[-1] not in _TERMINAL


def _outside_parentheses(text: str) -> str:
    depth, out = 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _next_dotted(last: tuple[int, ...] | None) -> set[tuple[int, ...]]:
    if last is None:
        return set()
    expected = {(*last, 1)}
    for i in range(len(last)):
        expected.add((*last[:i], last[i] + 1, *([1] * (len(last) - i - 1))))
    return expected


# --- building the tree ---------------------------------------------------------------------------------


class TreeBuilder:
    """Builds one section's items from its pieces (see the module rules)."""

    def __init__(self, draft: Draft, boundaries: CriteriaBoundaries) -> None:
        self.draft = draft
        self.bounds = boundaries
        self.root = Frame([], None, "root")
        self.frames: list[Frame] = [self.root]
        self.last_dotted: tuple[int, ...] | None = None
        self.groups = 0
        self.headed_groups = 0
        self.pending_marker: tuple[str, int] | None = None
        self.after_separator = False
        self.current: Node | None = None  # the item whose text is being read

    # -- public --

    def build(self, pieces: list[Piece | None]) -> list[Node]:
        for index, piece in enumerate(pieces):
            if piece is None:
                self.after_separator = True
                continue
            lookahead = next((p for p in pieces[index + 1 :] if p is not None), None)
            self._feed(piece, lookahead)
        self._flush_pending()  # a marker with no text after it: keep it as an item
        self._close_provisional()
        return self.root.items

    # -- one piece --

    def _feed(self, piece: Piece, lookahead: Piece | None) -> None:
        text = piece.text
        offset = len(text) - len(text.lstrip())
        markers = self.bounds.markers(text)
        seg_start = offset
        index = 0
        bullet = self.bounds.bullet.match(text[offset:]) if piece.at_line_start else None
        two_after = self._second_item_positions(text, markers)
        if markers and markers[0].start == offset:
            lead = markers[0]
            index = 1
            if text[lead.end :].isspace() or lead.end == len(text):  # a lone marker: its text is on the next line
                self._flush_pending()
                self.pending_marker = (lead.text, piece.line)
                return
            self._place_marked(lead, self._reading(lead), piece, at_line_start=piece.at_line_start)
            seg_start = lead.end
        elif bullet:
            marker = bullet["bullet"]
            rest = text[offset + bullet.end() :]
            if not rest.strip():
                self._flush_pending()
                self.pending_marker = (marker, piece.line)
                return
            self._place_bullet(marker, piece)
            seg_start = offset + bullet.end()
        else:
            whole = text.strip()
            if self._continues_current(whole, piece):
                return
            self._place_unmarked(whole, piece, lookahead, has_markers=bool(markers))
        for marker in markers[index:]:
            if marker.start < seg_start or not self.bounds.boundary_ok(text, marker):
                continue
            reading = self._reading(marker)
            if not self._accept_inline(marker, reading, _char_before(text, marker.start, seg_start), two_after):
                if self.current is not None and marker.arabic and _CAPITAL_NEXT.match(text, marker.end):
                    self.current.stray_markers += 1  # "..., 6) The estimated ...": a lost item boundary?
                continue
            stem = text[seg_start : marker.start].strip()
            self._finish(stem, piece.line)
            self._place_marked(marker, reading, piece, at_line_start=False, stem=stem)
            seg_start = marker.end
        self._finish(text[seg_start:].strip(), piece.line)

    def _finish(self, text: str, line: int) -> None:
        """Give the item being read its text (the segment up to the next accepted marker)."""
        node = self.current
        if node is None or node.text:
            return
        node.text = text
        node.text_line = line
        node.last = max(node.last, line)
        if node.provisional:
            node.provisional = False
            if not _dotted_title_like(text):
                self._demote(node)

    def _continues_current(self, whole: str, piece: Piece) -> bool:
        node = self.current
        if node is None or node.heading or not node.text or self.pending_marker is not None:
            return False
        if not whole[:1].islower() or node.ends_with(_ITEM_END):
            return False
        node.more.append(whole)
        node.last = piece.line
        return True

    # -- reading markers --

    def _reading(self, marker: Marker) -> Reading:
        """How to read a marker that has several readings ("(i)"): as the one a list expects, else as a
        first item, else as a letter."""
        if len(marker.readings) == 1:
            return marker.readings[0]
        for reading in marker.readings:
            if self._expecting(reading.number[0], reading.key) is not None:
                return reading
        return next((r for r in marker.readings if r.number == (1,)), marker.readings[0])

    def _second_item_positions(self, text: str, markers: list[Marker]) -> dict[str, int]:
        """Per list kind, where the last second item ("2", "b", "ii") of the piece starts: evidence that a
        first item before it opens a list."""
        found: dict[str, int] = {}
        for marker in markers:
            for reading in marker.readings:
                if reading.number == (2,) and self.bounds.boundary_ok(text, marker):
                    found[reading.key] = marker.start
        return found

    # -- placing items --

    def _new_node(self, marker: str | None, piece: Piece, heading: bool = False) -> Node:
        marker_line = piece.line
        if self.pending_marker is not None and marker is None:
            marker, marker_line = self.pending_marker
            self.pending_marker = None
        self._flush_pending()  # a lone marker before a marked line marks nothing: an empty item of its own
        start = min(marker_line, piece.line)
        node = Node("", marker, heading, start, piece.line, marker_line if marker else None, text_line=piece.line)
        self.after_separator = False
        return node

    def _flush_pending(self) -> None:
        """Keep a lone marker that no text followed as an empty item where the list is, so nothing is lost."""
        if self.pending_marker is not None:
            marker, line = self.pending_marker
            self.pending_marker = None
            self._append(self.frames[-1], Node("", marker, False, line, line, line, text_line=line))

    def _append(self, frame: Frame, node: Node) -> None:
        frame.items.append(node)
        self.current = node

    def _pop_to(self, frame: Frame) -> None:
        while self.frames[-1] is not frame:
            self.frames.pop()

    def _frame_for_unmarked(self) -> Frame:
        """Unmarked lines and bullets belong to the nearest cohort group (or the section), not a sub-list."""
        while self.frames[-1].kind in ("sublist", "children"):
            self.frames.pop()
        return self.frames[-1]

    def _introducing(self, piece: Piece) -> Node | None:
        """The item on an earlier line that ends with ':' and so introduces the line being read."""
        node = self.current
        if node is None or node.heading or not piece.at_line_start or node.last >= piece.line:
            return None
        if not node.ends_with(":") or len(self.frames) >= MAX_DEPTH:
            return None
        return node

    def _frame_for_line(self, whole: str, piece: Piece) -> Frame:
        """Where an unmarked line goes: under the item that introduces it, into the unmarked list under a
        colon line when it goes on in lowercase, else into the nearest cohort group (or the section)."""
        parent = self._introducing(piece)
        if parent is not None:
            frame = Frame(parent.children, parent, "children")
            self.frames.append(frame)
            return frame
        while self.frames[-1].kind == "sublist":
            self.frames.pop()
        if self.frames[-1].kind == "children" and whole[:1].islower():
            return self.frames[-1]
        return self._frame_for_unmarked()

    def _place_unmarked(self, whole: str, piece: Piece, lookahead: Piece | None, has_markers: bool) -> None:
        """An unmarked line: a cohort heading (title-like, no marker in it, and a list after it or headed
        cohorts before it), or an item."""
        if title_like(whole) and not has_markers and self.pending_marker is None and (
            self.headed_groups > 0 or (lookahead is not None and self._opens_list(lookahead))
        ):
            node = self._new_node(None, piece, heading=True)
            node.text = whole
            self._open_group(node)
            self.headed_groups += 1
            self.current = None
            return
        frame = self._frame_for_line(whole, piece)
        node = self._new_node(None, piece)
        node.unmarked_line_start = piece.at_line_start
        self._append(frame, node)

    def _place_bullet(self, marker: str, piece: Piece) -> None:
        """A bullet line: the first item of a bulleted list under an item ending with ':', the next item of
        a bulleted list in progress, or an item of the nearest group."""
        node = self._new_node(marker, piece)
        parent = self._introducing(piece)
        if parent is not None:
            frame = Frame(parent.children, parent, "sublist", bullet=marker)
            self.frames.append(frame)
        else:
            listed = next((f for f in reversed(self.frames) if f.bullet == marker), None)
            if listed is not None:
                self._pop_to(listed)
                frame = listed
            else:
                frame = self._frame_for_unmarked()
        self._append(frame, node)

    def _open_group(self, node: Node, number: tuple[int, ...] | None = None) -> Frame:
        """A level-1 cohort group under the section."""
        self._pop_to(self.root)
        self.groups += 1
        node.heading = True
        node.number = number or (self.groups,)
        self.root.items.append(node)
        frame = Frame(node.children, node, "group", node.number)
        self.frames.append(frame)
        return frame

    def _expecting(self, number: int, style: str) -> int | None:
        """Index of the deepest open list that expects this number next. A list of unmarked items (not the
        unmarked children of a colon line) takes a number that counts its items ("...; 3. Next")."""
        for index in range(len(self.frames) - 1, -1, -1):
            frame = self.frames[index]
            if frame.style == style and frame.last + 1 == number:
                return index
            if frame.style is None and frame.kind != "children" and index == len(self.frames) - 1 \
                    and frame.count() >= 1 and frame.count() + 1 == number:
                return index
        return None

    def _accept_inline(self, marker: Marker, reading: Reading, before: str, two_after: dict[str, int]) -> bool:
        """Whether an inline marker starts a new item; `before` is the last character before it."""
        if reading.key == "dotted":
            return reading.number in _next_dotted(self.last_dotted) or (
                self.last_dotted is None and len(reading.number) == 2 and reading.number[-1] == 1
            )
        number = reading.number[0]
        if self._expecting(number, reading.key) is not None:
            return True
        if marker.arabic and before != "" and before in self.bounds.split_after:
            return True
        if number != 1:
            return False
        if len(self.frames) >= MAX_DEPTH:
            return False
        return before == ":" or two_after.get(reading.key, -1) > marker.start

    def _place_marked(self, marker: Marker, reading: Reading, piece: Piece, at_line_start: bool,
                      stem: str = "") -> None:
        if reading.key == "dotted":
            self._place_dotted(marker, reading, piece, stem)
            return
        number, style = reading.number[0], reading.key
        node = self._new_node(marker.text, piece)
        found = self._expecting(number, style)
        if found is not None:
            frame = self.frames[found]
            self._pop_to(frame)
            self._numbered(frame, node, number, style)
            return
        deepest = self.frames[-1]
        previous = self.current if self.current is not None and not self.current.heading else None
        if number == 1:
            opens_sublist = (not at_line_start) or self.after_separator or (
                previous is not None and previous.ends_with(":")
            )
            if opens_sublist and previous is not None and len(self.frames) < MAX_DEPTH:
                frame = Frame(previous.children, previous, "sublist")
                self.frames.append(frame)
                self._numbered(frame, node, number, style)
                return
            if not deepest.items or (deepest.kind == "group" and deepest.count() == 0):
                self._numbered(deepest, node, number, style)
                return
            group = Node("", None, True, piece.line, piece.line, text_line=piece.line)
            frame = self._open_group(group)
            self.draft.report(codes.UNLABELLED_GROUP(self.draft.where((piece.line, piece.line))))
            self._numbered(frame, node, number, style)
            return
        listed = [f for f in self.frames if f.kind != "children"]
        target = next((f for f in reversed(listed) if f.style == style), listed[-1])
        if target.style == style:
            self._gap(str(target.last), number, piece)
        elif not target.items:
            self._gap("the start", number, piece)
        self._pop_to(target)
        self._numbered(target, node, number, style)

    def _numbered(self, frame: Frame, node: Node, number: int, style: str) -> None:
        node.number = (number,)
        if frame.style is None or frame.style == style:
            frame.style = style
            frame.last = number
        self._append(frame, node)

    def _gap(self, previous: str, found: int, piece: Piece) -> None:
        self.draft.report(codes.NUMBERING_GAP(self.draft.where((piece.line, piece.line)), previous=previous,
                                              found=found))

    def _place_dotted(self, marker: Marker, reading: Reading, piece: Piece, stem: str) -> None:
        number = reading.number
        self.last_dotted = number
        node = self._new_node(marker.text, piece, heading=True)
        node.number = number
        node.provisional = True
        parent_number = number[:-1]
        previous = self.current
        promote = (
            previous is not None and previous.unmarked_line_start and not previous.heading
            and previous.first == piece.line and number[-1] == 1 and len(number) == 2 and title_like(stem)
        )
        if promote and previous is not None:
            self._remove(previous)
            previous.text = stem
            self.headed_groups += 1
            parent = self._open_group(previous, parent_number)
        else:
            parent = next((f for f in reversed(self.frames) if f.kind == "group" and f.number == parent_number),
                          self.root)
        self._pop_to(parent)
        parent.items.append(node)
        self.frames.append(Frame(node.children, node, "group", number))
        self.current = node

    def _remove(self, node: Node) -> None:
        for frame in self.frames:
            if frame.items and frame.items[-1] is node:
                frame.items.pop()
                return

    def _demote(self, node: Node) -> None:
        """A numbered line that is not a heading after all: an item, and its group closes."""
        node.heading = False
        if self.frames[-1].owner is node and not node.children:
            self.frames.pop()

    def _close_provisional(self) -> None:
        if self.current is not None and self.current.provisional:
            self._finish("", self.current.last)

    def _opens_list(self, piece: Piece) -> bool:
        """Whether a piece starts a list at 1 ("1.", "1)", "(1)", "(a)", "1.1.") -- evidence for a heading above
        it."""
        marker = self.bounds.leading(piece.text.lstrip())
        return marker is not None and any(reading.number[-1] == 1 for reading in marker.readings)


# --- output --------------------------------------------------------------------------------------------


def build_sections(sections: list[Section], draft: Draft, boundaries: CriteriaBoundaries) -> list[Section]:
    """Build each section's tree and report its run-on criteria; empty sections (a heading with nothing
    under it) are dropped."""
    built = []
    for section in sections:
        section.items = TreeBuilder(draft, boundaries).build(section.pieces)
        if section.items:
            _report_run_ons(draft, boundaries, section.items)
            built.append(section)
    return built


def _report_run_ons(draft: Draft, boundaries: CriteriaBoundaries, nodes: list[Node]) -> None:
    """A criterion whose text shows signs of several criteria that no trusted marker separates is kept
    whole and reported at its lines."""
    explanations = {signal.id: signal.explanation for signal in boundaries.signals}
    for node in nodes:
        text = node.full_text()
        if not node.heading and text:
            numbered = node.marker is not None and not boundaries.is_bullet(node.marker)
            signs = [explanations[s] for s in boundaries.run_on_signals(text, numbered)]
            if node.stray_markers:
                signs.append("a list marker that continues no list")
            if signs:
                snippet = text if len(text) <= 80 else text[:77] + "..."
                draft.report(codes.CRITERIA_RUN_ON(draft.where((node.text_line or node.first, node.last)),
                                                   signs="; ".join(signs), snippet=snippet))
        _report_run_ons(draft, boundaries, node.children)


def emit(draft: Draft, sections: list[Section]) -> None:
    """Append the sections to the study's criteria, with provenance for every heading, text and marker."""
    for section in sections:
        value: dict[str, Any] = {"category": section.category}
        if section.heading is not None:
            value["heading"] = section.heading
        value["items"] = [_node_value(node) for node in section.items]
        items = draft.container(["eligibility"]).setdefault("criteria", [])
        items.append(value)
        base = json_pointer("eligibility", "criteria", len(items) - 1)
        if section.heading is not None and section.heading_span is not None:
            draft.note(f"{base}/heading", section.heading_span)
        _record_nodes(draft, f"{base}/items", section.items)


def _node_value(node: Node) -> dict[str, Any]:
    value: dict[str, Any] = {"text": node.full_text()}
    if node.marker is not None:
        value["marker"] = node.marker
    if node.heading:
        value["heading"] = True
    if node.children:
        value["children"] = [_node_value(child) for child in node.children]
    return value


def _record_nodes(draft: Draft, base: str, nodes: list[Node]) -> None:
    """Provenance: a text from the line it starts on to its last line; a marker at its own line."""
    for index, node in enumerate(nodes):
        pointer = f"{base}/{index}"
        if node.text:
            draft.note(f"{pointer}/text", (node.text_line or node.first, node.last))
        if node.marker is not None:
            line = node.marker_line or node.first
            draft.note(f"{pointer}/marker", (line, line))
        _record_nodes(draft, f"{pointer}/children", node.children)
