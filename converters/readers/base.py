"""The contract every reader follows (the document it receives is `converters.loading.SourceDocument`).

A reader is one module in `converters/readers/` that defines a module-level `READER` object. The pipeline
finds readers by that name (no central list to edit), asks each how strongly it recognises a document
(`sniff`), and hands the document to the best one. A reader yields one `ReadOutcome` per record, so a
file with many studies (a JSON array, an NDJSON file) streams with bounded memory and a bad record does not
stop the good ones.

Archives are not a reader's business: detection (`converters.readers.choose_reader`) opens a ZIP through the
input layer and sends each member back through detection as a document of its own (`SourceDocument.member`
set). A reader reads a member like a file, except that what would make a whole file unusable only refuses
that member's records (`record_problem`).

Besides `name`, `description`, `sniff` and `read`, a reader may define (both are optional):
- `archive_suffixes`: the file suffixes its records have inside archives (`(".json", ".ndjson")`). Members
  with no reader's suffix are skipped; a member whose content no reader recognises for sure (`SURE`) goes to
  the reader of its suffix. `ArchiveMembers` is its protocol.
- `source_use(doc, config)`: for structured formats, how each record used its source values, per generic
  source path (`SourceUse`); `trialbridge coverage` counts them. `SourcePaths` is its protocol. Readers
  without it are counted by record only.
- `refusal(doc)`: for a reader that reads a broad kind of content (the page reader: any text), why it did not
  take a document that no reader took (what a study page would show and this text lacks). `Refusals` is its
  protocol; detection puts the reason in the problem that says the file is not a study.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar, runtime_checkable

from converters.loading import SourceDocument
from converters.model import Study
from converters.problems import Problem, Severity
from converters.resources import Resources

SURE = 0.5  # a sniff score from here up means "this content is mine"; below it is a guess (a catch-all reader)


@dataclass(frozen=True)
class ReaderConfig:
    """Limits and resources passed to readers (no global state)."""

    resources: Resources
    max_bytes: int = 100 * 1024 * 1024  # largest input file read (and largest archive member expanded)
    max_expanded_bytes: int = 500 * 1024 * 1024  # largest total size of ZIP members after expansion
    max_records: int | None = None  # most records read from one multi-record file (None: no limit)


@dataclass
class ReadOutcome:
    """One record read from a document: a study, or the problems that stopped it (or both)."""

    record: str | None  # NCT id, member name or index; None for single-record documents
    study: Study | None
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class SourceUse:
    """How one record used its source, for `trialbridge coverage`.

    `leaves` holds every source value of the record, in document order, as (generic path such as
    `/protocolSection/armsInterventionsModule/armGroups/*/label`, None when the field map used the value,
    else why not); it is None when the record was refused, and `problems` then say why (if anything)."""

    leaves: tuple[tuple[str, str | None], ...] | None
    problems: tuple[Problem, ...] = ()


class Reader(Protocol):
    """What the pipeline needs from a reader module's `READER` object."""

    name: str  # format name used by `--from`, e.g. "registry-page", "ctgov-v2-json"
    description: str

    def sniff(self, doc: SourceDocument) -> float:
        """How sure (0..1) this reader is that it can read the document, from content only (see `SURE`)."""
        ...

    def read(self, doc: SourceDocument, config: ReaderConfig) -> Iterator[ReadOutcome]:
        """Yield one outcome per record; never raise on bad input (return problems instead)."""
        ...


@runtime_checkable
class ArchiveMembers(Protocol):
    """A reader whose records also come as archive members, named with these suffixes (lower case)."""

    archive_suffixes: tuple[str, ...]


@runtime_checkable
class SourcePaths(Protocol):
    """A reader of structured records that can say, per record, which source values its field map used."""

    def source_use(self, doc: SourceDocument, config: ReaderConfig) -> Iterator[SourceUse]:
        """One `SourceUse` per record, reading the document as `read` does but building no study."""
        ...


@runtime_checkable
class Refusals(Protocol):
    """A reader that can say why it did not take a document of the kind of content it reads."""

    def refusal(self, doc: SourceDocument) -> str | None:
        """Why the document is not this reader's (one line), or None when it is not of its kind of content."""
        ...


def archive_suffixes(reader: Reader) -> tuple[str, ...]:
    """The archive member suffixes a reader declares; none for readers of formats never found in archives."""
    return reader.archive_suffixes if isinstance(reader, ArchiveMembers) else ()


def record_problem(problem: Problem, record: str | None) -> Problem:
    """A problem about a whole document, restated for one record (an archive member) of a larger file: located
    at the record, and a fatal one becomes an error (the record is refused; the file is still usable). A whole
    file (`record` None) keeps the problem as it is."""
    if record is None:
        return problem
    problem = problem.with_location(record=record)
    if problem.severity is Severity.FATAL:
        problem = problem.model_copy(update={"severity": Severity.ERROR})
    return problem


T = TypeVar("T")


class ConverterCache(Generic[T]):
    """Compiled converters per `Resources` object, so schemas and maps compile once per run, not per file."""

    def __init__(self, factory: Callable[[Resources], T]) -> None:
        self._factory = factory
        self._entries: list[tuple[Resources, T]] = []

    def get(self, resources: Resources) -> T:
        for known, converter in self._entries:
            if known is resources:
                return converter
        converter = self._factory(resources)
        self._entries = [*self._entries[-3:], (resources, converter)]
        return converter
