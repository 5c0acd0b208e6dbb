"""What a `convert` run is asked to do and what it learns: options, per-record and per-file results, the run
report, and `report.json` written as the files come (so a run's memory does not grow with its size)."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from converters import __version__, jsonio
from converters.loading import WINDOW_RECORDS
from converters.problem_codes import core
from converters.problems import ExitCode, Problem, Severity, count_by_severity, worst_exit_code

LAYOUTS = ("per-study", "bulk")
REPORT_NAME = "report.json"


@dataclass(frozen=True)
class ConvertOptions:
    """What a `convert` run should do; built by the CLI, passed in (no global state).

    `layout`: `per-study` writes a folder per study; `bulk` writes one file per output kind for all studies
    (study.ndjson, FHIR NDJSON per resource type, SDTM tables concatenated by STUDYID). `jobs`: worker processes
    (1 converts in this process); the output is the same, byte for byte, for any number."""

    out_dir: Path
    targets: tuple[str, ...] = ()  # writer targets beside the canonical study.json
    forced_format: str | None = None
    max_bytes: int = 100 * 1024 * 1024
    max_records: int | None = None
    writer_options: dict[str, str] = field(default_factory=dict)
    validate_outputs: bool = True
    layout: str = "per-study"
    jobs: int = 1
    archive_window: int = WINDOW_RECORDS  # a ZIP with more members is converted this many members at a time (0: never)
    ndjson_window: int = WINDOW_RECORDS  # an NDJSON file with more records is converted this many at a time (0: never)
    tune_gc: bool = False  # tune the garbage collector of the converting process (the command line does)

    @property
    def bulk(self) -> bool:
        return self.layout == "bulk"

    def recorded(self) -> dict[str, Any]:
        """The options that decide what a run writes, for `report.json`: not the output folder nor the number of
        jobs or windows, which change where and how fast, never the bytes (a report is the same for any)."""
        return {
            "targets": list(self.targets),
            "forced_format": self.forced_format,
            "layout": self.layout,
            "writer_options": dict(sorted(self.writer_options.items())),
            "max_bytes": self.max_bytes,
            "max_records": self.max_records,
            "validate_outputs": self.validate_outputs,
        }


@dataclass
class RecordResult:
    record: str | None
    study_id: str | None = None
    output_dir: str | None = None
    fields_mapped: int = 0
    units_used: int = 0  # lines (pages) or leaf values (records) used
    units_total: int = 0
    unit: str = "lines"
    outputs: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def share_used(self) -> float | None:
        return self.units_used / self.units_total if self.units_total else None

    @property
    def written(self) -> bool:
        """Whether the study was written (its folder, or its lines in the bulk files)."""
        return bool(self.output_dir or self.outputs)


@dataclass
class FileResult:
    file: str
    format: str | None = None
    layout: str | None = None
    encoding: str | None = None
    records: list[RecordResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def all_problems(self) -> list[Problem]:
        out = list(self.problems)
        for record in self.records:
            out.extend(record.problems)
        return out

    @property
    def exit_code(self) -> ExitCode:
        return worst_exit_code(self.all_problems())

    @property
    def skipped(self) -> bool:
        """Whether the file was skipped as not a study (found in a folder walk; `input-not-a-study-skipped`)."""
        return any(p.code == core.INPUT_NOT_A_STUDY_SKIPPED.code for p in self.problems)


@dataclass
class RunReport:
    """The run's results. Totals are counted as files arrive; `files` keeps every file's result only when the
    run was asked to (`keep_files`), since a registry-sized run must not hold them all."""

    files: list[FileResult] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)  # cross-study outputs written by writers' finish()
    problems: list[Problem] = field(default_factory=list)  # run-level problems
    file_count: int = 0
    unusable_count: int = 0
    skipped_count: int = 0  # files found in a folder walk that are not studies (listed, not converted)
    record_count: int = 0
    studies_count: int = 0
    file_codes: ExitCode = ExitCode.OK
    problem_counts: Counter[str] = field(default_factory=Counter)
    run: dict[str, Any] = field(default_factory=dict)  # what the run was asked: its inputs and options

    def add(self, result: FileResult, keep: bool = True) -> None:
        """Count one file's result (and keep it, if asked)."""
        self.file_count += 1
        code = result.exit_code
        self.unusable_count += code is ExitCode.UNUSABLE_INPUT
        self.skipped_count += result.skipped
        self.record_count += len(result.records)
        self.studies_count += sum(1 for r in result.records if r.written)
        self.file_codes = max(self.file_codes, code)
        self.problem_counts.update(count_by_severity(result.all_problems()))
        if keep:
            self.files.append(result)

    @property
    def exit_code(self) -> ExitCode:
        return max(self.file_codes, worst_exit_code(self.problems))

    def studies_written(self) -> int:
        return self.studies_count

    def severity_counts(self) -> dict[str, int]:
        """Problems of the whole run by severity, in the order `count_by_severity` gives them."""
        counts = Counter(self.problem_counts)
        counts.update(count_by_severity(self.problems))
        return {s.value: counts.get(s.value, 0) for s in Severity}

    def to_dict(self, files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The run report as data (`report.json`): deterministic, no timestamps."""
        return {
            "tool": {"name": "trialbridge", "version": __version__},
            "command": "convert",
            "exit_code": int(self.exit_code),
            "run": self.run,
            "totals": {
                "files": self.file_count,
                "files_unusable": self.unusable_count,
                "files_skipped": self.skipped_count,
                "studies_written": self.studies_count,
                "problems": self.severity_counts(),
            },
            "files": [file_to_dict(f) for f in self.files] if files is None else files,
            "outputs": self.outputs,
            "problems": problems_data(self.problems),
        }


def problems_data(problems: list[Problem]) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json", exclude_none=True) for p in problems]


def file_to_dict(result: FileResult) -> dict[str, Any]:
    return {
        "file": result.file,
        "format": result.format,
        "layout": result.layout,
        "encoding": result.encoding,
        "problems": problems_data(result.problems),
        "records": [
            {
                "record": r.record,
                "study_id": r.study_id,
                "output_dir": r.output_dir,
                "fields_mapped": r.fields_mapped,
                "used": {"unit": r.unit, "used": r.units_used, "total": r.units_total},
                "outputs": r.outputs,
                "problems": problems_data(r.problems),
            }
            for r in result.records
        ],
    }


def _dumps(data: Any) -> str:
    return jsonio.dumps_text(data).removesuffix("\n")


class ReportStream:
    """`report.json`, written as the run goes: each file's entry is appended to a side file when it arrives,
    and `close` writes the report around them. The bytes are those of dumping the whole report at once."""

    _FILES_KEY = '\n  "files": [],\n'

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / REPORT_NAME
        self._part = out_dir / ".report.files.part"
        self._handle: IO[str] = self._part.open("w", encoding="utf-8")
        self._count = 0

    def add(self, result: FileResult) -> None:
        entry = _dumps(file_to_dict(result)).replace("\n", "\n    ")
        self._handle.write((",\n    " if self._count else "    ") + entry)
        self._count += 1

    def close(self, report: RunReport) -> Path:
        self._handle.close()
        whole = _dumps(report.to_dict(files=[])) + "\n"
        head, _, tail = whole.partition(self._FILES_KEY)
        with self.path.open("w", encoding="utf-8") as out:
            out.write(head)
            if self._count:
                out.write('\n  "files": [\n')
                with self._part.open(encoding="utf-8") as part:
                    while chunk := part.read(1 << 20):
                        out.write(chunk)
                out.write("\n  ],\n")
            else:
                out.write(self._FILES_KEY)
            out.write(tail)
        os.unlink(self._part)
        return self.path
