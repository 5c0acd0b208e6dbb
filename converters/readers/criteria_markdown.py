"""Read the structure of eligibility-criteria text: sections, sub-headings and nested list items.

ClinicalTrials.gov API v2 gives the criteria as one CommonMark block ("Inclusion Criteria:" then `*` or `1.`
lists, nested by indentation); the legacy XML gives the same content as indented plain text ("-  " items,
wrapped lines indented under their item). One line-based reader handles both, because both put an item's
marker at the start of a line and nest by indentation.

What it keeps: every item's *exact* source text (a slice of the input, marker removed), its marker as
written, and its place in the tree. What it never does: reword, unescape markdown, or drop text. A line it
cannot place becomes an item of its own, so the tree always holds all the text.

Rules, in order:
- a line that is only "Inclusion Criteria" / "Exclusion Criteria" (optionally "Key ...", a colon, markdown
  emphasis or `#`) starts a section; text before any such line goes to an `unspecified` section;
- a line starting with a list marker (`*`, `-`, `+`, `•`, `1.`, `1)`, `1.1.`, `a.`, `(a)`) starts an item; it
  is a child of the nearest open item whose marker is less indented;
- a non-marker line right after an item line (or indented at least as far as the item's text after a blank
  line) continues that item; otherwise it is a paragraph;
- a paragraph that ends with ":" or starts "Inclusion/Exclusion criteria ..." -- or is followed directly by
  a list and does not end like a sentence -- is a sub-heading (`heading=True`): the items after it, up to
  the next sub-heading or section, are its children (cohort or disease groups).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from converters.model import CriteriaSection, Criterion

Category = Literal["inclusion", "exclusion", "unspecified"]

_SECTION = re.compile(
    r"^(?:#{1,6}\s*)?(?:[*_]{1,3})?\s*(?:(?:key|main|major|general)\s+)?(inclusion|exclusion)"
    r"(?:\s+criteria)?\s*:?\s*(?:[*_]{1,3})?\s*:?\s*$",
    re.IGNORECASE,
)
_MARKER = re.compile(
    r"^(?P<indent>[ \t]*)(?P<marker>[-*+•]|\d{1,3}(?:\.\d{1,3})*[.)]|\d{1,3}\.\d{1,3}(?=\s+[A-Z])|"
    r"[a-zA-Z][.)]|\([a-zA-Z0-9]{1,4}\))(?P<gap>[ \t]+)(?=\S)"
)
_SUBSECTION = re.compile(r"^[*_]*(inclusion|exclusion) criteria\b", re.IGNORECASE)  # "Inclusion criteria for R2"
_ATX = re.compile(r"^[ \t]*#{1,6}[ \t]+(?=\S)")
_SENTENCE_END = (".", ";", "!", "?")


@dataclass
class _Block:
    """A run of source lines: one list item (its own lines, not its children) or one paragraph."""

    kind: Literal["item", "paragraph", "section"]
    indent: int  # column of the marker (items) or of the first character (paragraphs)
    content_indent: int  # column where the item's text starts
    start: int  # offset in the text where the kept text starts
    end: int  # offset where it ends (exclusive, trailing whitespace excluded)
    marker: str | None = None
    category: Category = "unspecified"


@dataclass
class _Open:
    block: _Block
    node: Criterion
    children: list[Criterion] = field(default_factory=list)


def _width(text: str) -> int:
    """Indentation width, a tab counting as four columns (CommonMark's tab stop)."""
    return len(text.expandtabs(4))


def _blocks(text: str) -> list[_Block]:
    """Split the text into section lines, list items and paragraphs (see the module rules)."""
    blocks: list[_Block] = []
    offset = 0
    previous_blank = True
    for raw_line in text.splitlines(keepends=True):
        line = raw_line.rstrip("\r\n")
        line_start = offset
        offset += len(raw_line)
        stripped = line.strip()
        if not stripped:
            previous_blank = True
            continue
        line_end = line_start + len(line.rstrip())
        first = line_start + (len(line) - len(line.lstrip()))
        indent = _width(line[: len(line) - len(line.lstrip())])
        section = _SECTION.match(stripped)
        marker = _MARKER.match(line)
        last = blocks[-1] if blocks else None
        if section:
            blocks.append(_Block("section", indent, indent, first, line_end,
                                 category=section.group(1).lower())  # type: ignore[arg-type]
                          )
        elif marker:
            content_col = _width(marker.group("indent") + marker.group("marker") + marker.group("gap"))
            blocks.append(_Block("item", _width(marker.group("indent")), content_col,
                                 line_start + marker.end(), line_end, marker=marker.group("marker")))
        elif last is not None and last.kind != "section" and (
            not previous_blank or (last.kind == "item" and indent >= last.content_indent)
        ):
            last.end = line_end  # continuation of the item or paragraph above
        else:
            heading = _ATX.match(line)
            start = line_start + heading.end() if heading else first
            blocks.append(_Block("paragraph", indent, indent, start, line_end))
        previous_blank = False
    return blocks


def _is_heading(blocks: list[_Block], index: int, text: str) -> bool:
    """A paragraph is a sub-heading if it ends with ':' or directly introduces a list (see module rules)."""
    own = text[blocks[index].start : blocks[index].end].rstrip("*_ ")
    if own.endswith(":") or _SUBSECTION.match(own):
        return True
    following = blocks[index + 1] if index + 1 < len(blocks) else None
    return following is not None and following.kind == "item" and not own.endswith(_SENTENCE_END)


def parse_criteria(text: str) -> list[CriteriaSection]:
    """The criteria text as sections of (nested) items; each item's `text` is an exact slice of `text`."""
    blocks = _blocks(text)
    sections: list[tuple[Category, str | None, list[Criterion]]] = []
    stack: list[_Open] = []
    heading: _Open | None = None

    def close_items() -> None:
        while stack:
            _close(stack.pop())

    def close_heading() -> None:
        nonlocal heading
        close_items()
        if heading is not None:
            _close(heading)
            heading = None

    def container() -> list[Criterion]:
        if not sections:
            sections.append(("unspecified", None, []))
        return heading.children if heading is not None else sections[-1][2]

    for index, block in enumerate(blocks):
        own_text = text[block.start : block.end]
        if block.kind == "section":
            close_heading()
            sections.append((block.category, own_text, []))
            continue
        if block.kind == "paragraph":
            close_items()
            if _is_heading(blocks, index, text):
                close_heading()
                node = Criterion(text=own_text, heading=True)
                container().append(node)
                heading = _Open(block, node)
            else:
                container().append(Criterion(text=own_text))
            continue
        while stack and stack[-1].block.indent >= block.indent:
            _close(stack.pop())
        node = Criterion(text=own_text, marker=block.marker)
        (stack[-1].children if stack else container()).append(node)
        stack.append(_Open(block, node))
    close_heading()
    return [CriteriaSection(category=cat, heading=head, items=items) for cat, head, items in sections]


def _close(opened: _Open) -> None:
    """Attach collected children to the node (models are built bottom-up, then left alone)."""
    if opened.children:
        opened.node.children = opened.children


def iter_items(items: list[Criterion]) -> list[Criterion]:
    """Every criterion in a list, depth first (for checks and counts)."""
    out: list[Criterion] = []
    for item in items:
        out.append(item)
        out.extend(iter_items(item.children))
    return out
