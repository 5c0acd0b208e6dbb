"""Reader for ClinicalTrials.gov API v2 JSON in every download form (format name `ctgov-v2-json`).

Forms, recognised from content: one study object, the website's "Download -> JSON" array, an API page
(`{"studies": [...], "nextPageToken": ...}`) and NDJSON (one study per line). A ZIP of per-study files is
opened by detection, which sends each `.json` / `.ndjson` member here (`archive_suffixes`) as a document of
its own. Each record is validated against the JSON Schema derived from the official OpenAPI spec, then mapped
by `mappings/ctgov_v2/study.yaml`. See `record.py` for what is refused and what is read with a warning, and
`converters/loading/jsonstream.py` for streaming and the defences against hostile input.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from converters.loading import (
    RECURSION_LIMIT_HINT,
    DecodedText,
    Envelope,
    JsonForm,
    PageShape,
    RecordError,
    SourceDocument,
    decode_text,
    detect_form,
    iter_records,
)
from converters.problem_codes import ctgov
from converters.problems import Location, Problem, Severity
from converters.readers.base import ConverterCache, ReaderConfig, ReadOutcome, SourceUse, record_problem
from converters.readers.ctgov_v2.classic import SNIFF_MARKERS
from converters.readers.ctgov_v2.record import FORMAT, RecordContext, V2RecordConverter
from converters.resources import Resources

__all__ = ["READER", "CtgovV2Reader", "V2RecordConverter", "json_outcomes"]

API_PAGE = PageShape("studies", frozenset({"studies", "nextPageToken", "totalCount"}))
_FORM_NAMES = {"single": "single-study", "array": "download-array", "page": "api-page", "ndjson": "ndjson"}
_SNIFF_WINDOW = 64 * 1024


class CtgovV2Reader:
    name = FORMAT
    description = ("ClinicalTrials.gov API v2 JSON: one study, a Download-JSON array, an API page, NDJSON, "
                   "or a ZIP of per-study files")
    archive_suffixes = (".json", ".ndjson")

    def __init__(self) -> None:
        self._converters = ConverterCache(V2RecordConverter)

    def converter(self, resources: Resources) -> V2RecordConverter:
        return self._converters.get(resources)

    def sniff(self, doc: SourceDocument) -> float:
        data = doc.data
        head = data[:_SNIFF_WINDOW].lstrip(b"\xef\xbb\xbf \t\r\n")
        if not head.startswith((b"{", b"[")):
            return 0.0
        if any(marker in head for marker in SNIFF_MARKERS):
            return 0.0  # the classic API: the ctgov-v1-json reader refuses it with a clear message
        if b'"protocolSection"' in head or data.find(b'"protocolSection"') != -1:
            return 0.95
        if head.startswith(b"{") and b'"studies"' in head[:200]:
            return 0.8  # an API page, possibly empty
        return 0.0

    def read(self, doc: SourceDocument, config: ReaderConfig) -> Iterator[ReadOutcome]:
        decoded = decode_text(doc.data, doc.name, config.resources)
        if isinstance(decoded, Problem):
            member = doc.member
            yield ReadOutcome(member, None, [record_problem(decoded, member)])
            return
        yield from json_outcomes(decoded, doc, config, self.converter(config.resources), member=doc.member)

    def source_use(self, doc: SourceDocument, config: ReaderConfig) -> Iterator[SourceUse]:
        """Per study record, which values the field map uses (for coverage). A record that is not a study
        object, and a text whose form cannot be told, count as refused without a problem."""
        decoded = decode_text(doc.data, doc.name, config.resources)
        if isinstance(decoded, Problem):
            yield SourceUse(None, (decoded,))
            return
        form = detect_form(decoded.text, API_PAGE)
        if isinstance(form, RecordError):
            yield SourceUse(None)
            return
        converter = self.converter(config.resources)
        for raw in iter_records(decoded.text, form, page=API_PAGE):
            value = raw.value
            if isinstance(value, RecordError) or not isinstance(value, dict) or "protocolSection" not in value:
                yield SourceUse(None)
                continue
            yield converter.source_use(value, doc.name)


READER = CtgovV2Reader()


def json_outcomes(decoded: DecodedText, doc: SourceDocument, config: ReaderConfig, converter: V2RecordConverter,
                  member: str | None) -> Iterator[ReadOutcome]:
    """Outcomes for the records of one JSON text (a whole file, or one archive member named `member`)."""
    text = decoded.text
    form: JsonForm | RecordError = "ndjson" if doc.lines is not None else detect_form(text, API_PAGE)
    if isinstance(form, RecordError):
        yield ReadOutcome(member, None, [_record_error(form, doc.name, member, multi=member is not None)])
        return
    envelope = Envelope({})
    encoding_problems = list(decoded.problems)
    count = 0
    single = form == "single"
    for raw in iter_records(text, form, envelope, API_PAGE, doc.lines):
        if config.max_records is not None and count >= config.max_records:
            yield ReadOutcome(None, None, [ctgov.TOO_MANY_RECORDS(Location(file=doc.name),
                                                                  limit=config.max_records)])
            return
        count += 1
        label = _label(member, None if single else raw.index)
        if isinstance(raw.value, RecordError):
            problem = _record_error(raw.value, doc.name, label, multi=label is not None)
            yield ReadOutcome(label, None, [problem])
            continue
        ctx = RecordContext(file=doc.name, sha256=doc.sha256, form="zip" if member else _FORM_NAMES[form],
                            encoding=decoded.encoding, label=label)
        outcome = converter.convert(raw.value, ctx)
        if encoding_problems:
            if outcome.study is not None:
                outcome.study.problems[:0] = encoding_problems
            else:
                outcome.problems[:0] = encoding_problems
            encoding_problems = []
        yield outcome
    if form == "page":
        yield from _envelope_outcomes(envelope, doc.name, member)
    elif count == 0 and doc.lines is None:  # a window of a larger file may hold only blank lines
        yield ReadOutcome(member, None, [ctgov.NO_STUDIES(Location(file=doc.name, record=member),
                                                          form="JSON array" if form == "array" else "file")])


def _label(member: str | None, index: int | None) -> str | None:
    if index is None:
        return member
    return f"{member}#{index + 1}" if member else f"#{index + 1}"


def _record_error(error: RecordError, file: str, label: str | None, multi: bool) -> Problem:
    where = Location(file=file, record=label, line=error.line)
    if error.kind == "too-deep":
        problem = ctgov.JSON_TOO_DEEP(where, limit=RECURSION_LIMIT_HINT)
    elif error.kind == "number-too-long":
        problem = ctgov.JSON_NUMBER_TOO_LONG(where, reason=error.reason)
    else:
        problem = ctgov.JSON_MALFORMED(where, line=error.line, column=error.column, reason=error.reason)
    if multi:  # one record of a larger file: the record is refused, the file is not unusable
        problem = problem.model_copy(update={"severity": Severity.ERROR})
    return problem


def _envelope_outcomes(envelope: Envelope, file: str, member: str | None) -> Iterator[ReadOutcome]:
    where = Location(file=file, record=member)
    problems: list[Problem] = []
    if not envelope.fields.get("studies"):
        problems.append(ctgov.NO_STUDIES(where, form="API page"))
    for key, value in envelope.fields.items():
        if key == "nextPageToken":
            problems.append(ctgov.PAGE_FIELD(where, field="nextPageToken", value=_brief(value)))
        elif key == "totalCount":
            if not isinstance(value, int) or isinstance(value, bool):
                problems.append(ctgov.SCHEMA_INVALID(where.model_copy(update={"path": "/totalCount"}),
                                                     path="/totalCount", reason="expected an integer"))
        elif key != "studies":
            problems.append(ctgov.SCHEMA_INVALID(where.model_copy(update={"path": f"/{key}"}), path=f"/{key}",
                                                 reason="an API page has only studies, nextPageToken and "
                                                        "totalCount"))
    if problems:
        yield ReadOutcome(member, None, problems)


def _brief(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
