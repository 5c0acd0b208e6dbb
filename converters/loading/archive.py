"""Archives as documents: one archive in, one `SourceDocument` per member out.

The pipeline hands every document to reader detection; an archive is opened here, once, and each member
comes back as a document of its own (named after the archive, with `member` set) for detection to route.
So no reader handles archives and no reader needs to know another: a ZIP holding API v2 JSON and legacy XML
sends each member to its own reader. Today's only archive is ZIP (`zipstream.py` has its defences).
"""

from __future__ import annotations

from collections.abc import Iterator

from converters.loading.document import SourceDocument
from converters.loading.zipstream import MemberProblem, entry_names, is_zip, iter_members

__all__ = ["MemberProblem", "archive_entry_names", "is_archive", "iter_member_documents"]


def is_archive(doc: SourceDocument) -> bool:
    """Whether a document is an archive to open (members are never opened again: nested archives are not)."""
    return doc.member is None and is_zip(doc.data)


def archive_entry_names(doc: SourceDocument) -> list[str]:
    """The member names of an archive, in order, without expanding anything (for naming its format)."""
    return entry_names(doc.data)


def iter_member_documents(doc: SourceDocument, suffixes: tuple[str, ...], max_member_bytes: int,
                          max_total_bytes: int) -> Iterator[SourceDocument | MemberProblem]:
    """Each member of the archive whose name ends in one of `suffixes`, as a document, or the problem that
    stopped it (unsafe name, ZIP bomb, damage, skipped file)."""
    for item in iter_members(doc.data, doc.name, max_member_bytes, max_total_bytes, suffixes):
        if isinstance(item, MemberProblem):
            yield item
        else:
            yield SourceDocument(name=doc.name, data=item.data, sha256=doc.sha256, member=item.name)
