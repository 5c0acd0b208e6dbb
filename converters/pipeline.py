"""The conversion pipeline: input files -> readers -> canonical Study -> writers, with a run report.

Each file is converted independently (`convert_file`), so a bad file never stops a batch and the work can
later be spread over processes. Everything the run learns is returned as data (`RunReport`); the CLI only
renders it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from converters import __version__, jsonio
from converters.loading import SourceDocument, iter_input_files, load_document
from converters.model import Study
from converters.model.provenance import text_line_usage
from converters.problem_codes import core
from converters.problems import ExitCode, Location, Problem, count_by_severity, worst_exit_code
from converters.readers import Reader, ReaderConfig, choose_reader, discover_readers, unrecognised_input
from converters.resources import Resources
from converters.targets import CANONICAL_TARGET, Writer, WriterConfig, WriteResult, discover_writers
from converters.targets.study import StudyWriter

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ConvertOptions:
    """What a `convert` run should do; built by the CLI, passed in (no global state)."""

    out_dir: Path
    targets: tuple[str, ...] = ()  # writer targets beside the canonical study.json
    forced_format: str | None = None
    max_bytes: int = 100 * 1024 * 1024
    max_records: int | None = None
    writer_options: dict[str, str] = field(default_factory=dict)
    validate_outputs: bool = True


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


@dataclass
class RunReport:
    files: list[FileResult] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)  # cross-study outputs written by writers' finish()
    problems: list[Problem] = field(default_factory=list)  # run-level problems

    @property
    def exit_code(self) -> ExitCode:
        codes = [f.exit_code for f in self.files] + [worst_exit_code(self.problems)]
        return max(codes, default=ExitCode.OK)

    def studies_written(self) -> int:
        return sum(1 for f in self.files for r in f.records if r.output_dir)

    def to_dict(self) -> dict[str, Any]:
        """The run report as data (`report.json`): deterministic, no timestamps."""
        all_problems = [p for f in self.files for p in f.all_problems()] + self.problems
        return {
            "tool": {"name": "trialbridge", "version": __version__},
            "exit_code": int(self.exit_code),
            "totals": {
                "files": len(self.files),
                "files_unusable": sum(1 for f in self.files if f.exit_code is ExitCode.UNUSABLE_INPUT),
                "studies_written": self.studies_written(),
                "problems": count_by_severity(all_problems),
            },
            "files": [_file_to_dict(f) for f in self.files],
            "outputs": self.outputs,
            "problems": _problems_data(self.problems),
        }


def _problems_data(problems: list[Problem]) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json", exclude_none=True) for p in problems]


def _file_to_dict(result: FileResult) -> dict[str, Any]:
    return {
        "file": result.file,
        "format": result.format,
        "layout": result.layout,
        "encoding": result.encoding,
        "problems": _problems_data(result.problems),
        "records": [
            {
                "record": r.record,
                "study_id": r.study_id,
                "output_dir": r.output_dir,
                "fields_mapped": r.fields_mapped,
                "used": {"unit": r.unit, "used": r.units_used, "total": r.units_total},
                "outputs": r.outputs,
                "problems": _problems_data(r.problems),
            }
            for r in result.records
        ],
    }


# --- per-study bookkeeping ---------------------------------------------------------------------------


def usage_of(study: Study) -> tuple[int, int, str]:
    """How much of the source the study used: (used, total, unit).

    Pages: non-blank lines minus those the reader listed as unused (`text_line_usage`).
    Structured records: mapped leaf values vs mapped plus unmapped ones.
    """
    text_usage = text_line_usage(study)
    if text_usage is not None:
        return text_usage[0], text_usage[1], "lines"
    mapped = len(study.provenance)
    unmapped = sum(1 for span in study.unmapped if span.pointer is not None)
    return mapped, mapped + unmapped, "values"


def study_folder_name(study: Study, taken: set[str]) -> str:
    """A deterministic, filesystem-safe folder name: the registry id, else the source file and record."""
    base = study.registry_id()
    if not base:
        stem = Path(study.source.file).stem
        base = f"{stem}-{study.source.record}" if study.source.record else stem
    name = _UNSAFE.sub("_", base).strip("._") or "study"
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name}--{n}"
        n += 1
    taken.add(candidate)
    return candidate


# --- the run -----------------------------------------------------------------------------------------


@dataclass
class ConvertContext:
    """Everything built once per run: readers, the canonical study's writer, the other targets' writers."""

    options: ConvertOptions
    resources: Resources
    readers: dict[str, Reader]
    writers: list[Writer]
    canonical: StudyWriter
    taken_names: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, options: ConvertOptions, resources: Resources) -> ConvertContext:
        factories = discover_writers()
        config = WriterConfig(resources=resources, options=options.writer_options)
        writers = [factories[t](config) for t in options.targets if t != CANONICAL_TARGET]
        return cls(options, resources, discover_readers(), writers, StudyWriter(config))


def convert_file(path: Path, ctx: ConvertContext) -> FileResult:
    """Convert one input file: every record in it, as far as each can go."""
    loaded = load_document(path, ctx.options.max_bytes)
    if isinstance(loaded, Problem):
        return FileResult(file=str(path), problems=[loaded])
    return convert_document(loaded, ctx)


def convert_document(loaded: SourceDocument, ctx: ConvertContext) -> FileResult:
    """Convert one loaded document (its name stands for the file in every report and output)."""
    path = loaded.name
    result = FileResult(file=path)
    reader = choose_reader(loaded, ctx.readers, ctx.options.forced_format)
    if reader is None:
        result.problems.append(unrecognised_input(loaded, ctx.options.forced_format))
        return result
    result.format = reader.name
    config = ReaderConfig(resources=ctx.resources, max_bytes=ctx.options.max_bytes,
                          max_records=ctx.options.max_records)
    try:
        for outcome in reader.read(loaded, config):
            record = RecordResult(record=outcome.record, problems=list(outcome.problems))
            if outcome.study is not None:
                result.layout = result.layout or outcome.study.source.layout
                result.encoding = result.encoding or outcome.study.source.encoding
                _write_study(outcome.study, record, ctx)
            result.records.append(record)
    except Exception as exc:
        result.problems.append(core.READER_FAILED(Location(file=path), reader=reader.name,
                                                  reason=f"{type(exc).__name__}: {exc}"))
    return result


def _write_study(study: Study, record: RecordResult, ctx: ConvertContext) -> None:
    record.problems.extend(study.problems)
    record.study_id = study.registry_id()
    record.fields_mapped = len(study.provenance)
    record.units_used, record.units_total, record.unit = usage_of(study)
    # the canonical study is checked before it is written: every other target is written from it
    document, invalid = ctx.canonical.document(study)
    if invalid:
        record.problems.extend(invalid)
        return
    folder_name = study_folder_name(study, ctx.taken_names)
    study_dir = ctx.options.out_dir / folder_name
    written = ctx.canonical.write_document(document, study, study_dir)
    record.problems.extend(written.problems)
    if not written.files:
        return
    record.output_dir = folder_name
    record.outputs.extend(_relative(p, ctx.options.out_dir) for p in written.files)
    where = Location(file=study.source.file, record=record.study_id)
    for writer in ctx.writers:
        step = partial(writer.write_study, study, study_dir)
        record.problems.extend(_write_then_validate(writer.target, step, where, record.outputs, ctx))


def _write_then_validate(target: str, write: Callable[[], WriteResult], where: Location, outputs: list[str],
                         ctx: ConvertContext) -> list[Problem]:
    """One writer step of a target, then its checks of what it wrote (not with --no-validate).

    The files written are added to `outputs`; the problems of both steps are returned, the writer's first. A
    writer or a check that raises is reported, and the run goes on."""
    try:
        written = write()
    except Exception as exc:
        return [core.WRITER_FAILED(where, writer=target, reason=f"{type(exc).__name__}: {exc}")]
    outputs.extend(_relative(p, ctx.options.out_dir) for p in written.files)
    if not ctx.options.validate_outputs:
        return written.problems
    try:
        return [*written.problems, *written.run_checks()]
    except Exception as exc:
        return [*written.problems, core.WRITER_FAILED(where, writer=target, reason=f"{type(exc).__name__}: {exc}")]


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def convert(
    inputs: Iterable[Path],
    options: ConvertOptions,
    resources: Resources,
    on_file: Callable[[FileResult], None] | None = None,
) -> RunReport:
    """Convert every input file; report progress per file through `on_file`; write `report.json`."""
    ctx = ConvertContext.build(options, resources)
    report = RunReport()
    options.out_dir.mkdir(parents=True, exist_ok=True)
    for path, missing in iter_input_files(inputs):
        result = FileResult(file=str(path), problems=[missing]) if missing else convert_file(path, ctx)
        report.files.append(result)
        if on_file:
            on_file(result)
    for writer in ctx.writers:
        step = partial(writer.finish, options.out_dir)
        report.problems.extend(_write_then_validate(writer.target, step, Location(), report.outputs, ctx))
    report_path = options.out_dir / "report.json"
    report_path.write_bytes(jsonio.dumps(report.to_dict()))
    return report
