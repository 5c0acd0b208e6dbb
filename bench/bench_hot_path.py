"""Studies/s on the hot path of `convert --to fhir-r4 --no-validate`, in process, on one core.

    python bench/bench_hot_path.py [DIR_OR_FILES...] [--repeat 5] [--profile OUT.pstats]

Default input: the API v2 records in /work/scratch/recs if present, else fixtures/ctgov/v2. Each file is loaded
once (bytes in memory, as `load_document` gives them); then, best of `--repeat` passes over all files:
- read -> model: the `ctgov-v2-json` reader's `read` (JSON parsing, schema check, field map, `Study`);
- study.json dict: `study_to_dict` of each study read;
- FHIR R4 dict: `build_bundle` of each study (bundle and trace as dicts; no JSON text, no validation);
- read -> FHIR R4 dict: each study read and then built at once, as a run does.
The per-process caches of parsed CommonMark (converters/model/text.py) are emptied before every pass, so that no
pass finds the texts of the one before (a run meets each study once).
Compiled things (schemas, field map, FHIR maps) are built in a warm-up pass, as the first study of a run does.
Times are the process's CPU time (`time.process_time`), which other work on a shared machine disturbs less than
wall time does.
`--profile` writes a cProfile of one pass of read -> FHIR R4 dict, and of study_to_dict, to the named file.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from converters.loading import SourceDocument, load_document
from converters.model import Study, study_to_dict
from converters.model.text import markdown_to_plain, parse_markdown
from converters.problems import Problem
from converters.readers import ReaderConfig
from converters.readers.ctgov_v2 import READER
from converters.resources import Resources
from converters.targets.fhir import FhirMaps, build_bundle

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIRS = (Path("/work/scratch/recs"), ROOT / "fixtures" / "ctgov" / "v2")


def input_files(args: list[Path]) -> list[Path]:
    if not args:
        args = [next(d for d in DEFAULT_DIRS if d.is_dir())]
    files: list[Path] = []
    for arg in args:
        files += sorted(arg.glob("*.json")) if arg.is_dir() else [arg]
    return files


def load(files: list[Path]) -> list[SourceDocument]:
    docs = []
    for path in files:
        doc = load_document(path, 1 << 31)
        if not isinstance(doc, Problem):
            docs.append(doc)
    return docs


def clear_caches() -> None:
    for cached in (parse_markdown, markdown_to_plain):
        getattr(cached, "cache_clear", lambda: None)()  # (earlier revisions, benchmarked for comparison, had none)


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        clear_caches()
        gc.collect()
        start = time.process_time()
        result = fn()
        best = min(best, time.process_time() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    resources = Resources()
    config = ReaderConfig(resources=resources, max_bytes=1 << 31, max_expanded_bytes=1 << 31)
    maps = FhirMaps.load(resources, "R4")
    docs = load(input_files(args.inputs))

    def read_all() -> list[Study]:
        return [o.study for doc in docs for o in READER.read(doc, config) if o.study is not None]

    def dict_all(studies: list[Study]) -> None:
        for study in studies:
            study_to_dict(study)

    def build_all(studies: list[Study]) -> None:
        for study in studies:
            build_bundle(study, maps, resources, "collection")

    def read_build_all() -> None:
        for doc in docs:
            for outcome in READER.read(doc, config):
                if outcome.study is not None:
                    build_bundle(outcome.study, maps, resources, "collection")

    studies = read_all()  # warm-up: compiles the reader's schemas and field map
    dict_all(studies)
    build_all(studies)
    if args.profile:
        clear_caches()
        profiler = cProfile.Profile()
        profiler.enable()
        read_build_all()
        dict_all(studies)
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    n = len(studies)
    t_read, studies = best_of(args.repeat, read_all)
    t_dict, _ = best_of(args.repeat, lambda: dict_all(studies))
    t_build, _ = best_of(args.repeat, lambda: build_all(studies))
    t_both, _ = best_of(args.repeat, read_build_all)
    print(f"cpus={os.cpu_count()} (one core used) files={len(docs)} studies={n} best of {args.repeat}")
    print(f"read -> model:          {t_read:.3f} s  {n / t_read:7.1f} studies/s")
    print(f"study.json dict:        {t_dict:.3f} s  {n / t_dict:7.1f} studies/s")
    print(f"model -> FHIR R4 dict:  {t_build:.3f} s  {n / t_build:7.1f} studies/s")
    print(f"read -> FHIR R4 dict:   {t_both:.3f} s  {n / t_both:7.1f} studies/s")


if __name__ == "__main__":
    main()
