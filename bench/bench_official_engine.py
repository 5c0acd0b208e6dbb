"""Start-up and speed of the official HL7 validator engine (validator/official/) and its warnings by kind.

    .venv/bin/python bench/bench_official_engine.py

Converts the fixtures of tests/validation_fhir/test_official_engine.py to FHIR R4 and R5 (collection and
transaction bundles), then in one JVM prints: start-up to the first R4 validation, the R5 definitions' load, the
warm time per resource for each version, the errors (file and FHIRPath) and the warnings and errors by message id.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "validation_fhir")]

from test_official_engine import INPUTS  # noqa: E402

from converters.targets.fhir.official import OfficialEngine  # noqa: E402


def fixture_bundles(out: Path) -> list[tuple[Path, str]]:
    """Every FHIR bundle of the test fixtures with its version."""
    files: list[tuple[Path, str]] = []
    for bundle_type in ("collection", "transaction"):
        command = [sys.executable, "-m", "converters", "convert", *map(str, INPUTS), "-o", str(out / bundle_type),
                   "--to", "fhir-r4,fhir-r5", "--bundle", bundle_type, "-j", "1"]
        subprocess.run(command, capture_output=True, check=False)
        files += [(p, p.parent.name[-2:].upper()) for p in sorted((out / bundle_type).rglob("fhir-r*/bundle.json"))]
    return files


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        files = fixture_bundles(out)
        tiny = out / "tiny.json"
        tiny.write_text('{"resourceType": "Basic", "code": {"text": "x"}}', encoding="utf-8")
        start = time.perf_counter()
        with OfficialEngine() as engine:
            engine.validate(tiny, "R4")
            r4_ready = time.perf_counter()
            engine.validate(tiny, "R5")
            r5_ready = time.perf_counter()
            by_id: Counter[tuple[str, str]] = Counter()
            for version in ("R4", "R5"):
                chosen = [path for path, v in files if v == version]
                resources = sum(len(json.loads(p.read_text(encoding="utf-8"))["entry"]) for p in chosen)
                began = time.perf_counter()
                problems = [(p, q) for p in chosen for q in engine.validate(p, version)]
                took = time.perf_counter() - began
                print(f"{version}: {len(chosen)} bundles, {resources} resources, {took:.1f} s, "
                      f"{1000 * took / resources:.2f} ms/resource")
                for path, problem in problems:
                    if problem.severity.value in ("error", "fatal"):
                        print(f"  error {path.relative_to(out)} {problem.location.path}: {problem.message}")
                    by_id[(problem.severity.value, problem.message.rsplit("[", 1)[-1].rstrip("]"))] += 1
    print(f"start-up to the first R4 validation {r4_ready - start:.1f} s; R5 definitions {r5_ready - r4_ready:.1f} s; "
          f"cpus {os.cpu_count()}")
    for (severity, message_id), count in by_id.most_common():
        print(f"{count:6d} {severity} {message_id}")


if __name__ == "__main__":
    main()
