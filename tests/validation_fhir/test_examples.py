"""Valid resources pass clean: the official HL7 examples copied into fixtures and hand-written ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters.problems import Severity
from converters.targets.fhir.validator import FhirValidator
from tests.validation_fhir.conftest import EXAMPLES, example_files, load

CASES = [(version, path) for version in ("R4", "R5") for path in example_files(version)]


def test_the_fixture_set_covers_both_versions_and_every_emitted_type() -> None:
    kinds = {(v, load(p)["resourceType"]) for v, p in CASES}
    for version in ("R4", "R5"):
        for resource_type in ("ResearchStudy", "PlanDefinition", "Group", "EvidenceVariable", "Organization",
                              "Location", "Practitioner", "PractitionerRole", "Bundle"):
            assert (version, resource_type) in kinds, (version, resource_type)


@pytest.mark.parametrize(("version", "path"), CASES, ids=[f"{v}-{p.parent.name}-{p.stem}" for v, p in CASES])
def test_valid_example_has_no_problem(validators: dict[str, FhirValidator], version: str, path: Path) -> None:
    problems = validators[version].validate(load(path), file=str(path.relative_to(EXAMPLES)))
    reported = [p.one_line() for p in problems if p.severity is not Severity.INFO]
    assert reported == []
    # the only notes allowed on valid input say what could not be checked offline
    assert {p.code for p in problems} <= {"fhir-binding-skipped"}


def test_each_version_rejects_the_other_versions_study(validators: dict[str, FhirValidator]) -> None:
    r4_study = load(EXAMPLES / "r4" / "handwritten" / "ResearchStudy-nct01234567.json")
    r5_study = load(EXAMPLES / "r5" / "handwritten" / "ResearchStudy-nct01234567.json")
    assert any(p.code == "fhir-unknown-element" for p in validators["R5"].validate(r4_study))
    assert any(p.code == "fhir-unknown-element" for p in validators["R4"].validate(r5_study))
