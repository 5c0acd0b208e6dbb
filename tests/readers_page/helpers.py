"""Reading pages in tests: through the reader object, as the pipeline does."""

from __future__ import annotations

import hashlib
from typing import Any

from converters.loading import SourceDocument
from converters.model import Study
from converters.problems import Problem
from converters.readers.base import ReaderConfig
from converters.readers.registry_page import READER
from converters.readers.registry_page.page import split_lines
from converters.resources import Resources


def read_bytes(data: bytes, resources: Resources, name: str = "page.txt") -> tuple[Study | None, list[Problem]]:
    doc = SourceDocument(name, data, hashlib.sha256(data).hexdigest())
    outcomes = list(READER.read(doc, ReaderConfig(resources=resources)))
    assert len(outcomes) == 1, "a page is one record"
    return outcomes[0].study, outcomes[0].problems


def read_text(text: str, resources: Resources, name: str = "page.txt") -> Study:
    study, problems = read_bytes(text.encode("utf-8"), resources, name)
    assert study is not None, problems
    return study


def codes(study: Study) -> list[str]:
    return [p.code for p in study.problems]


def resolve(document: Any, pointer: str) -> Any:
    """The value at an RFC 6901 pointer; KeyError/IndexError when it does not exist."""
    node = document
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def mapped_lines_from_text(study: Study, text: str) -> tuple[int, int]:
    """The share of lines mapped, computed directly from the page: non-blank lines inside a provenance span
    and not listed as unmapped, over non-blank lines (a check on `line_coverage`)."""
    lines = split_lines(text)
    nonblank = {i for i, line in enumerate(lines, start=1) if line.strip()}
    covered: set[int] = set()
    for loc in study.provenance.values():
        if loc.line is not None:
            covered.update(range(loc.line, (loc.end_line or loc.line) + 1))
    unmapped: set[int] = set()
    for span in study.unmapped:
        if span.line is not None:
            unmapped.update(range(span.line, (span.end_line or span.line) + 1))
    assert nonblank <= covered | unmapped, f"lines neither used nor listed: {sorted(nonblank - covered - unmapped)}"
    return len((covered - unmapped) & nonblank), len(nonblank)
