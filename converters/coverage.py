"""Field coverage of structured registry records: per source path, how many records had it, and is it mapped.

`coverage(paths, resources)` reads every input the way `convert` does (same readers, same schema checks, same
field maps) but, instead of writing studies, counts each source leaf under its generic path
(`/protocolSection/armsInterventionsModule/armGroups/*/label`, `/clinical_study/location/facility/name`):
how many records had it, how many values, how many of them the field map used, and why the others were not.
`trialbridge coverage INPUT... [--json FILE]` renders it (`render_text()` / `to_dict()`).

Only structured formats have source paths (ClinicalTrials.gov API v2 JSON and legacy XML); files of other
formats are counted by record (converted / refused) without rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from converters.fieldmap import FieldMap, MapResult, iter_leaves
from converters.pipeline import iter_input_files, load_document, unrecognised_input
from converters.problems import Location, Problem, Severity
from converters.readers import ReaderConfig, SourceDocument, choose_reader, discover_readers
from converters.readers.ctgov_v2 import READER as V2_READER
from converters.readers.ctgov_v2.jsonstream import RecordError, detect_form, iter_records
from converters.readers.ctgov_v2.record import V2RecordConverter
from converters.readers.ctgov_v2.zipstream import Member, MemberProblem, is_zip, iter_members
from converters.readers.ctgov_xml import READER as XML_READER
from converters.readers.ctgov_xml import ROOT as XML_ROOT
from converters.readers.ctgov_xml import XmlRecordConverter
from converters.readers.textio import decode_text
from converters.resources import Resources


@dataclass
class CoverageRow:
    """One generic source path."""

    format: str
    path: str
    records: int = 0  # records that had at least one value here
    values: int = 0
    mapped_values: int = 0
    reasons: Counter[str] = field(default_factory=Counter)  # why values here were not used

    @property
    def status(self) -> str:
        if self.mapped_values == self.values:
            return "mapped"
        return "unmapped" if self.mapped_values == 0 else "partly"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": self.format, "path": self.path, "records": self.records, "values": self.values,
            "mapped_values": self.mapped_values, "status": self.status,
        }
        if self.reasons:
            out["reason"] = self.reasons.most_common(1)[0][0]
        return out


@dataclass
class FormatCount:
    converted: int = 0
    refused: int = 0


@dataclass
class CoverageReport:
    rows: list[CoverageRow] = field(default_factory=list)
    files: int = 0
    records: dict[str, FormatCount] = field(default_factory=dict)  # by reader format
    problems: list[Problem] = field(default_factory=list)  # file-level and refusal problems

    def totals(self) -> dict[str, Any]:
        mapped = sum(1 for r in self.rows if r.status == "mapped")
        partly = sum(1 for r in self.rows if r.status == "partly")
        protocol = [r for r in self.rows if r.path.startswith("/protocolSection/")]
        return {
            "paths": len(self.rows),
            "mapped_paths": mapped,
            "partly_mapped_paths": partly,
            "unmapped_paths": len(self.rows) - mapped - partly,
            "values": sum(r.values for r in self.rows),
            "mapped_values": sum(r.mapped_values for r in self.rows),
            "protocol_section_paths": len(protocol),
            "protocol_section_mapped_paths": sum(1 for r in protocol if r.status == "mapped"),
        }

    def to_dict(self) -> dict[str, Any]:
        """The report as data (`--json`): deterministic ordering, no timestamps."""
        return {
            "files": self.files,
            "records": {fmt: {"converted": c.converted, "refused": c.refused}
                        for fmt, c in sorted(self.records.items())},
            "totals": self.totals(),
            "rows": [row.to_dict() for row in self.rows],
            "problems": [p.model_dump(mode="json", exclude_none=True) for p in self.problems],
        }

    def render_text(self) -> str:
        """A plain table for terminals: one line per path, then the totals."""
        lines = [f"{'status':9} {'records':>7} {'values':>7} {'mapped':>7}  path"]
        for row in self.rows:
            note = f"  ({row.reasons.most_common(1)[0][0]})" if row.reasons else ""
            lines.append(f"{row.status:9} {row.records:7d} {row.values:7d} {row.mapped_values:7d}  "
                         f"{row.format}:{row.path}{note}")
        totals = self.totals()
        lines.append("")
        lines.append(f"paths: {totals['mapped_paths']} of {totals['paths']} mapped, "
                     f"{totals['partly_mapped_paths']} partly; values: {totals['mapped_values']} of "
                     f"{totals['values']} mapped")
        for fmt, count in sorted(self.records.items()):
            lines.append(f"{fmt}: {count.converted} records read, {count.refused} refused")
        return "\n".join(lines) + "\n"


class _Tally:
    """Accumulates leaves per (format, generic path)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], CoverageRow] = {}

    def record(self, fmt: str, field_map: FieldMap, root: Any, pointer: str, result: MapResult,
               invalid: dict[str, str], known: Callable[[str], bool] | None = None) -> None:
        seen: set[str] = set()
        for ptr, generic in iter_leaves(field_map.adapter, root, pointer, pointer):
            row = self.rows.get((fmt, generic))
            if row is None:
                row = self.rows[(fmt, generic)] = CoverageRow(fmt, generic)
            if generic not in seen:
                seen.add(generic)
                row.records += 1
            row.values += 1
            if result.used(ptr):
                row.mapped_values += 1
            else:
                row.reasons[field_map.reason_for(ptr, generic, result.rejected, invalid, known)] += 1

    def sorted_rows(self) -> list[CoverageRow]:
        return [self.rows[key] for key in sorted(self.rows)]


def coverage(paths: Iterable[Path], resources: Resources) -> CoverageReport:
    """Coverage over every record of every input (see the module docstring); inputs are found, loaded and
    recognised as `convert` does it."""
    report = CoverageReport()
    tally = _Tally()
    readers = discover_readers()
    config = ReaderConfig(resources=resources)
    for path, missing in iter_input_files(paths):
        if missing is not None:
            report.problems.append(missing)
            continue
        report.files += 1
        doc = load_document(path, config.max_bytes)
        if isinstance(doc, Problem):
            report.problems.append(doc)
            continue
        reader = choose_reader(doc, readers)
        if reader is None:
            report.problems.append(unrecognised_input(doc, None))
            continue
        if reader.name in (V2_READER.name, XML_READER.name):
            _structured(doc, config, tally, report)
        else:
            _by_record(reader.name, reader.read(doc, config), report)
    report.rows = tally.sorted_rows()
    return report


def _count(report: CoverageReport, fmt: str, converted: bool, problems: Iterable[Problem] = ()) -> None:
    counts = report.records.setdefault(fmt, FormatCount())
    if converted:
        counts.converted += 1
    else:
        counts.refused += 1
        report.problems.extend(problems)


def _by_record(fmt: str, outcomes: Iterable[Any], report: CoverageReport) -> None:
    for outcome in outcomes:
        if outcome.study is not None:
            _count(report, fmt, True)
        elif any(p.severity in (Severity.ERROR, Severity.FATAL) for p in outcome.problems):
            _count(report, fmt, False, outcome.problems)
        else:
            report.problems.extend(outcome.problems)


def _structured(doc: SourceDocument, config: ReaderConfig, tally: _Tally, report: CoverageReport) -> None:
    v2: V2RecordConverter = V2_READER.converter(config.resources)
    xml: XmlRecordConverter = XML_READER.converter(config.resources)
    if is_zip(doc.data):
        for member in iter_members(doc.data, doc.name, config.max_bytes, config.max_expanded_bytes):
            if isinstance(member, MemberProblem):
                if member.problem.severity in (Severity.ERROR, Severity.FATAL):
                    _count(report, "ctgov-zip", False, [member.problem])
                continue
            _one_document(member, doc, v2, xml, tally, report)
        return
    _one_document(Member(doc.name, doc.data), doc, v2, xml, tally, report)


def _one_document(member: Member, doc: SourceDocument, v2: V2RecordConverter, xml: XmlRecordConverter,
                  tally: _Tally, report: CoverageReport) -> None:
    if member.data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        root = xml.parse(member.data, doc.name, member.name)
        if isinstance(root, Problem):
            _count(report, XML_READER.name, False, [root])
            return
        pointer = f"/{XML_ROOT}"
        xml_result = xml.map_root(root, lambda p: Location(file=doc.name, path=p))
        tally.record(XML_READER.name, xml.field_map, root, pointer, xml_result, {})
        _count(report, XML_READER.name, True)
        return
    decoded = decode_text(member.data, doc.name)
    if isinstance(decoded, Problem):
        _count(report, V2_READER.name, False, [decoded])
        return
    form = detect_form(decoded.text)
    if isinstance(form, RecordError):
        _count(report, V2_READER.name, False)
        return
    for raw in iter_records(decoded.text, form):
        value = raw.value
        if isinstance(value, RecordError) or not isinstance(value, dict) or "protocolSection" not in value:
            _count(report, V2_READER.name, False)
            continue
        result, invalid, problems = v2.map_record(value, lambda p: Location(file=doc.name, path=p))
        if result is None:
            _count(report, V2_READER.name, False, problems)
            continue
        tally.record(V2_READER.name, v2.field_map, value, "", result, invalid, v2.is_known)
        _count(report, V2_READER.name, True)
