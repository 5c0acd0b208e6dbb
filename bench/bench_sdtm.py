"""Studies/s for the SDTM Trial Design writer on one core.

`python bench/bench_sdtm.py [--seconds 5] [--studies STUDY_JSON...]`

Three figures, each the writer's own work per study (reading is not included; readers have their own benchmarks):
- `tables`: derive the schedule and build TS, TA, TE, TV, TI with their metadata;
- `write`: the above, plus CSV, Dataset-JSON 1.1, SAS XPORT v5 and Define-XML 2.1 written to a temporary folder;
- `write+validate`: the above, plus every Dataset-JSON file checked against the official schema, define.xml
  against the Define-XML 2.1 XSD and the tables against the CDISC CORE rules (the writer's default).
Studies: the given study.json files, else the seed-page study goldens, else the hand-built test studies. The
process is pinned to one CPU where the OS allows it; one warm-up pass, then whole passes over the studies until
--seconds have gone by (`time.perf_counter`). `--tmp` chooses where the files go: on a slow or overlay disk,
opening 16 files per study can cost more than building them (compare with a tmpfs such as /dev/shm).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from converters.model import Study, study_from_json  # noqa: E402
from converters.resources import Resources  # noqa: E402
from converters.targets.base import WriterConfig  # noqa: E402
from converters.targets.sdtm import SdtmWriter  # noqa: E402
from converters.targets.sdtm.metadata import describe_all  # noqa: E402


def load_studies(paths: list[Path]) -> tuple[str, list[Study]]:
    if not paths:
        paths = sorted((ROOT / "tests" / "golden" / "seeds").glob("*.study.json"))
    if paths:
        return "study.json files", [study_from_json(p.read_text(encoding="utf-8")) for p in paths]
    from tests.writers_sdtm.studies import bare_study, observational_study, randomized_study, seed_001_study

    return "hand-built test studies", [seed_001_study(), randomized_study(), observational_study(), bare_study()]


def rate(studies: list[Study], work: Callable[[Study, int], object], seconds: float) -> tuple[float, int]:
    for i, study in enumerate(studies):
        work(study, i)  # warm-up
    done, start, n = 0, time.perf_counter(), 0
    while True:
        for study in studies:
            work(study, n)
            n += 1
        done += len(studies)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--studies", nargs="*", type=Path, default=[])
    parser.add_argument("--tmp", type=Path, default=None, help="folder for the written files (e.g. /dev/shm)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    kind, studies = load_studies(args.studies)
    resources = Resources()
    plain = SdtmWriter(WriterConfig(resources=resources))

    def tables(study: Study, _: int) -> object:
        return describe_all(plain.tables_for(study).tables, plain.spec)

    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        def write_with(writer: SdtmWriter, validate: bool) -> Callable[[Study, int], object]:
            def work(study: Study, i: int) -> object:
                written = writer.write_study(study, Path(tmp) / f"s{i % 8}")
                return written.checked() if validate else written
            return work

        results = {
            "tables": rate(studies, tables, args.seconds),
            "write": rate(studies, write_with(plain, validate=False), args.seconds),
            "write+validate": rate(studies, write_with(plain, validate=True), args.seconds),
        }
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else "n/a"
    print(f"studies: {len(studies)} {kind}; cpus used: {cpus}; formats: csv, json, xpt, define; "
          f"files in {args.tmp or tempfile.gettempdir()}")
    for name, (per_second, done) in results.items():
        print(f"{name:>15}: {per_second:8.1f} studies/s  ({done} studies, {1000 / per_second:.2f} ms/study)")


if __name__ == "__main__":
    main()
