"""Where units are converted: in this process, or in worker processes on this machine (`--jobs`). Either way
the results come back in input order, which is all the commit needs for identical output.

An engine is a function from an iterable of work units to an iterator of their results, in order. The Dask
engine (`converters.pipeline.dask_engine`) is another such function, for a cluster.
"""

from __future__ import annotations

import gc
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from converters.loading import FileWindow, window_document
from converters.pipeline.records import (
    ConvertContext,
    UnitResult,
    convert_loaded,
    convert_unit,
    skipped_if_not_a_study,
)
from converters.pipeline.results import ConvertOptions, FileResult
from converters.problems import Problem
from converters.resources import Resources

if TYPE_CHECKING:
    from multiprocessing.pool import AsyncResult

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class WorkUnit:
    """One input file to convert, with its place in the run's order."""

    index: int
    path: Path
    missing: Problem | None = None  # the path named does not exist: its result is this problem
    found: bool = False  # found walking a folder named (not named itself): if it is not a study, it is skipped
    size: int = 0  # bytes, for the progress estimate
    window: FileWindow | None = None  # a window of a large ZIP or NDJSON file (`part` of `parts`)
    part: int = 0
    parts: int = 1


Engine = Callable[[Iterable[WorkUnit]], Iterator[UnitResult]]


def available_cores() -> int:
    """The cores this process may run on (what `taskset` or a container allows), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def settle_for_batch() -> None:
    """Tune this process's garbage collector for a long conversion, once its context is built.

    A conversion makes many short-lived objects and few cycles, so the collector's default thresholds spend
    about an eighth of the run re-scanning what is already built (readers, maps, validators: frozen here) and
    what is about to be freed anyway. Measured on 147 studies to FHIR R4: collection time from 0.27 s of 2.1 s to
    0.06 s. Cycles are still collected, less often. Only for processes a run owns: its workers, and the command
    line's own process (`ConvertOptions.tune_gc`); a program that calls `convert` keeps its collector as it is."""
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def in_process(options: ConvertOptions, resources: Resources) -> Engine:
    """Convert every unit here, one after the other."""
    ctx = ConvertContext.build(options, resources)
    if options.tune_gc:
        settle_for_batch()

    def run(units: Iterable[WorkUnit]) -> Iterator[UnitResult]:
        for unit in units:
            yield convert_work(unit, ctx)

    return run


def convert_work(unit: WorkUnit, ctx: ConvertContext) -> UnitResult:
    """A unit's result: its file converted, or the problem that the path named is missing."""
    if unit.missing is not None:
        result = UnitResult(unit.index, FileResult(file=str(unit.path), problems=[unit.missing]))
    elif unit.window is not None:
        result = convert_loaded(unit.index, window_document(unit.path, unit.window), ctx)
        result.part, result.parts = unit.part, unit.parts
    else:
        result = convert_unit(unit.index, unit.path, ctx)
    if unit.found and ctx.options.forced_format is None:
        result.file = skipped_if_not_a_study(result.file)
    result.size = unit.size
    return result


# --- worker processes ---------------------------------------------------------------------------------

IN_FLIGHT_PER_JOB = 2  # units submitted and not yet committed, per worker: every worker busy, memory bounded


def worker_pool(options: ConvertOptions, resources: Resources, jobs: int) -> Engine:
    """Convert units in `jobs` worker processes, results in input order (`ordered_map`): each worker builds its
    context once, and at most `IN_FLIGHT_PER_JOB` units per worker are in flight, so results never pile up when
    committing is slower than converting, and later files are planned only as the run reaches them."""
    setup = partial(_worker_context, options, resources.root)

    def run(units: Iterable[WorkUnit]) -> Iterator[UnitResult]:
        return ordered_map(_convert_with, units, jobs, setup)

    return run


def _worker_context(options: ConvertOptions, root: Path) -> ConvertContext:
    return ConvertContext.build(options, Resources(root=root))


def _convert_with(ctx: ConvertContext, unit: WorkUnit) -> UnitResult:
    return convert_work(unit, ctx)


def local_engine(options: ConvertOptions, resources: Resources) -> Engine:
    """In this process for one job, else a pool of worker processes."""
    if options.jobs <= 1:
        return in_process(options, resources)
    return worker_pool(options, resources, options.jobs)


# --- any per-item work in order (validate, coverage) ------------------------------------------------------

_MAP_WORKER: dict[str, object] = {}  # a map worker's state (its Resources), built once by its initializer


def _init_map_worker(setup: Callable[[], object]) -> None:
    _MAP_WORKER["state"] = setup()
    settle_for_batch()


def _map_in_worker(work: Callable[[Any, T], R], item: T) -> R:
    return work(_MAP_WORKER["state"], item)


def ordered_map(work: Callable[[S, T], R], items: Iterable[T], jobs: int, setup: Callable[[], S]) -> Iterator[R]:
    """`work(state, item)` for every item, results in input order: here for one job, else in `jobs` worker
    processes that each build their `state` once with `setup` (both picklable: top-level functions, partials).

    Conversion units (`worker_pool`) and the commands that check or count files run through it: at most
    `IN_FLIGHT_PER_JOB` items per worker are in flight, so memory stays bounded and `items` is read lazily."""
    if jobs <= 1:
        state = setup()
        for item in items:
            yield work(state, item)
        return
    import multiprocessing

    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with context.Pool(jobs, initializer=_init_map_worker, initargs=(setup,)) as pool:
        pending: deque[AsyncResult[R]] = deque()
        for item in items:
            pending.append(pool.apply_async(_map_in_worker, (work, item)))
            if len(pending) >= IN_FLIGHT_PER_JOB * jobs:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
