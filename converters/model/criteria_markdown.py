"""Read the structure of eligibility-criteria text: sections, sub-headings and nested list items.

Two readers, one result. ClinicalTrials.gov API v2 gives the criteria as one CommonMark block ("Inclusion
Criteria:" then `*` or `1.` lists, nested by indentation): it is parsed with markdown-it-py (the CommonMark
algorithm, never regexes), and each item's text is the plain text it says (escapes such as `\\>` resolved,
emphasis markers removed; see converters/model/text.py). The legacy XML gives the same content as indented
plain text ("-  " items, wrapped lines indented under their item), which is not Markdown: it is read line by
line, and each item's text is an exact slice of the input. A Markdown item records its `span` instead, the
offsets of its own source text in the criteria text, so the way back to the source stays exact.

What it keeps: every item's text (marker removed), its marker as written, and its place in the tree. What it
never does: reword or drop text. A block it cannot place becomes an item of its own, so the tree always holds
all the text.

Rules, in order (both readers):
- a line (Markdown: a paragraph, heading or list item) that is only "Inclusion Criteria" / "Exclusion
  Criteria" (optionally "Key ...", a colon, emphasis or `#`) starts a section; text before any such line goes
  to an `unspecified` section. The words are data (`criteria_headings` in the source's field map, compiled
  into `CriteriaHeadings`); the markup around them is the text format's;
- a list item is a child of the item whose list it is nested in (plain text: of the nearest open item whose
  marker is less indented); markers: `*`, `-`, `+`, `1.`, `1)`, and in plain text also `•`, `1.1.`, `a.`, `(a)`
  (in Markdown, a paragraph whose every line starts with `•`, a bullet CommonMark does not know, is one item
  per line);
- plain text: a non-marker line right after an item line (or indented at least as far as the item's text
  after a blank line) continues that item; otherwise it is a paragraph. Markdown: CommonMark decides;
  a paragraph after an item's nested list becomes a child without a marker, so reading order is kept;
- a paragraph that ends with ":" or starts "Inclusion/Exclusion criteria ..." -- or is followed directly by
  a list and does not end like a sentence -- is a sub-heading (`heading=True`): the items after it, up to
  the next sub-heading or section, are its children (cohort or disease groups). A Markdown heading (`###`)
  that is not a section is a sub-heading too. HTML comments (`<!-- -->`, used between lists) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from converters.model import CriteriaSection, Criterion, TextFormat
from converters.model.text import blocks_to_plain, inline_to_plain, list_marker, parse_markdown

if TYPE_CHECKING:
    from converters.model.text import BlockNode

Category = Literal["inclusion", "exclusion", "unspecified"]

_MARKER = re.compile(
    r"^(?P<indent>[ \t]*)(?P<marker>[-*+•]|\d{1,3}(?:\.\d{1,3})*[.)]|\d{1,3}\.\d{1,3}(?=\s+[A-Z])|"
    r"[a-zA-Z][.)]|\([a-zA-Z0-9]{1,4}\))(?P<gap>[ \t]+(?=\S)|(?<=\d[.)])(?=[A-Z][a-z]))"
)  # a number's marker may be followed directly by a capitalised word ("1.Aged =18 years", as EU CTR writes them)
_ATX = re.compile(r"^[ \t]*#{1,6}[ \t]+(?=\S)")
_SENTENCE_END = (".", ";", "!", "?")


@dataclass(frozen=True)
class CriteriaHeadings:
    """The headings of a source's criteria sections, compiled from its words (`criteria_headings` in a field map).

    `section` matches a line that is only a heading ("Inclusion Criteria:", "**Key Exclusion Criteria**",
    "## Inclusion"): an optional qualifier, a section word, an optional noun, in the markup a text may put around
    them. `subsection` matches a paragraph that starts with a section word and a noun ("Inclusion criteria for
    R2"), which is a sub-heading, not a section.
    """

    section: re.Pattern[str]  # groups: inclusion, exclusion (the one that matched names the category)
    subsection: re.Pattern[str]

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> CriteriaHeadings:
        """From `{inclusion: [...], exclusion: [...], qualifiers: [...], nouns: [...]}` (words, any case)."""
        inclusion, exclusion = _alternatives(data["inclusion"]), _alternatives(data["exclusion"])
        qualifiers, nouns = _alternatives(data["qualifiers"]), _alternatives(data["nouns"])
        words = rf"(?P<inclusion>{inclusion})|(?P<exclusion>{exclusion})"
        section = re.compile(
            rf"^(?:#{{1,6}}\s*)?(?:[*_]{{1,3}})?\s*(?:(?:{qualifiers})\s+)?(?:{words})"
            rf"(?:\s+(?:{nouns}))?\s*:?\s*(?:[*_]{{1,3}})?\s*:?\s*$",
            re.IGNORECASE,
        )
        subsection = re.compile(rf"^[*_]*(?:{inclusion}|{exclusion}) (?:{nouns})\b", re.IGNORECASE)
        return cls(section, subsection)

    def section_category(self, line: str) -> Category | None:
        """The category of the section a line starts when it is only a section heading, else None."""
        match = self.section.match(line)
        if match is None:
            return None
        return "inclusion" if match["inclusion"] is not None else "exclusion"

    def starts_subsection(self, text: str) -> bool:
        return self.subsection.match(text) is not None


def _alternatives(words: Iterable[str]) -> str:
    """Words as regex alternatives (any run of spaces inside one matching any whitespace); never matching when
    there are none."""
    return "|".join(r"\s+".join(re.escape(part) for part in word.split()) for word in words) or "(?!)"


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


def _blocks(text: str, headings: CriteriaHeadings) -> list[_Block]:
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
        section = headings.section_category(stripped)
        marker = _MARKER.match(line)
        last = blocks[-1] if blocks else None
        if section:
            blocks.append(_Block("section", indent, indent, first, line_end, category=section))
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


def _is_heading(blocks: list[_Block], index: int, text: str, headings: CriteriaHeadings) -> bool:
    """A paragraph is a sub-heading if it ends with ':' or directly introduces a list (see module rules)."""
    own = text[blocks[index].start : blocks[index].end].rstrip("*_ ")
    if own.endswith(":") or headings.starts_subsection(own):
        return True
    following = blocks[index + 1] if index + 1 < len(blocks) else None
    return following is not None and following.kind == "item" and not own.endswith(_SENTENCE_END)


def parse_criteria(text: str, headings: CriteriaHeadings,
                   text_format: TextFormat = TextFormat.PLAIN) -> list[CriteriaSection]:
    """The criteria text as sections of (nested) items, read as CommonMark or as plain text (module notes)."""
    if text_format is TextFormat.MARKDOWN:
        return _MarkdownCriteria(text, headings).sections()
    return _parse_lines(text, headings)


def _parse_lines(text: str, headings: CriteriaHeadings) -> list[CriteriaSection]:
    """Plain text read line by line; each item's `text` is an exact slice of `text`."""
    blocks = _blocks(text, headings)
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
            if _is_heading(blocks, index, text, headings):
                close_heading()
                node = _criterion(own_text, heading=True)
                container().append(node)
                heading = _Open(block, node)
            else:
                container().append(_criterion(own_text))
            continue
        while stack and stack[-1].block.indent >= block.indent:
            _close(stack.pop())
        node = _criterion(own_text, marker=block.marker)
        (stack[-1].children if stack else container()).append(node)
        stack.append(_Open(block, node))
    close_heading()
    return [CriteriaSection(category=cat, heading=head, items=items) for cat, head, items in sections]


_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the line breaks CommonMark knows (markdown-it's line numbers)
_LINE_PREFIX = re.compile(r"[ \t]*(?:>[ \t]?)*[ \t]*")  # indentation and blockquote markers before a block's text
_LISTS = ("bullet_list", "ordered_list")
_BULLET = re.compile(r"•[ \t]+(?=\S)")  # a bullet character CommonMark does not know, typed as a list marker


def _introduces_items(text: str, following: BlockNode | None, headings: CriteriaHeadings) -> bool:
    """A paragraph is a sub-heading if it ends with ':' or directly introduces a list (see module rules)."""
    own = text.rstrip("*_ ")
    if own.endswith(":") or headings.starts_subsection(own):
        return True
    return following is not None and following.type in _LISTS and not own.endswith(_SENTENCE_END)


class _MarkdownCriteria:
    """CommonMark criteria: the block tree, walked into sections, sub-headings and nested items."""

    def __init__(self, text: str, headings: CriteriaHeadings) -> None:
        self.text = text
        self.headings = headings
        self.starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]
        self.out: list[tuple[Category, str | None, list[Criterion]]] = []
        self.heading: tuple[Criterion, list[Criterion]] | None = None

    def sections(self) -> list[CriteriaSection]:
        blocks = list(self._top_blocks(parse_markdown(self.text).children))
        for index, node in enumerate(blocks):
            self._top(node, blocks[index + 1] if index + 1 < len(blocks) else None)
        self._close_heading()
        return [CriteriaSection(category=cat, heading=head, items=items) for cat, head, items in self.out]

    def _top_blocks(self, nodes: Sequence[BlockNode]) -> list[BlockNode]:
        """The top-level blocks, quotes opened, separators (rules, HTML comments) left out."""
        out: list[BlockNode] = []
        for node in nodes:
            if node.type == "blockquote":
                out += self._top_blocks(node.children)
            elif node.type != "hr" and (node.type != "html_block" or blocks_to_plain([node])):
                out.append(node)
        return out

    def _top(self, node: BlockNode, following: BlockNode | None) -> None:
        if node.type in _LISTS:
            for item in node.children:
                own, rest = self._own_blocks(item)
                plain = blocks_to_plain(own)
                category = self.headings.section_category(plain.strip()) if own else None
                if category is None:
                    self._container().extend(self._kept(self._item(item, (own, rest, plain))))
                    continue
                self._start_section(category, plain)  # "* Inclusion Criteria:" as a list item
                self._container().extend(self._children(rest))
            return
        text = inline_to_plain(node) if node.type in ("paragraph", "heading") else blocks_to_plain([node])
        assert node.map is not None
        first, end = node.map
        lines = text.split("\n")
        category = self.headings.section_category(lines[0].strip()) if node.type in ("paragraph", "heading") \
            else None
        if category is not None:
            self._start_section(category, lines[0])
            if len(lines) == 1:
                return
            lines, first = lines[1:], first + 1  # the heading line, then a paragraph
            text = "\n".join(lines)
        if node.type == "paragraph" and all(_BULLET.match(line) for line in lines):
            for n, line in enumerate(lines):  # "• item" lines: one item each, as the text reader does
                self._container().append(_criterion(_BULLET.sub("", line, count=1), marker="•",
                                                    span=self._span(first + n, first + n + 1, "•")))
            return
        span = self._span(first, end)
        if node.type == "heading" or (node.type == "paragraph" and _introduces_items(text, following, self.headings)):
            self._close_heading()
            heading = _criterion(text, heading=True, span=span)
            self._container().append(heading)
            self.heading = (heading, [])
        else:
            self._container().append(_criterion(text, span=span))

    def _own_blocks(self, item: BlockNode) -> tuple[Sequence[BlockNode], Sequence[BlockNode]]:
        """An item's own blocks (up to its first nested list), and the blocks after them."""
        children: Sequence[BlockNode] = item.children
        cut = next((i for i, child in enumerate(children) if child.type in _LISTS), len(children))
        return children[:cut], children[cut:]

    def _item(self, item: BlockNode,
              known: tuple[Sequence[BlockNode], Sequence[BlockNode], str] | None = None) -> Criterion:
        """A list item as a criterion (`known`: its own blocks, the rest and its plain text, when worked out)."""
        own, rest, plain = known if known is not None else (*self._own_blocks(item), None)
        marker = list_marker(item)
        span = None
        if own:
            assert own[0].map is not None and own[-1].map is not None and item.map is not None
            span = self._span(own[0].map[0], own[-1].map[1], marker if own[0].map[0] == item.map[0] else None)
        children = self._children(rest)
        return _criterion(blocks_to_plain(own) if plain is None else plain, marker=marker, span=span,
                          children=children)

    @staticmethod
    def _kept(item: Criterion) -> list[Criterion]:
        """The item; for a list item with no text of its own (a bare marker), the items under it, in its place."""
        return [item] if item.text else item.children

    def _children(self, nodes: Sequence[BlockNode]) -> list[Criterion]:
        """Nested list items, and any block after them as an item without a marker (reading order kept)."""
        out: list[Criterion] = []
        for node in nodes:
            if node.type in _LISTS:
                out += [kept for item in node.children for kept in self._kept(self._item(item))]
                continue
            text = blocks_to_plain([node])
            if text:
                assert node.map is not None
                out.append(_criterion(text, span=self._span(*node.map)))
        return out

    def _line(self, index: int) -> str:
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.text)
        return self.text[self.starts[index]:end].rstrip("\r\n")

    def _span(self, first: int, end: int, marker: str | None = None) -> list[int]:
        """Offsets of lines first..end-1 in the text: from the block's text (after indentation, quote markers
        and the item's marker) to the end of its last non-blank line."""
        last = end - 1
        while last > first and not self._line(last).strip():
            last -= 1
        line = self._line(first)
        pos = _LINE_PREFIX.match(line).end()  # type: ignore[union-attr]
        if marker is not None and line.startswith(marker, pos):
            pos = len(line) - len(line[pos + len(marker):].lstrip(" \t"))
        end_offset = self.starts[last] + len(self._line(last).rstrip())
        # A block whose only text is its prefix ("    > ": an indented code block holding a quote marker) has
        # nothing after the prefix: its span is empty, at the end of the line, never inverted.
        return [min(self.starts[first] + pos, end_offset), end_offset]

    def _start_section(self, category: Category, heading: str) -> None:
        self._close_heading()
        self.out.append((category, heading, []))

    def _container(self) -> list[Criterion]:
        if not self.out:
            self.out.append(("unspecified", None, []))
        return self.heading[1] if self.heading is not None else self.out[-1][2]

    def _close_heading(self) -> None:
        if self.heading is not None:
            node, children = self.heading
            if children:
                node.children = children
            self.heading = None


def _criterion(text: str, marker: str | None = None, span: list[int] | None = None, heading: bool = False,
               children: list[Criterion] | None = None) -> Criterion:
    """A criterion with its lists given, empty or not: a list left to its default is deep-copied by pydantic for
    each object, which was half the cost of making one (the output is the same: empty lists are left out)."""
    return Criterion(text=text, marker=marker, span=span, heading=heading, children=children or [],
                     damaged_comparators=[])


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
