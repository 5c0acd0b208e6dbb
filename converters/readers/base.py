"""The contract every reader follows (the document it receives is `converters.loading.SourceDocument`).

A reader is one module in `converters/readers/` that defines a module-level `READER` object. The pipeline
finds readers by that name (no central list to edit), asks each how strongly it recognises a document
(`sniff`), and hands the document to the best one. A reader yields one `ReadOutcome` per record, so a
file with many studies (a JSON array, an NDJSON file, a ZIP) streams with bounded memory and a bad record
does not stop the good ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from converters.loading import SourceDocument
from converters.model import Study
from converters.problems import Problem
from converters.resources import Resources


@dataclass(frozen=True)
class ReaderConfig:
    """Limits and resources passed to readers (no global state)."""

    resources: Resources
    max_bytes: int = 100 * 1024 * 1024  # largest input file read
    max_expanded_bytes: int = 500 * 1024 * 1024  # largest total size of ZIP members after expansion
    max_records: int | None = None  # most records read from one multi-record file (None: no limit)


@dataclass
class ReadOutcome:
    """One record read from a document: a study, or the problems that stopped it (or both)."""

    record: str | None  # NCT id, member name or index; None for single-record documents
    study: Study | None
    problems: list[Problem] = field(default_factory=list)


class Reader(Protocol):
    """What the pipeline needs from a reader module's `READER` object."""

    name: str  # format name used by `--from`, e.g. "registry-page", "ctgov-v2-json"
    description: str

    def sniff(self, doc: SourceDocument) -> float:
        """How sure (0..1) this reader is that it can read the document, from content only."""
        ...

    def read(self, doc: SourceDocument, config: ReaderConfig) -> Iterator[ReadOutcome]:
        """Yield one outcome per record; never raise on bad input (return problems instead)."""
        ...
