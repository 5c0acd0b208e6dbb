"""Field coverage of structured registry records: per source path, how many records had it, and is it mapped.

`coverage(paths, resources)` reads every input the way `convert` does (same readers, same schema checks, same
field maps) but, instead of writing studies, counts each source leaf under its generic path
(`/protocolSection/armsInterventionsModule/armGroups/*/label`, `/clinical_study/location/facility/name`):
how many records had it, how many values, how many of them the field map used, and why the others were not.
`trialbridge coverage INPUT... [--json] [--json-file FILE]` renders it (`render_text()` / `to_dict()`).

Only structured formats have source paths: their readers define `source_use` (see `readers/base.py`; today
ClinicalTrials.gov API v2 JSON and legacy XML). Files of other formats are counted by record (converted /
refused) without rows. Archives are opened as `convert` opens them, and each member counted as a file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from converters.loading import (
    WINDOW_RECORDS,
    FileWindow,
    MemberProblem,
    SourceDocument,
    file_windows,
    iter_input_files,
    load_document,
    window_document,
)
from converters.problem_codes import core
from converters.problems import Problem, Severity
from converters.readers import (
    ArchiveReader,
    Reader,
    ReaderConfig,
    ReadOutcome,
    SourcePaths,
    archive_suffixes,
    choose_reader,
    discover_readers,
    unrecognised_input,
)
from converters.resources import Resources

WINDOW = WINDOW_RECORDS  # records of a large ZIP or NDJSON file counted at a time: `convert`'s default windows
ARCHIVE_ROW = "ctgov-zip"  # the format archive-level refusals (unsafe, damaged, too large members) count under


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
            lines.append(f"{fmt}: {count.converted} record{'' if count.converted == 1 else 's'} read, "
                         f"{count.refused} refused")
        return "\n".join(lines) + "\n"


class _Tally:
    """Accumulates leaves per (format, generic path)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], CoverageRow] = {}

    def record(self, fmt: str, leaves: Iterable[tuple[str, str | None]]) -> None:
        """One record's leaves: (generic path, None when used, else why not)."""
        seen: set[str] = set()
        for generic, reason in leaves:
            row = self.rows.get((fmt, generic))
            if row is None:
                row = self.rows[(fmt, generic)] = CoverageRow(fmt, generic)
            if generic not in seen:
                seen.add(generic)
                row.records += 1
            row.values += 1
            if reason is None:
                row.mapped_values += 1
            else:
                row.reasons[reason] += 1

    def sorted_rows(self) -> list[CoverageRow]:
        return [self.rows[key] for key in sorted(self.rows)]


@dataclass(frozen=True)
class CoverageInput:
    """One piece of work: an input file, a window of a large ZIP or NDJSON file (read by the worker itself, as
    `convert` reads it), or a path that does not exist."""

    path: Path
    missing: Problem | None = None
    first: bool = True  # the file's first piece: the one that counts it
    size: int = 0  # bytes, for the progress estimate
    window: FileWindow | None = None
    found: bool = False  # found walking a folder, not named: skipped (listed) when it is not a study


@dataclass
class CoveragePart:
    """What one piece of work found: a report without rows, and its rows by (format, path) before sorting."""

    report: CoverageReport
    rows: dict[tuple[str, str], CoverageRow]
    size: int = 0

    @property
    def record_count(self) -> int:
        return sum(c.converted + c.refused for c in self.report.records.values())


def coverage(paths: Iterable[Path], resources: Resources) -> CoverageReport:
    """Coverage over every record of every input (see the module docstring); inputs are found, loaded and
    recognised as `convert` does it, large archives and NDJSON files a window at a time."""
    paths = list(paths)
    return combine(coverage_part(resources, piece)
                   for piece in coverage_inputs(iter_input_files(paths), named=set(paths)))


def coverage_inputs(files: Iterable[tuple[Path, Problem | None]], named: set[Path] | None = None
                    ) -> Iterator[CoverageInput]:
    """The pieces of work, in input order: each file, or each window of a large ZIP or NDJSON file (planned as
    `convert` plans them, lazily: a large file is read through only when its turn comes). A file not among the
    paths `named` was found walking a folder (with `named` None, every file counts as named)."""
    suffixes = tuple(sorted({s for reader in discover_readers().values() for s in archive_suffixes(reader)}))
    for path, missing in files:
        if missing is not None:
            yield CoverageInput(path, missing)
            continue
        found = named is not None and path not in named
        windows = file_windows(path, WINDOW, WINDOW, suffixes, ReaderConfig.max_bytes)
        if windows is None:
            yield CoverageInput(path, size=_size(path), found=found)
        else:
            yield from (CoverageInput(path, first=k == 0, size=window.size, window=window, found=found)
                        for k, window in enumerate(windows))


def coverage_part(resources: Resources, piece: CoverageInput) -> CoveragePart:
    """Count one piece of work on its own (in a worker process or here); `combine` adds the pieces up."""
    report, tally = CoverageReport(), _Tally()
    if piece.missing is not None:
        report.problems.append(piece.missing)
        return CoveragePart(report, tally.rows)
    report.files = 1 if piece.first else 0
    config = ReaderConfig(resources=resources)
    doc = _document_of(piece, config.max_bytes)
    if isinstance(doc, Problem):
        report.problems.append(doc)
        return CoveragePart(report, tally.rows, piece.size)
    reader = choose_reader(doc, discover_readers())
    if reader is None:
        refused = unrecognised_input(doc, None, resources)
        # as `convert` does: a file found in a folder walk that is not a study is skipped and listed
        skip = piece.found and refused.code == core.INPUT_FORMAT_UNKNOWN.code
        report.problems.append(core.INPUT_NOT_A_STUDY_SKIPPED(refused.location, reason=refused.message) if skip
                               else refused)
    elif isinstance(reader, ArchiveReader):
        _archive(doc, reader, config, tally, report)
    else:
        _document(doc, reader, config, tally, report)
    return CoveragePart(report, tally.rows, piece.size)


def _document_of(piece: CoverageInput, max_bytes: int) -> SourceDocument | Problem:
    if piece.window is not None:
        return window_document(piece.path, piece.window)
    return load_document(piece.path, max_bytes)


def combine(parts: Iterable[CoveragePart], on_part: Callable[[CoveragePart], None] | None = None
            ) -> CoverageReport:
    """The pieces' counts added up in input order: the same report as counting everything in one pass (a
    reason's first appearance, which breaks ties between equally common reasons, is kept)."""
    report, rows = CoverageReport(), _Tally().rows
    for part in parts:
        report.files += part.report.files
        report.problems.extend(part.report.problems)
        for fmt, count in part.report.records.items():
            total = report.records.setdefault(fmt, FormatCount())
            total.converted += count.converted
            total.refused += count.refused
        for key, row in part.rows.items():
            into = rows.get(key)
            if into is None:
                rows[key] = row
                continue
            into.records += row.records
            into.values += row.values
            into.mapped_values += row.mapped_values
            into.reasons.update(row.reasons)
        if on_part is not None:
            on_part(part)
    report.rows = [rows[key] for key in sorted(rows)]
    return report


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _count(report: CoverageReport, fmt: str, converted: bool, problems: Iterable[Problem] = ()) -> None:
    counts = report.records.setdefault(fmt, FormatCount())
    if converted:
        counts.converted += 1
    else:
        counts.refused += 1
        report.problems.extend(problems)


def _archive(doc: SourceDocument, reader: ArchiveReader, config: ReaderConfig, tally: _Tally,
             report: CoverageReport) -> None:
    for item in reader.members(doc, config):
        if isinstance(item, MemberProblem):
            if item.problem.severity in (Severity.ERROR, Severity.FATAL):
                _count(report, ARCHIVE_ROW, False, [item.problem])
            continue
        member, member_reader = item
        if member_reader is None:
            _count(report, ARCHIVE_ROW, False, [unrecognised_input(member, None, config.resources)])
        else:
            _document(member, member_reader, config, tally, report)


def _document(doc: SourceDocument, reader: Reader, config: ReaderConfig, tally: _Tally,
              report: CoverageReport) -> None:
    """Structured formats by source path; the others by record only."""
    if not isinstance(reader, SourcePaths):
        _by_record(reader.name, reader.read(doc, config), report)
        return
    for use in reader.source_use(doc, config):
        if use.leaves is None and not any(p.severity in (Severity.ERROR, Severity.FATAL) for p in use.problems):
            report.problems.extend(use.problems)  # a note about the file, not a refused record (as `_by_record`)
        elif use.leaves is None:
            _count(report, reader.name, False, use.problems)
        else:
            tally.record(reader.name, use.leaves)
            _count(report, reader.name, True)


def _by_record(fmt: str, outcomes: Iterable[ReadOutcome], report: CoverageReport) -> None:
    for outcome in outcomes:
        if outcome.study is not None:
            _count(report, fmt, True)
        elif any(p.severity in (Severity.ERROR, Severity.FATAL) for p in outcome.problems):
            _count(report, fmt, False, outcome.problems)
        else:
            report.problems.extend(outcome.problems)
