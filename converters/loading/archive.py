"""Archives as documents: one archive in, one `SourceDocument` per member out.

The pipeline hands every document to reader detection; an archive is opened here, once, and each member
comes back as a document of its own (named after the archive, with `member` set) for detection to route.
So no reader handles archives and no reader needs to know another: a ZIP holding API v2 JSON and legacy XML
sends each member to its own reader. Today's only archive is ZIP (`zipstream.py` has its defences).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from converters.loading.document import ArchiveWindow, SourceDocument
from converters.loading.zipstream import MemberProblem, entry_names, is_zip, iter_members, record_windows

__all__ = ["MemberProblem", "archive_entry_names", "archive_windows", "is_archive", "iter_member_documents"]


def archive_windows(path: Path, size: int, suffixes: tuple[str, ...],
                    max_bytes: int) -> tuple[list[ArchiveWindow], str] | None:
    """A ZIP file cut into windows of `size` members, with the file's digest; None for any other file, and for
    an archive small enough to read whole (at most `size` members, within `max_bytes`)."""
    try:
        with path.open("rb") as handle:
            if not is_zip(handle.read(4)):
                return None
        bytes_on_disk = path.stat().st_size
    except OSError:
        return None
    cuts = record_windows(str(path), size, suffixes)
    if not cuts or (len(cuts) <= 1 and bytes_on_disk <= max_bytes):
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return [ArchiveWindow(str(path), start, stop, before) for start, stop, before in cuts], digest.hexdigest()


def is_archive(doc: SourceDocument) -> bool:
    """Whether a document is an archive to open (members are never opened again: nested archives are not)."""
    return doc.member is None and (doc.window is not None or is_zip(doc.data))


def archive_entry_names(doc: SourceDocument) -> list[str]:
    """The member names of an archive, in order, without expanding anything (for naming its format)."""
    return entry_names(doc.data, doc.window)


def iter_member_documents(doc: SourceDocument, suffixes: tuple[str, ...], max_member_bytes: int,
                          max_total_bytes: int) -> Iterator[SourceDocument | MemberProblem]:
    """Each member of the archive whose name ends in one of `suffixes`, as a document, or the problem that
    stopped it (unsafe name, ZIP bomb, damage, skipped file)."""
    for item in iter_members(doc.data, doc.name, max_member_bytes, max_total_bytes, suffixes, doc.window):
        if isinstance(item, MemberProblem):
            yield item
        else:
            yield SourceDocument(name=doc.name, data=item.data, sha256=doc.sha256, member=item.name)
