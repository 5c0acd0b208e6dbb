"""Studies/s and resources/s converted to FHIR (R4 by default) with validation, on one core.

`python bench/bench_fhir_convert.py [--version R4|R5] [--bundle collection|transaction] [--seconds 5]
[--no-validate] [--studies STUDY_JSON...]`

Measures the writer's own work for each study: derive the schedule, build every resource, assemble the bundle
and its trace, serialise to JSON and (unless --no-validate) validate the bundle with trialbridge's FHIR
validator. Reading is not included (readers have their own benchmarks). Studies: the given study.json files,
else the seed-page study goldens, else the hand-built test studies. One process, `time.perf_counter`, a warm-up
pass first, then whole passes over the studies until --seconds have gone by.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from converters.model import Study, study_from_json  # noqa: E402
from converters.resources import Resources  # noqa: E402
from converters.targets.fhir import FhirMaps, build_bundle, dumps  # noqa: E402


def load_studies(paths: list[Path]) -> list[Study]:
    if not paths:
        paths = sorted((ROOT / "tests" / "golden" / "seeds").glob("*.study.json"))
    if paths:
        return [study_from_json(p.read_text(encoding="utf-8")) for p in paths]
    sys.path.insert(0, str(ROOT / "tests"))
    from writers_fhir.studies import bare_study, cell_therapy_study

    return [cell_therapy_study(), bare_study()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--version", choices=["R4", "R5"], default="R4")
    parser.add_argument("--bundle", choices=["collection", "transaction"], default="collection")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--no-validate", action="store_true")
    parser.add_argument("--studies", nargs="*", type=Path, default=[])
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    resources = Resources()
    maps = FhirMaps.load(resources, args.version)
    validator: Any = None
    if not args.no_validate:
        from converters.targets.fhir.validator import FhirValidator

        validator = FhirValidator(args.version)
    studies = load_studies(args.studies)

    def one_pass() -> tuple[int, int, int]:
        resources_made = errors = 0
        for study in studies:
            built = build_bundle(study, maps, resources, args.bundle)
            dumps(built.bundle)
            dumps(built.trace)
            resources_made += built.resource_count
            if validator is not None:
                errors += sum(p.severity.value in ("error", "fatal") for p in validator.validate(built.bundle))
        return len(studies), resources_made, errors

    one_pass()  # warm-up (loads mappings, compiles validator tables)
    done_studies = done_resources = total_errors = passes = 0
    start = time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        n_studies, n_resources, n_errors = one_pass()
        done_studies += n_studies
        done_resources += n_resources
        total_errors += n_errors
        passes += 1
    elapsed = time.perf_counter() - start
    print(f"version={args.version} bundle={args.bundle} validate={not args.no_validate} studies/pass={len(studies)} "
          f"passes={passes} elapsed={elapsed:.2f}s")
    print(f"studies/s={done_studies / elapsed:.1f} resources/s={done_resources / elapsed:.1f} "
          f"resources/study={done_resources / max(done_studies, 1):.1f} validation_errors={total_errors}")


if __name__ == "__main__":
    main()
