"""The committing side of a run: units' results are taken in input order, each staged study folder is moved
to its final name, shared payloads go to the run-level writers, and the file's result is reported.

Only this side names folders and appends to bulk files, and it sees the units in input order, so the output is
the same for any number of workers (and for any engine that hands the results over in order)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from converters.pipeline.records import ConvertContext, Staged, UnitResult, run_finish, unique_name
from converters.pipeline.results import FileResult, RecordResult, ReportStream, RunReport
from converters.problem_codes import core
from converters.problems import Location, Problem


@dataclass
class Committer:
    """Commits units' results in order into the run's output folder and report."""

    ctx: ConvertContext  # this process's writers: they collect the shared payloads and finish the run
    report: RunReport = field(default_factory=RunReport)
    on_file: Callable[[FileResult], None] | None = None
    stream: ReportStream | None = None
    keep_files: bool = True
    _open_file: FileResult | None = None  # the parts so far of a file converted in windows

    def commit(self, unit: UnitResult) -> FileResult:
        result = self._merged(unit)
        out_dir = self.ctx.options.out_dir
        for staged in unit.staged:
            record = result.records[staged.record]
            name = unique_name(staged.base, self.ctx.taken_names)
            problem = _move_tree(out_dir / staged.staging, out_dir / name)
            if problem is not None:
                record.problems.append(problem)
                record.outputs = []
                continue
            record.output_dir = name
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

    def finish(self) -> RunReport:
        """The run-level outputs of every writer, then report.json; staging is removed."""
        out_dir = self.ctx.options.out_dir
        for writer in [self.ctx.canonical, *self.ctx.writers]:
            self.report.problems.extend(run_finish(writer, out_dir, self.ctx.options.validate_outputs,
                                                   self.report.outputs))
        shutil.rmtree(self.ctx.staging_root, ignore_errors=True)
        if self.stream is not None:
            self.stream.close(self.report)
        return self.report


def _move_tree(source: Path, target: Path) -> Problem | None:
    """Move a staged folder to its final place; into an existing folder (a run over an old output) file by file."""
    try:
        try:
            os.rename(source, target)
            return None
        except OSError:
            if not target.is_dir():
                raise
        for folder, _, files in os.walk(source):
            destination = target / Path(folder).relative_to(source)
            destination.mkdir(parents=True, exist_ok=True)
            for name in files:
                os.replace(Path(folder) / name, destination / name)
        shutil.rmtree(source)
    except OSError as exc:
        return core.OUTPUT_WRITE_FAILED(Location(file=str(target)), what=str(target), reason=str(exc))
    return None


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
