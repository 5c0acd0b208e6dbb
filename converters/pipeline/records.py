"""One unit of work: an input file converted record by record, its outputs written where they wait for their
final names (a staging folder per study), and everything learnt returned as data (`UnitResult`).

A unit never decides a study's final folder: two files may hold the same study, and which one keeps the plain
name depends on the order of the whole run. The run (`converters.pipeline.run`) takes units' results in input
order and commits them (`commit.py`), so the output is the same whichever process converted which unit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

from converters.loading import SourceDocument, load_document
from converters.model import Study
from converters.model.provenance import text_line_usage
from converters.pipeline.results import ConvertOptions, FileResult, RecordResult
from converters.problem_codes import core
from converters.problems import ExitCode, Location, Problem, worst_exit_code
from converters.readers import Reader, ReaderConfig, ReadOutcome, choose_reader, discover_readers, unrecognised_input
from converters.readers.base import archive_suffixes
from converters.resources import Resources
from converters.targets import CANONICAL_TARGET, Writer, WriterConfig, WriteResult, find_targets
from converters.targets.study import StudyWriter

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
STAGING = ".trialbridge-staging"


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


def folder_base(study: Study) -> str:
    """A filesystem-safe folder name for the study: its registry id, else the source file and record."""
    base = study.registry_id()
    if not base:
        stem = Path(study.source.file).stem
        base = f"{stem}-{study.source.record}" if study.source.record else stem
    return _UNSAFE.sub("_", base).strip("._") or "study"


def unique_name(base: str, taken: set[str]) -> str:
    """`base`, or `base--2`, `base--3`... : the first not taken yet (and now taken)."""
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base}--{n}"
        n += 1
    taken.add(candidate)
    return candidate


def study_folder_name(study: Study, taken: set[str]) -> str:
    """A deterministic, filesystem-safe folder name: the registry id, else the source file and record."""
    return unique_name(folder_base(study), taken)


@dataclass(frozen=True)
class Staged:
    """Where one record's per-study outputs wait: `staging` (relative to the output folder) until the commit
    moves it to the final folder, named from `base`."""

    record: int  # index into FileResult.records
    base: str
    staging: str


@dataclass(frozen=True)
class Shared:
    """A record's contribution to a run-level output (a bulk file, concatenated tables), for `target`'s writer
    in the committing process."""

    record: int
    target: str
    payload: Any


@dataclass
class UnitResult:
    """Everything one unit produced: the file's result, the staged study folders and the shared payloads."""

    index: int
    file: FileResult
    staged: list[Staged] = field(default_factory=list)
    shared: list[Shared] = field(default_factory=list)
    part: int = 0  # a window of an archive: which of how many (the file is reported when its last part is in)
    parts: int = 1
    size: int = 0  # bytes of input the unit stood for (the progress bar's estimate)


@dataclass
class ConvertContext:
    """Everything built once per process: readers, the canonical study's writer, the other targets' writers."""

    options: ConvertOptions
    resources: Resources
    readers: dict[str, Reader]
    writers: list[Writer]
    canonical: StudyWriter
    taken_names: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, options: ConvertOptions, resources: Resources) -> ConvertContext:
        chosen = [t for t in options.targets if t != CANONICAL_TARGET]
        targets = find_targets(chosen)  # only the targets written are imported
        config = WriterConfig(resources=resources, options=writer_options(options))
        writers = [targets[t].writers[t](config) for t in chosen]
        return cls(options, resources, discover_readers(), writers, StudyWriter(config))

    @cached_property
    def archive_suffixes(self) -> tuple[str, ...]:
        """The member suffixes some reader declares: the members of an archive that hold records (asked for every
        input file when the run is planned, so found once)."""
        return tuple(sorted({s for reader in self.readers.values() for s in archive_suffixes(reader)}))

    @property
    def staging_root(self) -> Path:
        return self.options.out_dir / STAGING


def writer_options(options: ConvertOptions) -> dict[str, str]:
    """The writers' options, with what the bulk layout implies (FHIR NDJSON, SDTM concatenated)."""
    chosen = dict(options.writer_options)
    if options.bulk:
        chosen["layout"] = "bulk"
        chosen.setdefault("sdtm_layout", "concatenated")
        if chosen["sdtm_layout"] == "per-study":
            chosen["sdtm_layout"] = "concatenated"
    return chosen


def convert_unit(index: int, path: Path, ctx: ConvertContext) -> UnitResult:
    """Convert one input file: every record in it, as far as each can go (nothing here raises)."""
    loaded = load_document(path, ctx.options.max_bytes)
    if isinstance(loaded, Problem):
        return UnitResult(index, FileResult(file=str(path), problems=[loaded]))
    return convert_loaded(index, loaded, ctx)


def skipped_if_not_a_study(result: FileResult) -> FileResult:
    """A file found walking a folder that no reader recognises is not a study (a README, a manifest, a schema
    beside the records): it is skipped and listed with the reason, so that it does not fail the folder's run.
    Named on the command line, the same file keeps its fatal problem (the caller decides which it was)."""
    if result.records or [p.code for p in result.problems] != [core.INPUT_FORMAT_UNKNOWN.code]:
        return result
    refused = result.problems[0]
    result.problems = [core.INPUT_NOT_A_STUDY_SKIPPED(refused.location, reason=refused.message)]
    return result


def convert_loaded(index: int, loaded: SourceDocument, ctx: ConvertContext) -> UnitResult:
    """Convert one loaded document (its name stands for the file in every report and output)."""
    unit = UnitResult(index, FileResult(file=loaded.name))
    result = unit.file
    reader = choose_reader(loaded, ctx.readers, ctx.options.forced_format)
    if reader is None:
        result.problems.append(unrecognised_input(loaded, ctx.options.forced_format, ctx.resources))
        return unit
    result.format = reader.name
    config = ReaderConfig(resources=ctx.resources, max_bytes=ctx.options.max_bytes,
                          max_records=ctx.options.max_records)
    try:
        for outcome in reader.read(loaded, config):
            if _is_note(outcome):
                result.problems.extend(outcome.problems)
                continue
            record = RecordResult(record=outcome.record, problems=list(outcome.problems))
            result.records.append(record)
            if outcome.study is not None:
                result.layout = result.layout or outcome.study.source.layout
                result.encoding = result.encoding or outcome.study.source.encoding
                _stage_study(outcome.study, record, len(result.records) - 1, unit, ctx)
    except Exception as exc:
        result.problems.append(core.READER_FAILED(Location(file=loaded.name), reader=reader.name,
                                                  reason=f"{type(exc).__name__}: {exc}"))
    return unit


def _is_note(outcome: ReadOutcome) -> bool:
    """An outcome with no study and nothing wrong enough to refuse one (an API page's `nextPageToken`, an empty
    page, a ZIP member skipped, a stop at --max-records) is a note about the file, not a refused record."""
    return outcome.study is None and bool(outcome.problems) and worst_exit_code(outcome.problems) is ExitCode.OK


def _stage_study(study: Study, record: RecordResult, index: int, unit: UnitResult, ctx: ConvertContext) -> None:
    """Check the canonical study, then write every target's outputs: per-study files into a staging folder,
    bulk contributions as shared payloads."""
    record.problems.extend(study.problems)
    record.study_id = study.registry_id()
    record.fields_mapped = len(study.provenance)
    record.units_used, record.units_total, record.unit = usage_of(study)
    # the canonical study is checked before it is written: every other target is written from it
    document, invalid = ctx.canonical.document(study)
    if invalid:
        record.problems.extend(invalid)
        return
    staging = f"{STAGING}/{unit.index}-{index}"  # one folder a study: no unit folder to make and remove
    study_dir = ctx.options.out_dir / staging
    where = Location(file=study.source.file, record=record.study_id)
    if ctx.options.bulk:
        unit.shared.append(Shared(index, CANONICAL_TARGET, ctx.canonical.line(document)))
    else:
        written = ctx.canonical.write_document(document, study, study_dir)
        record.problems.extend(written.problems)
        if not written.files:
            return
        unit.staged.append(Staged(index, folder_base(study), staging))
        record.outputs.extend(_relative(p, ctx.options.out_dir) for p in written.files)
    for writer in ctx.writers:
        step = partial(writer.write_study, study, study_dir)
        done = _write_then_validate(writer.target, step, where, record.outputs, ctx.options.out_dir,
                                    ctx.options.validate_outputs)
        record.problems.extend(done.problems)
        unit.shared.extend(Shared(index, writer.target, payload) for payload in done.shared)


def _write_then_validate(target: str, write: Callable[[], WriteResult], where: Location, outputs: list[str],
                         out_dir: Path, validate: bool) -> WriteResult:
    """One writer step of a target (a study's `write_study`, or the run's `finish`), then its checks of what it
    wrote (not with --no-validate).

    The files written are added to `outputs` (relative to `out_dir`); the problems of both steps are returned, the
    writer's first, with the writer's shared payloads. A writer or a check that raises is reported, and the run
    goes on."""
    try:
        written = write()
    except Exception as exc:
        return WriteResult(problems=[core.WRITER_FAILED(where, writer=target, reason=f"{type(exc).__name__}: {exc}")])
    outputs.extend(_relative(p, out_dir) for p in written.files)
    done = WriteResult(problems=list(written.problems), shared=list(written.shared))
    if not validate:
        return done
    try:
        done.problems += written.run_checks()
    except Exception as exc:
        done.problems.append(core.WRITER_FAILED(where, writer=target, reason=f"{type(exc).__name__}: {exc}"))
    return done


def run_finish(writer: Writer, out_dir: Path, validate: bool, outputs: list[str]) -> list[Problem]:
    """A writer's run-level outputs (`finish`), then their checks, reported like a study's."""
    step = partial(writer.finish, out_dir)
    return _write_then_validate(writer.target, step, Location(), outputs, out_dir, validate).problems


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
