"""What validation and SDTM cost per study, on one core: where issue 12's 500 studies/s goes.

    .venv/bin/python bench/bench_validation_cost.py [RECORDS_DIR] [--repeat 3] [--scale 1,2,4] [--profile WHAT]

Times are CPU seconds of this process (`time.process_time`), which other processes on a shared machine disturb
less than wall time. Reads the records (default: /work/scratch/recs, else fixtures/ctgov/v2) into studies once, builds their FHIR
bundles and SDTM packages in memory once, then times, best of `--repeat` rounds over all studies:
- `fhir-r4 validate`, `fhir-r5 validate`: `FhirValidator.validate` of each study's bundle (ms per bundle);
- `sdtm tables`: `SdtmWriter.tables_for` (schedule, TS/TA/TE/TV/TI) per study;
- `sdtm write (per-study)`: the package written in every format to a temporary folder, checks not run;
- `sdtm checks (per-study)`: the package's checks (Dataset-JSON schema, Define-XML XSD, CORE rules), each kind
  timed on its own;
- `sdtm concatenated xN`: one package of all studies copied N times (copies get new STUDYIDs), written then
  checked, as `--sdtm-layout concatenated` does in `finish`: the cost per study must not grow with N.
`--profile fhir|sdtm-checks|concat` prints the cProfile top lines of that step instead.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from converters.loading.files import load_document  # noqa: E402
from converters.model import Study  # noqa: E402
from converters.problems import Problem  # noqa: E402
from converters.readers import ReaderConfig  # noqa: E402
from converters.readers.ctgov_v2 import READER  # noqa: E402
from converters.resources import Resources  # noqa: E402
from converters.targets.base import WriterConfig  # noqa: E402
from converters.targets.fhir.validator import FhirValidator  # noqa: E402
from converters.targets.fhir.writer import FhirWriter  # noqa: E402
from converters.targets.sdtm import SdtmWriter  # noqa: E402
from converters.targets.sdtm.tables import StudyTables, merge_packages  # noqa: E402

DEFAULT_RECORDS = Path("/work/scratch/recs")


def read_studies(folder: Path, resources: Resources) -> list[Study]:
    config = ReaderConfig(resources=resources, max_bytes=1 << 31)
    studies: list[Study] = []
    for path in sorted(folder.glob("*.json")):
        doc = load_document(path, 1 << 31)
        if isinstance(doc, Problem):
            continue
        studies += [o.study for o in READER.read(doc, config) if o.study is not None]
    return studies


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def renamed(package: StudyTables, suffix: str) -> StudyTables:
    """A copy of a one-study package under another STUDYID (for concatenations larger than the records)."""
    old = package.study_ids[0]
    new = f"{old}{suffix}"
    tables = {d: [{**r, "STUDYID": new} for r in rows] for d, rows in package.tables.items()}
    return dataclasses.replace(
        package, study_ids=(new,), tables=tables, sources=tuple(f"{s}{suffix}" for s in package.sources),
        ti_full_texts={(new, k[1]): v for k, v in package.ti_full_texts.items()},
        ti_damaged={(new, k[1]): v for k, v in package.ti_damaged.items()},
    )


def concatenated(packages: Sequence[StudyTables], copies: int) -> StudyTables:
    many = [p if c == 0 else renamed(p, f"-C{c}") for c in range(copies) for p in packages]
    return merge_packages(sorted(many, key=lambda p: p.study_ids[0]))


def check_kind(check: Any) -> str:
    name = getattr(getattr(check, "func", check), "__name__", "?")
    return {"_check_dataset_json": "dataset-json", "_check_define": "define-xsd", "_check_rules": "core-rules"}.get(
        name, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("records", nargs="?", type=Path,
                        default=DEFAULT_RECORDS if DEFAULT_RECORDS.is_dir() else ROOT / "fixtures" / "ctgov" / "v2")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", default="1,2,4", help="copies of all studies in the concatenated package")
    parser.add_argument("--profile", choices=["fhir", "sdtm-checks", "concat"], default=None)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    resources = Resources()
    studies = read_studies(args.records, resources)
    n = len(studies)
    config = WriterConfig(resources=resources)
    fhir = {v: FhirWriter(config, v) for v in ("R4", "R5")}
    bundles = {v: [w.build(s).bundle for s in studies] for v, w in fhir.items()}
    validators = {v: FhirValidator(v) for v in ("R4", "R5")}
    sdtm = SdtmWriter(config)
    packages = [sdtm.tables_for(s) for s in studies]
    rows: list[tuple[str, float, str]] = []
    print(f"{n} studies from {args.records}; one core; CPU time (process_time), best of {args.repeat}")

    def validate_all(version: str) -> Callable[[], object]:
        return lambda: [validators[version].validate(b) for b in bundles[version]]

    with tempfile.TemporaryDirectory() as tmp:
        def write_all() -> list[Any]:
            return [sdtm.write_package(p, Path(tmp) / f"s{i}" / "sdtm", Path(tmp) / f"s{i}")
                    for i, p in enumerate(packages)]

        written = write_all()
        checks: dict[str, list[Any]] = {}
        for result in written:
            for check in result.checks:
                checks.setdefault(check_kind(check), []).append(check)
        if args.profile:
            profile(args.profile, validate_all("R4"), checks, lambda c: concatenated(packages, c), sdtm, Path(tmp))
            return
        for version in ("R4", "R5"):
            validate_all(version)()  # warm-up: specs and invariants prepared on first use
            seconds = best_of(args.repeat, validate_all(version))
            rows.append((f"fhir-{version.lower()} validate", seconds / n * 1000, "ms/bundle"))
        seconds = best_of(args.repeat, lambda: [sdtm.tables_for(s) for s in studies])
        rows.append(("sdtm tables", seconds / n * 1000, "ms/study"))
        seconds = best_of(args.repeat, write_all)
        rows.append(("sdtm write (per-study)", seconds / n * 1000, "ms/study"))
        for kind, fns in checks.items():
            seconds = best_of(args.repeat, lambda fns=fns: [f() for f in fns])  # type: ignore[misc]
            rows.append((f"sdtm check {kind} (per-study)", seconds / n * 1000, "ms/study"))
        for copies in (int(c) for c in args.scale.split(",")):
            package = concatenated(packages, copies)
            folder = Path(tmp) / f"concat{copies}"
            result = sdtm.write_package(package, folder / "sdtm", folder)
            count = len(package.study_ids)
            seconds = best_of(args.repeat, lambda: sdtm.write_package(package, folder / "sdtm", folder))
            rows.append((f"sdtm concatenated x{copies} write ({count})", seconds / count * 1000, "ms/study"))
            by_kind: dict[str, list[Any]] = {}
            for check in result.checks:
                by_kind.setdefault(check_kind(check), []).append(check)
            for kind, fns in by_kind.items():
                seconds = best_of(args.repeat, lambda fns=fns: [f() for f in fns])  # type: ignore[misc]
                rows.append((f"sdtm concatenated x{copies} {kind}", seconds / count * 1000, "ms/study"))
    for label, value, unit in rows:
        print(f"{label:>42}: {value:8.3f} {unit}")


def profile(what: str, fhir_r4: Callable[[], object], checks: dict[str, list[Any]],
            concat: Callable[[int], StudyTables], sdtm: SdtmWriter, tmp: Path) -> None:
    fhir_r4()
    if what == "fhir":
        work: Callable[[], object] = fhir_r4
    elif what == "sdtm-checks":
        def work() -> object:
            return [f() for fns in checks.values() for f in fns]
    else:
        package = concat(2)
        result = sdtm.write_package(package, tmp / "concat" / "sdtm", tmp / "concat")

        def work() -> object:
            return [c() for c in result.checks]
    prof = cProfile.Profile()
    prof.runcall(work)
    stats = pstats.Stats(prof)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
