"""Regenerate the FHIR goldens from the seed-page study goldens: `.venv/bin/python -m tests.writers_fhir.goldens`
(from the repository root). Review every changed file by hand against the page before committing it, and note
what you checked in tests/golden/fhir/README.md."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED_GOLDENS = ROOT / "tests" / "golden" / "seeds"
FHIR_GOLDENS = ROOT / "tests" / "golden" / "fhir"
TARGETS = {"fhir-r4": "R4", "fhir-r5": "R5"}


def golden_path(stem: str, target: str) -> Path:
    return FHIR_GOLDENS / f"{stem}.{target}.json"


def expected_outputs() -> dict[Path, str]:
    """Golden path -> the bundle the writer makes now, for every seed study golden."""
    from converters.model import study_from_json
    from converters.resources import Resources
    from converters.writers.fhir import FhirMaps, build_bundle, dumps

    resources = Resources(root=ROOT)
    out: dict[Path, str] = {}
    for seed in sorted(SEED_GOLDENS.glob("*.study.json")):
        study = study_from_json(seed.read_text(encoding="utf-8"))
        stem = seed.name.removesuffix(".study.json")
        for target, version in TARGETS.items():
            built = build_bundle(study, FhirMaps.load(resources, version), resources)  # type: ignore[arg-type]
            out[golden_path(stem, target)] = dumps(built.bundle)
    return out


def main() -> int:
    FHIR_GOLDENS.mkdir(parents=True, exist_ok=True)
    for path, text in expected_outputs().items():
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            path.write_text(text, encoding="utf-8")
            sys.stdout.write(f"{'updated' if old else 'created'} {path.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
