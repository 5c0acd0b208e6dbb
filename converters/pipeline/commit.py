"""The committing side of a run: units' results are taken in input order, each staged study folder is moved
to its final name, shared payloads go to the run-level writers, and the file's result is reported.

Only this side names folders and appends to bulk files, and it sees the units in input order, so the output is
the same for any number of workers (and for any engine that hands the results over in order). For the same
reason it is the side that notices what no unit can: a study given twice, and an earlier run's outputs that this
run leaves behind in the output folder."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from converters.pipeline.records import ConvertContext, Staged, UnitResult, run_finish, unique_name
from converters.pipeline.results import REPORT_NAME, FileResult, RecordResult, ReportStream, RunReport
from converters.problem_codes import core, run
from converters.problems import Location, Problem
from converters.targets.study.writer import STUDY_FILE

_EXAMPLES = 5  # names shown in a problem about many files


@dataclass
class Committer:
    """Commits units' results in order into the run's output folder and report."""

    ctx: ConvertContext  # this process's writers: they collect the shared payloads and finish the run
    report: RunReport = field(default_factory=RunReport)
    on_file: Callable[[FileResult], None] | None = None
    stream: ReportStream | None = None
    keep_files: bool = True
    earlier: set[str] = field(default_factory=set)  # an earlier run's entries in the output folder not rewritten yet
    _open_file: FileResult | None = None  # the parts so far of a file converted in windows
    _first_copy: dict[str, str] = field(default_factory=dict)  # registry id -> where the run first met the study
    _kept: list[str] = field(default_factory=list)  # a few files an earlier run left in folders this run rewrote
    _kept_count: int = 0

    def commit(self, unit: UnitResult) -> FileResult:
        result = self._merged(unit)
        out_dir = self.ctx.options.out_dir
        for staged in unit.staged:
            record = result.records[staged.record]
            name = unique_name(staged.base, self.ctx.taken_names)
            problem, kept = _move_tree(out_dir / staged.staging, out_dir / name)
            if problem is not None:
                record.problems.append(problem)
                record.outputs = []
                continue
            record.output_dir = name
            self._note_kept([f"{name}/{file}" for file in kept])
            _rename_in_record(record, staged, name, out_dir)
        writers = {w.target: w for w in [self.ctx.canonical, *self.ctx.writers]}
        for shared in unit.shared:
            record = result.records[shared.record]
            collected = writers[shared.target].collect(shared.payload, out_dir)
            record.problems.extend(collected.problems)
            for path in collected.files:
                rel = path.relative_to(out_dir).as_posix()
                if rel not in record.outputs:
                    record.outputs.append(rel)
        for record in unit.file.records:
            self._check_copy(result.file, record)
            if self.earlier:
                self.earlier.difference_update(_top(path) for path in record.outputs)
        if unit.part + 1 < unit.parts:
            return result
        self._open_file = None
        self.report.add(result, keep=self.keep_files)
        if self.stream is not None:
            self.stream.add(result)
        if self.on_file:
            self.on_file(result)
        return result

    def _merged(self, unit: UnitResult) -> FileResult:
        """The file's result so far: a window's records and problems join those of the windows before it, and
        its record indexes (in `staged` and `shared`) are moved past them."""
        if unit.part == 0 or self._open_file is None:
            self._open_file = unit.file
            return unit.file
        whole, offset = self._open_file, len(self._open_file.records)
        whole.format = whole.format or unit.file.format
        whole.layout = whole.layout or unit.file.layout
        whole.encoding = whole.encoding or unit.file.encoding
        whole.records += unit.file.records
        whole.problems += unit.file.problems
        unit.staged = [replace(s, record=s.record + offset) for s in unit.staged]
        unit.shared = [replace(s, record=s.record + offset) for s in unit.shared]
        return whole

    def _check_copy(self, file: str, record: RecordResult) -> None:
        """A study written a second time in this run (the same registry id) gets a warning saying where the first
        copy came from; both are written."""
        if not record.written or not record.study_id:
            return
        here = file if record.record in (None, record.study_id) else f"{file} ({record.record})"
        first = self._first_copy.get(record.study_id)
        if first is None:
            self._first_copy[record.study_id] = here
            return
        where = f"folder {record.output_dir}" if record.output_dir else "a second entry in the bulk files"
        record.problems.append(run.STUDY_GIVEN_TWICE(Location(file=file, record=record.record or record.study_id),
                                                     study=record.study_id, first=first, where=where))

    def _note_kept(self, files: list[str]) -> None:
        self._kept_count += len(files)
        self._kept.extend(files[: _EXAMPLES - len(self._kept)])

    def stale_outputs(self) -> list[Problem]:
        """What an earlier run left in the output folder that this run did not rewrite: entries of the folder
        (study folders, bulk files), and files inside the study folders it did rewrite."""
        problems = []
        left = sorted(self.earlier)
        if left:
            problems.append(run.OUTPUT_STALE(count=len(left), what="entry" if len(left) == 1 else "entries",
                                             where="", names=_examples(left, len(left))))
        if self._kept_count:
            problems.append(run.OUTPUT_STALE(count=self._kept_count, what="file" if self._kept_count == 1 else "files",
                                             where=" (inside study folders it rewrote)",
                                             names=_examples(self._kept, self._kept_count)))
        return problems

    def finish(self) -> RunReport:
        """The run-level outputs of every writer, then report.json; staging is removed."""
        out_dir = self.ctx.options.out_dir
        for writer in [self.ctx.canonical, *self.ctx.writers]:
            self.report.problems.extend(run_finish(writer, out_dir, self.ctx.options.validate_outputs,
                                                   self.report.outputs))
        self.earlier.difference_update(_top(path) for path in self.report.outputs)
        self.report.problems.extend(self.stale_outputs())
        shutil.rmtree(self.ctx.staging_root, ignore_errors=True)
        if self.stream is not None:
            self.stream.close(self.report)
        return self.report


def earlier_outputs(out_dir: Path) -> set[str]:
    """The entries of `out_dir` when it holds an earlier run's outputs (a report.json or a study folder), else none.

    Taken before the run writes anything: what the run then does not rewrite is left over from the earlier one.
    Hidden entries (the staging folder of an interrupted run) are the run's own business and left out."""
    try:
        names = {path.name for path in out_dir.iterdir() if not path.name.startswith(".")}
    except OSError:  # no folder yet (a folder that cannot be read is reported when the run writes to it)
        return set()
    if REPORT_NAME in names or any((out_dir / name / STUDY_FILE).is_file() for name in names):
        return names - {REPORT_NAME}
    return set()


def _top(path: str) -> str:
    """The entry of the output folder a relative output path is in."""
    return path.split("/", 1)[0]


def _examples(names: list[str], count: int) -> str:
    shown = ", ".join(names[:_EXAMPLES])
    return shown + (f" and {count - _EXAMPLES} more" if count > _EXAMPLES else "")


def _move_tree(source: Path, target: Path) -> tuple[Problem | None, list[str]]:
    """Move a staged folder to its final place; into an existing folder (a run over an old output) file by file.

    Returns the problem that stopped it, and the files (relative, sorted) the existing folder held that the move
    did not replace: an earlier run's, which this run did not write."""
    try:
        try:
            os.rename(source, target)
            return None, []
        except OSError:
            if not target.is_dir():
                raise
        moved: set[Path] = set()
        for folder, _, files in os.walk(source):
            destination = target / Path(folder).relative_to(source)
            destination.mkdir(parents=True, exist_ok=True)
            for name in files:
                os.replace(Path(folder) / name, destination / name)
                moved.add(destination / name)
        shutil.rmtree(source)
    except OSError as exc:
        return core.OUTPUT_WRITE_FAILED(Location(file=str(target)), what=str(target), reason=str(exc)), []
    kept = [Path(folder) / name for folder, _, files in os.walk(target) for name in files]
    return None, sorted(path.relative_to(target).as_posix() for path in kept if path not in moved)


def _rename_in_record(record: RecordResult, staged: Staged, name: str, out_dir: Path) -> None:
    """Paths that named the staging folder (outputs, problems' files and messages) name the final one."""
    relative = (staged.staging + "/", name + "/")
    absolute = (str(out_dir / staged.staging), str(out_dir / name))
    record.outputs = [o.replace(*relative, 1) if o.startswith(relative[0]) else o for o in record.outputs]
    record.problems = [_renamed(p, absolute) for p in record.problems]


def _renamed(problem: Problem, change: tuple[str, str]) -> Problem:
    old, new = change
    file = problem.location.file
    if old not in problem.message and not (file and old in file):
        return problem
    pattern = re.compile(re.escape(old) + r"(?!\d)")  # .../3/1 is not .../3/10
    location = problem.location.model_copy(update={"file": pattern.sub(lambda _: new, file) if file else file})
    return problem.model_copy(update={"message": pattern.sub(lambda _: new, problem.message), "location": location})
