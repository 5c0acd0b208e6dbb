"""Every available fixture study converts, and trialbridge's validator and FHIR.js accept every output.

The FHIR.js cross-check (npm `fhir` 4.12.0 with the official packages) runs once, as one node batch over all
bundles written here; tests/fhirjs.py installs it (cached under .cache/) and says why when it cannot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from converters.problems import Severity
from converters.resources import Resources
from converters.writers.fhir import FhirMaps, build_bundle, dumps

from .fixture_studies import all_studies

VERSIONS = ("R4", "R5")
BUNDLE_TYPES = ("collection", "transaction")
_RESOURCES = Resources(root=Path(__file__).resolve().parents[2])
STUDIES = all_studies(_RESOURCES)


def _validator(version: str) -> Any:
    fhir = pytest.importorskip("converters.validation.fhir", reason="the FHIR validator has not landed yet")
    return fhir.FhirValidator(version)


@pytest.fixture(scope="module")
def validators() -> dict[str, Any]:
    return {v: _validator(v) for v in VERSIONS}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, fhir_maps: dict[str, FhirMaps],
            resources: Resources) -> dict[tuple[str, str, str], Path]:
    """Every fixture study in both versions and both bundle types, written once for the whole module."""
    out = tmp_path_factory.mktemp("fhir-out")
    paths: dict[tuple[str, str, str], Path] = {}
    for n, (label, study) in enumerate(STUDIES):
        for version in VERSIONS:
            for bundle_type in BUNDLE_TYPES:
                built = build_bundle(study, fhir_maps[version], resources, bundle_type)  # type: ignore[arg-type]
                path = out / f"{n:03d}-{version}-{bundle_type}.json"
                path.write_text(dumps(built.bundle), encoding="utf-8")
                paths[(label, version, bundle_type)] = path
    return paths


def test_fixture_studies_are_available() -> None:
    labels = [label for label, _ in STUDIES]
    assert "hand/cell-therapy" in labels


@pytest.mark.parametrize("label", [label for label, _ in STUDIES])
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("bundle_type", BUNDLE_TYPES)
def test_every_output_passes_trialbridges_validator(written: dict[tuple[str, str, str], Path],
                                                   validators: dict[str, Any], label: str, version: str,
                                                   bundle_type: str) -> None:
    import json

    path = written[(label, version, bundle_type)]
    problems = validators[version].validate(json.loads(path.read_text(encoding="utf-8")), file=str(path))
    serious = [p.one_line() for p in problems if p.severity in (Severity.ERROR, Severity.FATAL)]
    assert serious == []
    assert not [p for p in problems if p.code == "fhir-invariant" and "dom-6" in p.message]


def test_fhirjs_accepts_every_output(written: dict[tuple[str, str, str], Path]) -> None:
    fhirjs = pytest.importorskip("fhirjs", reason="tests/fhirjs.py (the FHIR.js cross-check) has not landed yet")
    paths = sorted(written.values())
    results = fhirjs.validate_with_fhirjs(paths)
    failures = {str(p): r for p, r in results.items() if not fhirjs.is_valid(r)}
    assert failures == {}
