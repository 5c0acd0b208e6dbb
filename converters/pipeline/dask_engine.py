"""The Dask engine: units are converted by the workers of a `distributed` cluster, one task per unit, and come
back in input order, so the commit (in this process) writes the same bytes as with the local engine.

Dask is an optional extra (`pip install 'trialbridge[dask]'`) and is imported only by the functions here.

What the workers need:
- the same trialbridge (and data files) as the client: a task names `_convert_on_worker` by module;
- the inputs and the output folder at the same paths as the client sees them, on a filesystem they share
  (workers write each study into `<out>/.trialbridge-staging/` and the client moves it to its final name).
  Relative paths are read from the worker's working directory, which must then be the client's: a task
  refuses to run elsewhere rather than read or write the wrong files. On one machine (a `LocalCluster`,
  `--engine dask` without `--scheduler`) all of this is given.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from converters.pipeline.engines import Engine, WorkUnit, convert_work, settle_for_batch
from converters.pipeline.records import ConvertContext, UnitResult
from converters.pipeline.results import ConvertOptions, FileResult, RunReport
from converters.pipeline.run import Progress, convert
from converters.resources import Resources

if TYPE_CHECKING:
    from distributed import Client

ENGINES = ("local", "dask")  # `--engine`: this machine (`--jobs` processes), or a Dask cluster
IN_FLIGHT_PER_THREAD = 3  # units submitted per worker thread: enough to keep every thread busy, memory flat


class EngineError(Exception):
    """The Dask engine cannot run: the extra is not installed, or the scheduler cannot be reached."""


@dataclass(frozen=True)
class RunSpec:
    """What a worker needs to build a run's context, sent with every task (a few hundred bytes). `token` names
    the run, so each worker thread builds the context once per run, not once per unit."""

    token: str  # the run's, also in its task keys
    options: ConvertOptions
    root: Path  # the data root of the client's Resources
    cwd: Path  # the client's working directory, against which relative paths were given


# --- on the workers -----------------------------------------------------------------------------------

_CONTEXT = threading.local()
"""Per worker thread, the context of the run it last worked for (per-process cache of built things).

One per thread, not per process: some validators keep state across a call (lxml's schema `error_log`), so two
threads must not share one. Conversion holds the GIL, so a worker process gains nothing from a second thread:
with the recommended one thread per worker process, the context is built once per process and run."""


def _context(spec: RunSpec) -> ConvertContext:
    if getattr(_CONTEXT, "token", None) != spec.token:
        _CONTEXT.ctx = ConvertContext.build(spec.options, Resources(root=spec.root))
        if spec.options.tune_gc:  # a cluster's workers may be shared: only when the command line runs them
            settle_for_batch()
        _CONTEXT.token = spec.token
    ctx: ConvertContext = _CONTEXT.ctx
    return ctx


def _relative_paths_ok(unit: WorkUnit, spec: RunSpec) -> bool:
    """Relative paths name the same files here only in the client's working directory."""
    if unit.path.is_absolute() and spec.options.out_dir.is_absolute():
        return True
    return Path.cwd().resolve() == spec.cwd


def _convert_on_worker(unit: WorkUnit, spec: RunSpec) -> UnitResult:
    """One unit converted on a worker, with the worker thread's context for the run."""
    if not _relative_paths_ok(unit, spec):
        raise EngineError(f"worker runs in {Path.cwd()}, not in {spec.cwd} where the paths were given: "
                          "give absolute paths, or start the workers there")
    return convert_work(unit, _context(spec))


# --- on the client ------------------------------------------------------------------------------------

def in_flight_limit(client: Client) -> int:
    """How many units to keep submitted: a few per worker thread (at least a few, while workers join)."""
    threads = sum(client.nthreads().values())  # type: ignore[no-untyped-call]
    return max(4, IN_FLIGHT_PER_THREAD * threads)


def dask_engine(options: ConvertOptions, resources: Resources, client: Client, *,
                in_flight: int | None = None) -> Engine:
    """An engine that converts each unit as a task on `client`'s cluster and yields the results in input order.

    At most `in_flight` units (default: `in_flight_limit`) are submitted and not yet handed over, so memory on
    the client, the scheduler and the workers stays flat however many units there are. A result is handed over
    only when every earlier one has been: a slow unit holds back the others' results, never the workers, as
    long as fewer than `in_flight` units finish behind it. A unit whose task fails (a worker error, or a worker
    lost more often than the scheduler allows) ends the run with that error; the units still submitted are
    cancelled."""

    def run(units: Iterable[WorkUnit]) -> Iterator[UnitResult]:
        spec = RunSpec(uuid.uuid4().hex, options, resources.root, Path.cwd().resolve())  # a fresh one per run
        limit = in_flight or in_flight_limit(client)
        pending: deque[Any] = deque()  # distributed.Future, oldest first
        try:
            for unit in units:
                pending.append(client.submit(_convert_on_worker, unit, spec,
                                             key=f"trialbridge-{spec.token}-{unit.index}"))
                if len(pending) >= limit:
                    yield _result(pending.popleft())
            while pending:
                yield _result(pending.popleft())
        finally:
            if pending:
                client.cancel(list(pending))  # type: ignore[no-untyped-call]

    return run


def _result(future: Any) -> UnitResult:
    """The unit's result; once the future is dropped, the worker forgets it."""
    result: UnitResult = future.result()
    return result


@contextmanager
def dask_client(scheduler: str | None, workers: int) -> Iterator[Client]:
    """A client of the scheduler at `scheduler` (tcp://host:port), or of a cluster started here for the run:
    `workers` processes of one thread each (conversion holds the GIL), no dashboard, closed at the end."""
    import logging  # here, as Dask itself: a local run does not pay for it

    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise EngineError("the Dask engine needs the dask extra: pip install 'trialbridge[dask]'") from exc
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
        except (OSError, ValueError, TypeError) as exc:
            raise EngineError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
        with client:
            yield client
        return
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,  # type: ignore[no-untyped-call]
                           dashboard_address=None, silence_logs=logging.ERROR)
    with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


def convert_on_dask(inputs: Iterable[Path], options: ConvertOptions, resources: Resources, client: Client, *,
                    on_file: Callable[[FileResult], None] | None = None, progress: Progress | None = None,
                    keep_files: bool = True) -> RunReport:
    """Convert `inputs` on `client`'s cluster: `converters.pipeline.convert` with the Dask engine, so the same
    output folder and `RunReport` as a local run (`options.jobs` is not used: the cluster's threads are).

    The entry point for Python callers that hold a Dask client; a later issue builds the public API around
    it."""
    return convert(inputs, options, resources, on_file, engine=dask_engine(options, resources, client),
                   progress=progress, keep_files=keep_files)


# --- for the command line -----------------------------------------------------------------------------

def engine_usage_error(name: str, scheduler: str | None) -> str | None:
    """What is wrong with `--engine` and `--scheduler` together, if anything."""
    if name not in ENGINES:
        return f"--engine must be one of {', '.join(ENGINES)}, not {name!r}"
    if scheduler is not None and name != "dask":
        return "--scheduler needs --engine dask"
    return None


@contextmanager
def open_engine(name: str, scheduler: str | None, options: ConvertOptions,
                resources: Resources) -> Iterator[Engine | None]:
    """The engine `name` (`ENGINES`) for a run, with what it needs open meanwhile (a Dask client, and a cluster
    of `options.jobs` workers without `scheduler`); None for the local engine (`convert`'s default)."""
    if name != "dask":
        yield None
        return
    with dask_client(scheduler, options.jobs) as client:
        yield dask_engine(options, resources, client)
