"""The conversion pipeline: input files -> readers -> canonical Study -> writers, with a run report.

Each file is one unit of work, converted on its own (`records.convert_unit`), so a bad file never stops a
batch and units can run in worker processes or on a cluster (`engines`). Their results are committed in input
order (`commit`), which names the study folders and appends to the bulk files, so the output is the same for
any number of workers. Everything the run learns is returned as data (`RunReport`); the CLI only renders it.
"""

from __future__ import annotations

from pathlib import Path

from converters.loading import SourceDocument, load_document
from converters.pipeline.commit import Committer
from converters.pipeline.dask_engine import (
    ENGINES,
    EngineError,
    convert_on_dask,
    dask_client,
    dask_engine,
    engine_usage_error,
    open_engine,
)
from converters.pipeline.engines import (
    Engine,
    WorkUnit,
    available_cores,
    convert_work,
    local_engine,
    ordered_map,
)
from converters.pipeline.records import (
    ConvertContext,
    UnitResult,
    convert_loaded,
    convert_unit,
    study_folder_name,
    usage_of,
)
from converters.pipeline.results import LAYOUTS, ConvertOptions, FileResult, RecordResult, RunReport
from converters.pipeline.run import Progress, convert, iter_units
from converters.problems import Problem

__all__ = [
    "ENGINES", "LAYOUTS", "Committer", "ConvertContext", "ConvertOptions", "Engine", "EngineError", "FileResult",
    "Progress", "RecordResult", "RunReport", "UnitResult", "WorkUnit", "available_cores", "convert",
    "convert_document", "convert_file", "convert_loaded", "convert_on_dask", "convert_unit", "convert_work",
    "dask_client", "dask_engine", "engine_usage_error", "iter_units", "local_engine", "open_engine", "ordered_map",
    "study_folder_name", "usage_of",
]


def convert_document(loaded: SourceDocument, ctx: ConvertContext) -> FileResult:
    """Convert one loaded document and commit it at once into `ctx`'s output folder (its name stands for the
    file in every report and output)."""
    return Committer(ctx, keep_files=False).commit(convert_loaded(0, loaded, ctx))


def convert_file(path: Path, ctx: ConvertContext) -> FileResult:
    """Convert one input file and commit it at once: every record in it, as far as each can go."""
    loaded = load_document(path, ctx.options.max_bytes)
    if isinstance(loaded, Problem):
        return FileResult(file=str(path), problems=[loaded])
    return convert_document(loaded, ctx)
