"""Readers: one module per input format, each defining a module-level `READER` (see `base.Reader`).

`discover_readers()` finds them by that name, so adding a format is one new module plus its mapping file.
`choose_reader()` is detection, for files and archive members alike: an archive gets an `ArchiveReader`
that sends each of its members back here.
"""

from __future__ import annotations

import importlib
import pkgutil

from converters.loading import SourceDocument, archive_entry_names, decode_text, is_archive
from converters.problem_codes import core
from converters.problems import Location, Problem
from converters.readers.archive import ARCHIVE_FORMAT, ArchiveReader
from converters.readers.base import (
    SURE,
    Reader,
    ReaderConfig,
    ReadOutcome,
    Refusals,
    SourcePaths,
    SourceUse,
    archive_suffixes,
    record_problem,
)
from converters.readers.content import structure_of
from converters.resources import Resources

__all__ = [
    "ArchiveReader",
    "ReadOutcome",
    "Reader",
    "ReaderConfig",
    "SourcePaths",
    "SourceUse",
    "archive_suffixes",
    "choose_reader",
    "discover_readers",
    "unrecognised_input",
]


def discover_readers() -> dict[str, Reader]:
    """All reader modules in this package that define `READER`, keyed by format name."""
    found: dict[str, Reader] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name in {"base", "archive"}:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        reader = getattr(module, "READER", None)
        if reader is not None:
            found[reader.name] = reader
    return found


def choose_reader(doc: SourceDocument, readers: dict[str, Reader], forced: str | None = None) -> Reader | None:
    """The reader named by `--from`, else the one most confident about the content (ties: by name).

    An archive gets an `ArchiveReader` whose members come back here (without `--from`: it names the format
    the archive is reported under; a format never found in archives gets the archive itself, and refuses it).
    A member whose content no reader is sure of (`SURE`) goes to the reader that declares its suffix."""
    if forced:
        reader = readers.get(forced)
        if reader is not None and is_archive(doc) and archive_suffixes(reader):
            return _archive_reader(forced, readers)
        return reader
    if is_archive(doc):
        return _archive_reader(_archive_format(doc, readers), readers)
    best: tuple[float, str] | None = None
    for name, reader in readers.items():
        score = reader.sniff(doc)
        if score > 0 and (best is None or score > best[0]):
            best = (score, name)
    if doc.member is not None and (best is None or best[0] < SURE):
        declared = _reader_of_suffix(doc.member, readers)
        if declared is not None:
            return declared
    return readers[best[1]] if best else None


def unrecognised_input(doc: SourceDocument, forced: str | None, resources: Resources) -> Problem:
    """Why no reader took a document: its decoding problem if it has one, else an unknown format, which says
    what the content is instead of a study record (JSON or XML of another kind, text that shows no study)."""
    decoded = decode_text(doc.data, doc.name, resources)
    if isinstance(decoded, Problem):
        problem = decoded
    else:
        hint = f"--from {forced} is not a known format" if forced else _not_a_study(doc, decoded.text)
        problem = core.INPUT_FORMAT_UNKNOWN(Location(file=doc.name), hint=hint)
    return record_problem(problem, doc.member)


def _not_a_study(doc: SourceDocument, text: str) -> str:
    """What a document that no reader took holds: its JSON or XML structure, else what the readers of text say
    it lacks."""
    structure = structure_of(text)
    if structure is not None:
        return f"{structure}, not a study record"
    reasons = [reason for reader in discover_readers().values()
               if isinstance(reader, Refusals) and (reason := reader.refusal(doc))]
    return "; ".join(reasons) or "its content matches no known format"


def _archive_reader(name: str, readers: dict[str, Reader]) -> ArchiveReader:
    suffixes = tuple(sorted({s for reader in readers.values() for s in archive_suffixes(reader)}))
    return ArchiveReader(name, suffixes, lambda member: choose_reader(member, readers),
                         lambda member, config: unrecognised_input(member, None, config.resources))


def _archive_format(doc: SourceDocument, readers: dict[str, Reader]) -> str:
    """The format an archive is reported under: the reader declaring the suffix of its first record member
    (read from the directory without expanding anything; from the first local header of a damaged archive)."""
    for name in archive_entry_names(doc):
        reader = _reader_of_suffix(name, readers)
        if reader is not None:
            return reader.name
    return ARCHIVE_FORMAT


def _reader_of_suffix(member: str, readers: dict[str, Reader]) -> Reader | None:
    lower = member.lower()
    for reader in readers.values():
        if any(lower.endswith(suffix) for suffix in archive_suffixes(reader)):
            return reader
    return None
