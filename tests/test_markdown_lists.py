"""The simple-list shortcut builds, node for node, the tree markdown-it-py builds, or declines."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from converters.model.markdown_lists import MarkdownNode, simple_list_tree

ROOT = Path(__file__).resolve().parents[1]
_PIECES = ["* ", "- ", "+ ", "1. ", "2. ", "10. ", "1) ", "  ", "   ", "    ", "\n", "\n\n", " ", "a", "b c", "\\>",
           "\\\\", ">", "=", "#", "x:", "  \n", "9", "0. ", "01. ", "Inclusion Criteria:", "\\*", "< ", "<", "*",
           "_", "&amp;", "\t", "-", "---", "==", "\\\n", "a\\", "1.", "* * *", "  * ", "   1. ", "> "]


def _signature(node: SyntaxTreeNode | MarkdownNode) -> Any:
    children = [_signature(child) for child in node.children]
    if node.type == "root":
        return "root", children
    return (node.type, node.map and tuple(node.map), node.markup, node.info, node.hidden, node.content,
            dict(node.attrs), children)


def _same_or_declined(md: MarkdownIt, text: str) -> bool:
    mine = simple_list_tree(text)
    if mine is None:
        return False
    assert _signature(mine) == _signature(SyntaxTreeNode(md.parse(text))), repr(text)
    return True


def _criteria_texts() -> list[str]:
    texts = []
    for path in sorted((ROOT / "fixtures").rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        records = data if isinstance(data, list) else data.get("studies", [data]) if isinstance(data, dict) else []
        for record in records:
            text = (record.get("protocolSection", {}).get("eligibilityModule", {}).get("eligibilityCriteria")
                    if isinstance(record, dict) else None)
            if isinstance(text, str):
                texts.append(text)
    return texts


def test_fixture_criteria_and_fuzzed_variants_match_markdown_it() -> None:
    md = MarkdownIt("commonmark")
    texts = _criteria_texts()
    assert texts
    taken = sum(_same_or_declined(md, text) for text in texts)
    assert taken > len(texts) // 2  # the shortcut serves most criteria
    rnd = random.Random(12)
    for _ in range(3000):
        lines = rnd.choice(texts).split("\n")
        for _ in range(rnd.randint(1, 4)):
            j = rnd.randrange(len(lines))
            op = rnd.random()
            if op < 0.3:
                lines[j] = rnd.choice(_PIECES) + lines[j]
            elif op < 0.5:
                lines[j] = lines[j].lstrip(" ")
            elif op < 0.6:
                lines.insert(j, "")
            elif op < 0.7 and len(lines) > 1:
                del lines[j]
            elif op < 0.8:
                lines[j] += rnd.choice(["  ", " ", ":"])
            else:
                lines.insert(j, "".join(rnd.choice(_PIECES) for _ in range(rnd.randint(1, 5))))
        _same_or_declined(md, "\n".join(lines))
        _same_or_declined(md, "".join(rnd.choice(_PIECES) for _ in range(rnd.randint(1, 25))))


def test_parents_are_linked_and_markup_declines() -> None:
    tree = simple_list_tree("Inclusion:\n\n* a\n  1. b\n")
    assert tree is not None
    item = tree.children[1].children[0]
    assert item.parent is tree.children[1] and item.children[1].children[0].parent is item.children[1]
    for text in ("* **bold**", "a `code`", "[link](x)", "a &amp; b", "* a\n\n* b", "    code", "a\n===", "<b>x</b>"):
        assert simple_list_tree(text) is None


def test_nested_lists_after_blank_lines_match_markdown_it() -> None:
    """Nested criteria as ClinicalTrials.gov writes them (an item, a blank line, its nested list or a second
    paragraph) make loose lists; generated nestings, with and without those blank lines, are built as
    markdown-it-py builds them."""
    md = MarkdownIt("commonmark")
    rnd = random.Random(3)
    markers = ["* ", "- ", "+ ", "1. ", "2) "]

    def nested(out: list[str], column: int, depth: int) -> None:
        marker = rnd.choice(markers)
        for k in range(rnd.randint(1, 3)):
            written = marker if marker[0] in "*-+" else f"{rnd.choice([1, 3]) if k == 0 else k + 1}{marker[1:]}"
            out.append(" " * column + written + rnd.choice(["a", "b c", "x:", "\\> 5", "-x"]))
            if rnd.random() < 0.2:  # a second paragraph of the item (or, not at its text column, no such)
                out += ["", " " * (column + len(written) + rnd.choice([0, 0, 1, -1])) + rnd.choice(["o y", "-z"])]
            if depth < 3 and rnd.random() < 0.5:
                out.extend([""] * rnd.choice([0, 1, 1, 2]))
                nested(out, column + len(written) + rnd.choice([0, 0, 1]), depth + 1)
            if rnd.random() < 0.05:
                out.append("")

    loose = 0
    for _ in range(1500):
        lines: list[str] = []
        for _ in range(rnd.randint(1, 2)):
            lines += ["Inclusion Criteria:", ""]
            nested(lines, 0, 0)
            lines.append("")
        text = "\n".join(lines)
        if _same_or_declined(md, text):
            tree = simple_list_tree(text)
            assert tree is not None
            loose += any(not paragraph.hidden for node in tree.children if node.type != "paragraph"
                         for item in node.children for paragraph in item.children if paragraph.type == "paragraph")
    assert loose > 100
