"""Recognise the retired ClinicalTrials.gov classic API (format name `ctgov-v1-json`) and refuse it clearly.

The classic API (`FullStudiesResponse`, `StudyFieldsResponse`; PascalCase fields, text dates) was retired in
June 2024. Its records look enough like API v2 to be half-read by mistake, so this reader exists only to say
what the file is and where to get the current form: one fatal problem per file, no study (an error refusing
the member, for a member of an archive).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from converters.loading import SourceDocument, decode_text
from converters.problems import Location, Problem
from converters.readers.base import ReaderConfig, ReadOutcome, record_problem
from converters.readers.ctgov_v2.classic import SNIFF_MARKERS, ClassicShape, classic_problem, classic_shape

FORMAT = "ctgov-v1-json"
_SNIFF_WINDOW = 4096


class CtgovV1Reader:
    name = FORMAT
    description = "ClinicalTrials.gov classic API JSON (retired June 2024): recognised and refused"

    def sniff(self, doc: SourceDocument) -> float:
        head = doc.data[:_SNIFF_WINDOW].lstrip(b"\xef\xbb\xbf \t\r\n")
        if not head.startswith(b"{"):
            return 0.0
        if any(marker in head for marker in SNIFF_MARKERS):
            return 0.98
        if b'"ProtocolSection"' in head and b'"protocolSection"' not in head:
            return 0.9
        return 0.0

    def read(self, doc: SourceDocument, config: ReaderConfig) -> Iterator[ReadOutcome]:
        member = doc.member
        where = Location(file=doc.name, record=member)
        decoded = decode_text(doc.data, doc.name, config.resources)
        if isinstance(decoded, Problem):
            yield ReadOutcome(member, None, [record_problem(decoded, member)])
            return
        shape: ClassicShape | None
        try:
            shape = classic_shape(json.loads(decoded.text))
        except (ValueError, RecursionError):
            shape = None  # recognised from its markers but damaged: still the classic API, still refused
        if shape is None:
            shape = ClassicShape("classic API response", None, ())
        problem = classic_problem(shape, where)
        yield ReadOutcome(member, None, [record_problem(problem, member)])


READER = CtgovV1Reader()
