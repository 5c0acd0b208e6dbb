"""The unit every reader receives: one input document's bytes, with the names reports give it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceDocument:
    """One input document: its display name, raw bytes and digest. Decoding is up to the reader.

    A member of an archive is a document too. It keeps the archive's `name` and `sha256` (reports, problem
    locations and `Study.source` name the file the user gave, and the digest finds that file again) and
    carries its own name inside the archive in `member`; readers name its records after it.
    """

    name: str
    data: bytes
    sha256: str
    member: str | None = None  # the member's name inside the archive named `name`; None for a whole file
    window: ArchiveWindow | None = None  # a run of an archive file's members, read from the file (`data` empty)
    lines: LineWindow | None = None  # `data` is a run of lines of a larger NDJSON file, starting here


@dataclass(frozen=True)
class LineWindow:
    """Where a run of NDJSON lines sits in its file: the number of its first line (1-based) and the index of
    its first record (0-based), so records and problems are named as in a read of the whole file."""

    first_line: int
    first_index: int


@dataclass(frozen=True)
class ArchiveWindow:
    """Members `start` to `stop` (positions in the archive's directory) of the ZIP file at `path`, read from
    the file itself: a registry download too large to hold is converted a window at a time, on every core.
    `expanded_before` is the declared expanded size of the record members before the window, so the limit on
    an archive's total expansion counts from there."""

    path: str
    start: int
    stop: int
    expanded_before: int = 0
