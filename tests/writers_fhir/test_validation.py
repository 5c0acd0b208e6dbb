"""Every available fixture study converts, and trialbridge's validator and FHIR.js accept every output.

The FHIR.js cross-check (npm `fhir` 4.12.0 with the official packages) runs once, as one node batch over all
bundles written here; tests/fhirjs.py installs it (cached under .cache/) and skips only when Node.js is absent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from converters.problems import Severity
from converters.resources import Resources
from converters.targets.fhir import FhirMaps, build_bundle, dumps
from converters.targets.fhir.validator import FhirValidator

from .fixture_studies import CTGOV_FIXTURES, SEED_GOLDENS, all_studies

VERSIONS = ("R4", "R5")
BUNDLE_TYPES = ("collection", "transaction")
_RESOURCES = Resources(root=Path(__file__).resolve().parents[2])
STUDIES = all_studies(_RESOURCES)


def _validator(version: str) -> Any:
    return FhirValidator(version)


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
    """The parametrised checks below see every seed and every ct.gov v2 JSON / legacy XML fixture record (the
    retired v1 API's responses make no study, by design), so a reader that silently yields nothing fails here."""
    labels = [label for label, _ in STUDIES]
    assert "hand/cell-therapy" in labels
    seeds = sorted(SEED_GOLDENS.glob("*.study.json"))
    assert len(seeds) == 5 and [label for label in labels if label.startswith("seed/")] == [
        f"seed/{p.name.removesuffix('.study.json')}" for p in seeds]
    for folder in ("v2", "xml"):
        files = [p for p in sorted((CTGOV_FIXTURES / folder).rglob("*")) if p.suffix in (".json", ".xml")]
        assert files, folder
        for path in files:
            name = f"ctgov/{path.relative_to(CTGOV_FIXTURES)}"
            assert any(label == name or label.startswith(name + "#") for label in labels), name


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


def _status_given_by_extension_only(path: Path) -> bool:
    """The bundle's ResearchStudy has no `status` value but `_status` with an extension (data-absent-reason)."""
    import json

    for entry in json.loads(path.read_text(encoding="utf-8"))["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "ResearchStudy":
            return "status" not in resource and bool(resource.get("_status", {}).get("extension"))
    return False


def test_fhirjs_accepts_every_output(written: dict[tuple[str, str, str], Path]) -> None:
    """One node batch over every bundle written here (seeds, fixtures, hand-built; R4 and R5; both bundle
    types), each validated against its own version's official package: FHIR.js reports no error. (FHIR.js does
    not see a primitive given only by its extensions, which FHIR JSON allows: for an R4 `_status` with
    data-absent-reason it says "ResearchStudy.status: Missing property"; that one message is dropped for those
    bundles only, and trialbridge's validator, which counts `_status` towards status 1..1, checks them.)"""
    from tests.fhirjs import validate_with_fhirjs

    versions = {str(path): version for (_, version, _), path in written.items()}
    results = validate_with_fhirjs(sorted(versions), versions)
    assert sorted(results) == sorted(versions)  # an answer for every file: nothing silently left out
    labels = {str(path): f"{label} {version} {bundle_type}" for (label, version, bundle_type), path in written.items()}
    absent_status = "error ResearchStudy.status: Missing property"
    failures = {labels[p]: [m for m in messages if m.split(" ", 1)[0] in ("error", "fatal")
                            and not (m == absent_status and _status_given_by_extension_only(Path(p)))]
                for p, messages in results.items()}
    assert {k: v for k, v in failures.items() if v} == {}
