"""Text formats: CommonMark source text to plain text, and any source text to CommonMark.

ClinicalTrials.gov writes its long texts (criteria, summaries, descriptions) in CommonMark, so `10\\^5`, `\\<`
and `**bold**` are markup, not text. The canonical study keeps every text as the source wrote it and records
which texts are CommonMark in `SourceInfo.text_formats` (JSON pointer -> format; a pointer covers the values
under it; a text no pointer covers is plain). Writers turn each text into what their target element holds:

- `markdown_to_plain`: plain text for plain targets (FHIR `string`, narratives, every SDTM value). It parses
  with markdown-it-py (the CommonMark reference algorithm, not regexes): escapes and entities resolved,
  emphasis and code markers removed, a link's target kept after its text, lists kept as lines with their
  markers as written (nested items indented), paragraphs separated by a blank line, HTML comments dropped.
- `as_commonmark`: CommonMark for FHIR `markdown` elements: Markdown source text as written; plain source
  text escaped so that it reads literally (line breaks become hard breaks).
- `plain_text_view`: the study with every CommonMark text turned into plain text, at the same pointers (so
  provenance and traces are unchanged); writers build plain targets from it.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from converters.model.markdown_lists import MarkdownNode, simple_list_tree
from converters.model.provenance import json_pointer, resolve_pointer
from converters.model.study import Study, TextFormat

if TYPE_CHECKING:  # markdown-it is imported on the first parse: a run with no markdown text never loads it
    from markdown_it import MarkdownIt
    from markdown_it.tree import SyntaxTreeNode

    BlockNode = SyntaxTreeNode | MarkdownNode  # the full parser's tree, or the simple-list shortcut's (same shape)

# Fields of a study that are the converter's own records, not source text.
_RECORD_FIELDS = frozenset({"schema_version", "source", "provenance", "unmapped", "problems"})
# A text with none of these, and no line that starts like a block, is one paragraph that reads as written.
_MARKUP_CHARS = re.compile(r"[\\`*_\[\]<>&#!~=|\x00\r]")
_BLOCK_START = re.compile(r"[-+]|\d{1,9}[.)]")
_OTHER_WHITESPACE = re.compile(r"[^\S \n]")  # tabs, form feeds, no-break spaces...: CommonMark treats some specially
_HTML_COMMENT = re.compile(r"^\s*<!--.*?-->\s*$", re.DOTALL)
# Plain text made literal: characters that start inline markup anywhere, and block markers at a line start.
_INLINE_MARKUP = re.compile(r"[\\`*\[\]<&]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_LINE_START_MARKUP = re.compile(r"^(?:[#>+=~-]|(\d{1,9})([.)]))")


@functools.cache
def _parser() -> MarkdownIt:
    """The CommonMark parser (built once: it is configured here and never changed afterwards)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


@functools.lru_cache(maxsize=16)
def parse_markdown(text: str) -> BlockNode:
    """The CommonMark block tree of `text` (each block node's `map` gives its source lines); callers only read it.

    A text of paragraphs and simple lists (most criteria) gets its tree from `simple_list_tree`, ten times
    faster and node for node what markdown-it-py builds; any other text is parsed by markdown-it-py.
    A small per-process cache of parsed trees: a run reads a study and then writes it, so the criteria text the
    reader parsed is parsed again by each writer's plain-text view unless the tree is kept that long."""
    simple = simple_list_tree(text)
    if simple is not None:
        return simple
    from markdown_it.tree import SyntaxTreeNode

    return SyntaxTreeNode(_parser().parse(text))


def is_literal(text: str) -> bool:
    """Whether `text` reads the same as CommonMark and as plain text: one paragraph, no markup at all."""
    if _MARKUP_CHARS.search(text):
        return False
    return all(line and line == line.strip() and not _BLOCK_START.match(line) for line in text.split("\n"))


@functools.lru_cache(maxsize=256)
def markdown_to_plain(text: str) -> str:
    """The plain text a CommonMark text says (see the module notes for what is kept).

    Cached per process (a pure function of the text): each target's writer takes the plain-text view of the
    same study (FHIR R4, R5, SDTM), and parsing is most of what that costs."""
    if is_literal(text):
        return text
    paragraphs = _markup_free_paragraphs(text)
    if paragraphs is not None:
        return paragraphs
    return blocks_to_plain(parse_markdown(text).children)


def _markup_free_paragraphs(text: str) -> str | None:
    """The plain text of a text that CommonMark can only read as paragraphs, without parsing it; None for
    any other text.

    With no markup character, no whitespace but spaces and line breaks, no line that starts like a list or a
    rule (`-`, `+`, `1.`) and no paragraph that starts indented as code (4 spaces), every block is a paragraph:
    its lines, without their leading and trailing spaces, joined by line breaks (a hard break reads as a soft
    one in plain text); paragraphs are separated by blank lines. A third of ClinicalTrials.gov's Markdown texts
    (summaries, descriptions) are such texts."""
    if _MARKUP_CHARS.search(text) or _OTHER_WHITESPACE.search(text):
        return None
    paragraphs: list[str] = []
    lines: list[str] = []
    for line in text.split("\n"):
        content = line.strip(" ")
        if not content:
            if lines:
                paragraphs.append("\n".join(lines))
                lines = []
            continue
        if _BLOCK_START.match(content) or (not lines and len(line) - len(line.lstrip(" ")) >= 4):
            return None
        lines.append(content)
    if lines:
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def blocks_to_plain(nodes: Sequence[BlockNode], separator: str = "\n\n") -> str:
    """Block nodes as plain text, blocks separated by a blank line (or by `separator`)."""
    parts = [part for part in (_block(node) for node in nodes) if part is not None]
    return separator.join(parts)


def inline_to_plain(node: BlockNode) -> str:
    """The plain text of an inline node (or of the inline content of a paragraph or heading)."""
    if node.type in ("paragraph", "heading"):
        return "".join(inline_to_plain(child) for child in node.children)
    if node.type == "inline":
        return "".join(inline_to_plain(child) for child in node.children)
    if node.type in ("text", "text_special", "code_inline"):
        return node.content
    if node.type in ("softbreak", "hardbreak"):
        return "\n"
    if node.type == "html_inline":
        return "" if node.content.startswith("<!--") else node.content
    if node.type == "link":
        label = "".join(inline_to_plain(child) for child in node.children)
        href = str(node.attrs.get("href", ""))
        return label if node.markup == "autolink" or not href or label == href else f"{label} ({href})"
    if node.type == "image":
        alt = "".join(inline_to_plain(child) for child in node.children)
        src = str(node.attrs.get("src", ""))
        return f"{alt} ({src})" if alt and src else alt or src
    return "".join(inline_to_plain(child) for child in node.children)  # em, strong: their text


def list_marker(item: BlockNode) -> str:
    """A list item's marker as written: `*`, `-`, `1.`, `2)`."""
    return f"{item.info}{item.markup}" if item.parent is not None and item.parent.type == "ordered_list" \
        else item.markup


def _block(node: BlockNode) -> str | None:
    kind = node.type
    if kind in ("paragraph", "heading"):
        return inline_to_plain(node)
    if kind in ("bullet_list", "ordered_list"):
        return "\n".join(_list_item(item) for item in node.children)
    if kind == "blockquote":
        inner = blocks_to_plain(node.children)
        return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))
    if kind in ("code_block", "fence"):
        return node.content.rstrip("\n")
    if kind == "html_block":
        return None if _HTML_COMMENT.match(node.content) else node.content.rstrip("\n")
    if kind == "hr":
        return node.markup or "---"
    return blocks_to_plain(node.children)


def _list_item(item: BlockNode) -> str:
    marker = list_marker(item)
    tight = any(child.type == "paragraph" and child.hidden for child in item.children)  # no blank lines between
    body = blocks_to_plain(item.children, "\n" if tight else "\n\n")
    if not body:
        return marker
    indent = " " * (len(marker) + 1)
    lines = body.split("\n")
    return "\n".join([f"{marker} {lines[0]}", *(f"{indent}{line}" if line else "" for line in lines[1:])])


# --- plain text to CommonMark -------------------------------------------------------------------------


def escape_markdown(text: str) -> str:
    """Plain text as CommonMark that reads literally: markup characters escaped, each line break a hard
    break, blank lines kept as paragraph breaks; leading indentation dropped (CommonMark would read it as
    code or nesting, and shows none)."""
    paragraphs = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    out = []
    for paragraph in paragraphs:
        lines = [_escape_line(line.strip()) for line in paragraph.split("\n") if line.strip()]
        if lines:
            out.append("\\\n".join(lines))
    return "\n\n".join(out)


def _escape_line(line: str) -> str:
    escaped = _INLINE_MARKUP.sub(lambda m: "\\" + m.group(0), line)
    start = _LINE_START_MARKUP.match(escaped)
    if start is None:
        return escaped
    if start.group(1) is not None:  # "1." / "2)" would start an ordered list
        return f"{start.group(1)}\\{start.group(2)}{escaped[start.end():]}"
    return "\\" + escaped


def as_commonmark(text: str, source_format: TextFormat) -> str:
    """Text for a FHIR `markdown` element: CommonMark source text as written, plain text escaped."""
    if source_format is TextFormat.MARKDOWN:
        return text.strip()
    return escape_markdown(text)


# --- which texts are Markdown ------------------------------------------------------------------------


def text_format_at(formats: Mapping[str, TextFormat], pointer: str) -> TextFormat:
    """The format of the text at `pointer`: that of the longest recorded pointer covering it, else plain."""
    if not formats:
        return TextFormat.PLAIN
    current = pointer
    while True:
        found = formats.get(current)
        if found is not None:
            return found
        if not current:
            return TextFormat.PLAIN
        current = current.rsplit("/", 1)[0]


def source_format(study: Study, pointer: str) -> TextFormat:
    """The format the source wrote the study's text at `pointer` in."""
    return text_format_at(study.source.text_formats, pointer)


def plain_text_view(study: Study) -> Study:
    """The study with every CommonMark text as plain text, at the same pointers, its source then recording no
    Markdown text (so a second call changes nothing); the study itself when it has no CommonMark text.

    Only the branches that hold a CommonMark text are copied (with `model_copy`, no validation: a text stays a
    text); the rest is the study's own objects, which writers only read."""
    formats = study.source.text_formats
    if not any(f is TextFormat.MARKDOWN for f in formats.values()):
        return study
    index = _FormatIndex(formats)
    update: dict[str, Any] = {}
    for name in Study.model_fields:
        if name not in _RECORD_FIELDS:
            value = getattr(study, name)
            plain = _plain(value, "/" + name, index)
            if plain is not value:
                update[name] = plain
    update.update(source=study.source.model_copy(update={"text_formats": {}}), provenance=dict(study.provenance),
                  unmapped=list(study.unmapped), problems=list(study.problems))
    return study.model_copy(update=update)


class _FormatIndex:
    """A study's text formats with their pointers sorted, so that whether a branch holds a recorded pointer is
    a bisection (most branches of a study hold none, and are left as they are)."""

    def __init__(self, formats: Mapping[str, TextFormat]) -> None:
        self.formats = formats
        self._sorted = sorted(formats)

    def at(self, pointer: str) -> TextFormat:
        return text_format_at(self.formats, pointer)

    def any_under(self, pointer: str) -> bool:
        prefix = pointer + "/"
        keys = self._sorted
        i = bisect_left(keys, prefix)
        return i < len(keys) and keys[i].startswith(prefix)


def _plain(value: Any, pointer: str, index: _FormatIndex) -> Any:
    """`value` with its CommonMark texts as plain text; the same object when nothing in it changes."""
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        plain = markdown_to_plain(value) if index.at(pointer) is TextFormat.MARKDOWN else value
        return value if plain == value else plain
    if not isinstance(value, (BaseModel, dict, list)) or (
            not index.any_under(pointer) and index.at(pointer) is not TextFormat.MARKDOWN):
        return value
    if isinstance(value, BaseModel):
        changed = {}
        for name in type(value).model_fields:
            item = getattr(value, name)
            plain = _plain(item, f"{pointer}/{name}", index)
            if plain is not item:
                changed[name] = plain
        return value.model_copy(update=changed) if changed else value
    if isinstance(value, dict):
        new = {key: _plain(item, pointer + json_pointer(key), index) for key, item in value.items()}
        return new if any(new[key] is not item for key, item in value.items()) else value
    items = [_plain(item, f"{pointer}/{i}", index) for i, item in enumerate(value)]
    return items if any(new is not old for new, old in zip(items, value, strict=True)) else value


def text_at(study: Study, pointer: str) -> str | None:
    """The text at a JSON pointer of the study (None when there is no text there)."""
    node = resolve_pointer(study, pointer)
    return node if isinstance(node, str) else None
