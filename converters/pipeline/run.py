"""A whole `convert` run: list the input files, convert them (here or in workers), commit each result in input
order, finish the run-level outputs and write `report.json`."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import Protocol

from converters.loading import file_windows, iter_input_files
from converters.pipeline.commit import Committer, earlier_outputs
from converters.pipeline.engines import Engine, WorkUnit, local_engine
from converters.pipeline.records import ConvertContext, UnitResult
from converters.pipeline.results import ConvertOptions, FileResult, ReportStream, RunReport
from converters.problems import Problem
from converters.resources import Resources


class Progress(Protocol):
    """What a run tells whoever shows its progress (the CLI's bar): the work ahead, then each file done."""

    def start(self, files: int, size: int) -> None: ...

    def advance(self, size: int, records: int) -> None: ...


def iter_units(files: Iterable[tuple[Path, Problem | None]], ctx: ConvertContext | None = None,
               named: Collection[Path] | None = None) -> Iterator[WorkUnit]:
    """The units to convert, in order: each file (a path that does not exist is a unit too), and each window of
    a large ZIP or NDJSON file (`archive_windows`, `ndjson_windows`; not when `--from` or `--max-records` is
    given, which apply to a file as a whole). A file not among the paths `named` was found walking a folder
    (`WorkUnit.found`: skipped if it is not a study); with `named` None, every file counts as named.

    Lazily: a large file is read through to plan its windows only when the engine asks for its units, so the
    workers start on the first file while later ones are planned."""
    options = ctx.options if ctx is not None else None
    split = ctx is not None and options is not None and options.forced_format is None \
        and options.max_records is None
    index = 0
    for path, missing in files:
        found = named is not None and path not in named
        if missing is not None:
            units = [WorkUnit(index, path, missing)]
        elif not split or ctx is None:
            units = [WorkUnit(index, path, size=_size(path), found=found)]
        else:
            units = _windows(index, path, ctx, found)
        index += len(units)
        yield from units


def _windows(first: int, path: Path, ctx: ConvertContext, found: bool) -> list[WorkUnit]:
    """A file's units: its windows when it is a large ZIP or NDJSON file, else the file itself."""
    options = ctx.options
    windows = file_windows(path, options.archive_window, options.ndjson_window, ctx.archive_suffixes,
                           options.max_bytes)
    if windows is None:
        return [WorkUnit(first, path, size=_size(path), found=found)]
    return [WorkUnit(first + k, path, size=window.size, window=window, part=k, parts=len(windows), found=found)
            for k, window in enumerate(windows)]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def convert(
    inputs: Iterable[Path],
    options: ConvertOptions,
    resources: Resources,
    on_file: Callable[[FileResult], None] | None = None,
    *,
    engine: Engine | None = None,
    progress: Progress | None = None,
    keep_files: bool = True,
) -> RunReport:
    """Convert every input file; report each file through `on_file`; write `report.json` (with the inputs as
    given and the options that decide the output, and a warning for what an earlier run left in the folder).

    `engine` converts the units (default: this process, or `options.jobs` worker processes); the results are
    committed here in input order, so the output does not depend on it. `keep_files=False` keeps only totals in
    the returned report (report.json still lists every file), for runs too large to hold."""
    ctx = ConvertContext.build(options, resources)
    named = list(inputs)
    files = list(iter_input_files(named))
    earlier = earlier_outputs(options.out_dir)  # before this run writes anything there
    options.out_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(ctx.staging_root, ignore_errors=True)  # left by an interrupted run
    committer = Committer(ctx, on_file=on_file, stream=ReportStream(options.out_dir), keep_files=keep_files,
                          earlier=earlier)
    committer.report.run = {"inputs": [str(path) for path in named], "options": options.recorded()}
    if progress is not None:
        progress.start(len(files), sum(_size(path) for path, missing in files if missing is None))
    run_units = engine or local_engine(options, resources)
    for result in _checked_order(run_units(iter_units(files, ctx, named=frozenset(named)))):
        committer.commit(result)
        if progress is not None:
            progress.advance(result.size, len(result.file.records))
    return committer.finish()


def _checked_order(results: Iterator[UnitResult]) -> Iterator[UnitResult]:
    """The engine's results, refusing any out of input order (the commit's identical output depends on it)."""
    for expected, result in enumerate(results):
        if result.index != expected:
            raise RuntimeError(f"engine returned unit {result.index} where unit {expected} was due")
        yield result
