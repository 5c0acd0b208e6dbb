"""A large ZIP or NDJSON file cut into windows that a worker reads by itself, shared by every command that spreads
one file over several processes (`convert`'s units, `coverage`'s pieces): one rule for where a file is cut and
how a window is read back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from converters.loading.archive import archive_windows
from converters.loading.document import ArchiveWindow, SourceDocument
from converters.loading.ndjson_windows import TextWindow, ndjson_windows, read_window

WINDOW_RECORDS = 500  # records (ZIP members, NDJSON lines) of a large file read at a time, by default


@dataclass(frozen=True)
class FileWindow:
    """One window of a large file: ZIP members (`members`) or NDJSON lines (`lines`), with the whole file's digest
    (the source every study of the window names)."""

    size: int  # bytes, for the progress estimate
    sha256: str
    members: ArchiveWindow | None = None
    lines: TextWindow | None = None


def file_windows(path: Path, archive_records: int, ndjson_records: int, archive_suffixes: tuple[str, ...],
                 max_bytes: int) -> list[FileWindow] | None:
    """The file's windows when it is a large ZIP (`archive_records` members each) or NDJSON file
    (`ndjson_records` lines each); None for a file read whole. A count of 0 never cuts that kind of file."""
    archive = archive_windows(path, archive_records, archive_suffixes, max_bytes) if archive_records > 0 else None
    if archive is not None:
        cuts, digest = archive
        share = _size(path) // len(cuts)
        return [FileWindow(share, digest, members=cut) for cut in cuts]
    text = ndjson_windows(path, ndjson_records, max_bytes) if ndjson_records > 0 else None
    if text is not None:
        spans, digest = text
        return [FileWindow(span.stop - span.start, digest, lines=span) for span in spans]
    return None


def window_document(path: Path, window: FileWindow) -> SourceDocument:
    """The document a reader gets for one window: its NDJSON lines' bytes, or the archive with only the window's
    members to open."""
    if window.lines is not None:
        return SourceDocument(str(path), read_window(path, window.lines), window.sha256, lines=window.lines.lines)
    return SourceDocument(name=str(path), data=b"", sha256=window.sha256, window=window.members)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
