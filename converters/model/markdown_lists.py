"""The CommonMark block tree of a simple list text, built without the full parser (None for any other text).

Eligibility criteria are mostly paragraphs ("Inclusion Criteria:") and `*` / `1.` lists nested by indentation,
with `\\>` escapes in the items; markdown-it-py spends most of a study's read time on them. A text that uses
only the constructs below gets the very tree markdown-it-py gives (same node types, line maps, markers,
numbers, tightness and inline text: tests/test_markdown_lists.py compares the two on every criteria text of
the fixtures and on fuzzed variants); anything else returns None and is parsed by markdown-it-py:

- no markup character but `\\` escaping ASCII punctuation, `<` before a space, and a literal `>`, `=`, `|`,
  `~`, `!`, `#`, `+`, `-` inside a line (no `*` but list markers, no `_`, backticks, brackets or `&`), no
  whitespace but spaces and line breaks;
- top-level paragraphs start at column 0 after a blank line (or at the start); every other line without a
  marker continues the paragraph above it (lazily or indented) and starts with no block markup;
- list items: a marker (`*`, `-`, `+`, `1.` to `999999999)`), one space, then text that starts no block;
  a list starts at column 0 or at its parent item's text column, siblings share their marker's column and
  kind; once a list is open, a blank line is followed by a top-level paragraph (or the end), or, right after
  the current item's own paragraph, by a list nested in it or a second paragraph of it, at the item's text
  column (ClinicalTrials.gov writes nested criteria so): that item's list is then loose, its items'
  paragraphs shown (`hidden` False);
- a line may start with `-`, `+` or `=` followed by a letter or digit (no list marker, rule or underline).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NOT_SIMPLE = re.compile(r"[`_\[\]&\x00\r\\]|<(?! )|[^\S \n]")  # searched with the escapes taken out
_ITEM = re.compile(r"( *)([*+-]|(\d{1,9})([.)])) (?=[^ ])")
_BLOCK_LIKE = re.compile(r" *(?:[*+-]|\d{1,9}[.)])(?: |$)")  # a line a list marker starts (any spacing)
_BLOCK_START = frozenset("#>-+*_=`~<|")  # a line starting with one of these may start (or end) a block
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


class _NotSimple(Exception):
    """The text uses something the shortcut does not build: markdown-it-py parses it."""


@dataclass(eq=False)
class MarkdownNode:
    """A block or inline node with the attributes of markdown-it-py's `SyntaxTreeNode` that readers use."""

    type: str
    map: tuple[int, int] | None = None
    markup: str = ""
    info: str = ""
    hidden: bool = False
    content: str = ""
    attrs: dict[str, str | int | float] = field(default_factory=dict)
    children: list[MarkdownNode] = field(default_factory=list)
    parent: MarkdownNode | None = None

    def add(self, child: MarkdownNode) -> MarkdownNode:
        child.parent = self
        self.children.append(child)
        return child


@dataclass
class _Paragraph:
    node: MarkdownNode
    start: int
    indent: int  # the container's text column (markdown-it strips up to that many spaces of each line)
    lines: list[str]


@dataclass
class _List:
    node: MarkdownNode
    indent: int  # the markers' column
    kind: str  # the bullet character, or the ordered delimiter
    item: MarkdownNode
    content: int  # the current item's text column
    loose: bool = False  # an item of it holds a blank line between its paragraph and its nested list


def simple_list_tree(text: str) -> MarkdownNode | None:
    """The block tree of a simple list text (module notes), or None when the text is not one."""
    if _NOT_SIMPLE.search(_ESCAPE.sub("", text) if "\\" in text else text):
        return None
    try:
        return _Builder(text).build()
    except _NotSimple:
        return None


class _Builder:
    def __init__(self, text: str) -> None:
        lines = text.split("\n")
        if not lines[-1].strip(" "):
            lines.pop()  # markdown-it counts no line for the blank text after the last line break
        self.lines = lines
        self.root = MarkdownNode("root")
        self.lists: list[_List] = []
        self.paragraph: _Paragraph | None = None

    def build(self) -> MarkdownNode:
        blank = False
        for number, line in enumerate(self.lines):
            if not line.strip(" "):
                self._close_paragraph(number)
                blank = True
                continue
            item = _ITEM.match(line)
            if item is None and _BLOCK_LIKE.match(line):
                raise _NotSimple
            if blank and self.lists:
                if item is not None and self._after_own_paragraph(len(item.group(1))):
                    self.lists[-1].loose = True  # the item holds a paragraph, a blank line, a list: loose
                elif item is None and self._after_own_paragraph(len(line) - len(line.lstrip(" "))):
                    self.lists[-1].loose = True  # a paragraph, a blank line, a second paragraph: loose
                    self._second_paragraph(line, number)
                    blank = False
                    continue
                elif item is not None or line[0] == " ":
                    raise _NotSimple  # a blank line between items, or one that continues an item
                else:
                    self._close_lists(0, number)
            if item is not None:
                self._item(item, number)
            else:
                self._text_line(line, number, blank)
            blank = False
        end = len(self.lines)
        self._close_paragraph(end)
        self._close_lists(0, end)
        return self.root

    def _after_own_paragraph(self, column: int) -> bool:
        """Whether a line after a blank line, starting at `column`, is the second block of the current item
        (a nested list or a paragraph at the item's text column, right after the item's own paragraph)."""
        opened = self.lists[-1]
        return column == opened.content and len(opened.item.children) == 1

    def _second_paragraph(self, line: str, number: int) -> None:
        _check_start(line.lstrip(" "))
        opened = self.lists[-1]
        self.paragraph = _Paragraph(opened.item.add(MarkdownNode("paragraph", hidden=True)), number,
                                    opened.content, [line])

    def _text_line(self, line: str, number: int, blank: bool) -> None:
        content = line.lstrip(" ")
        _check_start(content)
        if self.paragraph is not None and not blank:
            self.paragraph.lines.append(line)
            return
        if self.lists or line[0] == " ":
            raise _NotSimple
        self.paragraph = _Paragraph(self.root.add(MarkdownNode("paragraph")), number, 0, [line])

    def _item(self, match: re.Match[str], number: int) -> None:
        indent = len(match.group(1))
        bullet, value, delimiter = match.group(2), match.group(3), match.group(4)
        kind = delimiter or bullet
        content = match.end()
        _check_start(match.string[content:])
        level = next((i for i, opened in enumerate(self.lists) if opened.indent == indent), None)
        if level is not None:
            opened = self.lists[level]
            if opened.kind != kind:
                raise _NotSimple  # another kind of marker starts another list
            self._close_paragraph(number)
            self._close_lists(level + 1, number)
            opened.item.map = (_start(opened.item), number)
            container = opened.node
        else:
            parent_column = self.lists[-1].content if self.lists else 0
            if indent != parent_column:
                raise _NotSimple
            if self.paragraph is not None and value is not None and int(value) != 1:
                raise _NotSimple  # an ordered list interrupts a paragraph only from 1 (else a lazy line)
            self._close_paragraph(number)
            parent = self.lists[-1].item if self.lists else self.root
            attrs: dict[str, str | int | float] = {} if value is None or int(value) == 1 else {"start": int(value)}
            container = parent.add(MarkdownNode("ordered_list" if value else "bullet_list", markup=kind,
                                                attrs=attrs))
            container.map = (number, number)
            opened = _List(container, indent, kind, container, content)
            self.lists.append(opened)
        opened.item = container.add(MarkdownNode("list_item", (number, number), kind, value or ""))
        opened.content = content
        self.paragraph = _Paragraph(opened.item.add(MarkdownNode("paragraph", hidden=True)), number, content,
                                    [match.string[content:]])

    def _close_lists(self, level: int, end: int) -> None:
        while len(self.lists) > level:
            opened = self.lists.pop()
            opened.item.map = (_start(opened.item), end)
            opened.node.map = (_start(opened.node), end)
            if opened.loose:  # CommonMark shows the paragraphs of every item of a loose list
                for item in opened.node.children:
                    for child in item.children:
                        if child.type == "paragraph":
                            child.hidden = False

    def _close_paragraph(self, end: int) -> None:
        paragraph = self.paragraph
        if paragraph is None:
            return
        self.paragraph = None
        node = paragraph.node
        node.map = (paragraph.start, end)
        inline = node.add(MarkdownNode("inline", (paragraph.start, end)))
        raw = [_strip_indent(line, paragraph.indent) for line in paragraph.lines]
        inline.content = "\n".join(raw).strip()
        last = len(raw) - 1
        for i, line in enumerate(raw):
            text = line.strip(" ")
            node = inline.add(MarkdownNode("text", content=_ESCAPE.sub(r"\1", text)))
            if text[0] == "\\":  # markdown-it's text token then keeps the markup of the escape it starts with
                node.markup, node.info = text[:2], "escape"
            if i < last:
                inline.add(MarkdownNode("hardbreak" if line.endswith("  ") else "softbreak"))


def _start(node: MarkdownNode) -> int:
    assert node.map is not None
    return node.map[0]


def _strip_indent(line: str, columns: int) -> str:
    """The line less up to `columns` leading spaces (markdown-it's `getLines` for a paragraph's lines)."""
    return line[min(columns, len(line) - len(line.lstrip(" "))):]


def _check_start(content: str) -> None:
    """Refuse a line whose text could start (or end) a block: a heading, quote, rule, fence, HTML, table,
    setext underline or list marker."""
    first = content[0]
    if (first in _BLOCK_START and not (first in "-+=" and content[1:2].isalnum())) or _BLOCK_LIKE.match(content) or (
            "*" in content and "*" in _ESCAPE.sub("", content)):
        raise _NotSimple  # (a `*` inside a line is emphasis)
