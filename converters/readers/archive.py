"""An archive read member by member, each member sent back through reader detection.

`choose_reader` returns an `ArchiveReader` for a ZIP. It opens the archive once (through the input layer,
`converters.loading`, which holds every ZIP defence), turns each member into a `SourceDocument` of its own and
asks detection which reader takes it, so a download mixing API v2 JSON and legacy XML reads each member with
its own reader while neither reader knows about archives or about the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from converters.loading import MemberProblem, SourceDocument, iter_member_documents
from converters.problem_codes import ctgov
from converters.problems import Location, Problem
from converters.readers.base import Reader, ReaderConfig, ReadOutcome

ARCHIVE_FORMAT = "zip"  # the format name of an archive none of whose members any reader declares

Route = Callable[[SourceDocument], Reader | None]
Unrecognised = Callable[[SourceDocument, ReaderConfig], Problem]


class ArchiveReader:
    """Reads one archive: its members in order, each with the reader detection chose for it.

    `name` is the format the archive is reported under (the reader of its first record member, see
    `choose_reader`); `suffixes` are the member suffixes some reader declares (other members are skipped)."""

    description = "ZIP archive of records: each member is read by the reader its content selects"

    def __init__(self, name: str, suffixes: tuple[str, ...], route: Route, unrecognised: Unrecognised) -> None:
        self.name = name
        self.suffixes = suffixes
        self._route = route
        self._unrecognised = unrecognised

    def sniff(self, doc: SourceDocument) -> float:
        return 1.0  # chosen by detection for archives only; never discovered as a reader

    def members(self, doc: SourceDocument,
                config: ReaderConfig) -> Iterator[tuple[SourceDocument, Reader | None] | MemberProblem]:
        """Each record member with the reader chosen for it, or the problem that stopped the member."""
        for item in iter_member_documents(doc, self.suffixes, config.max_bytes, config.max_expanded_bytes):
            yield item if isinstance(item, MemberProblem) else (item, self._route(item))

    def read(self, doc: SourceDocument, config: ReaderConfig) -> Iterator[ReadOutcome]:
        """Outcomes of every record of every member; `max_records` counts members here (each member's reader
        applies it again to the records inside the member)."""
        count = 0
        for item in self.members(doc, config):
            if isinstance(item, MemberProblem):
                yield ReadOutcome(item.name, None, [item.problem])
                continue
            if config.max_records is not None and count >= config.max_records:
                yield ReadOutcome(None, None, [ctgov.TOO_MANY_RECORDS(Location(file=doc.name),
                                                                      limit=config.max_records)])
                return
            count += 1
            member, reader = item
            if reader is None:
                yield ReadOutcome(member.member, None, [self._unrecognised(member, config)])
                continue
            for outcome in reader.read(member, config):
                if outcome.record is None and outcome.study is not None:
                    outcome.record = member.member  # a reader of one-record files names no record: the member does
                yield outcome
