"""Mutation tests: each defect put into a valid resource is caught, with its code and FHIRPath."""

from __future__ import annotations

import pytest

from converters.problems import Severity
from converters.targets.fhir.validator import FhirValidator
from tests.validation_fhir.mutations import MUTATIONS, Mutation

KINDS = {"wrong-code", "missing-required", "broken-reference", "bad-date", "unknown-element", "invariant"}


def test_the_set_has_every_kind_of_defect_in_both_versions() -> None:
    for version in ("R4", "R5"):
        assert {m.kind for m in MUTATIONS if m.version == version} >= KINDS, version
    assert len({m.id for m in MUTATIONS}) == len(MUTATIONS)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.id for m in MUTATIONS])
def test_mutation_is_caught_at_its_fhirpath(validators: dict[str, FhirValidator], mutation: Mutation) -> None:
    validator = validators[mutation.version]
    before = [p for p in validator.validate(mutation.original()) if p.severity is not Severity.INFO]
    assert before == [], "the fixture must be valid before the mutation"
    problems = validator.validate(mutation.apply())
    found = [(p.code, p.location.path) for p in problems]
    assert (mutation.code, mutation.path) in found, [p.one_line() for p in problems]
    hit = next(p for p in problems if (p.code, p.location.path) == (mutation.code, mutation.path))
    assert (hit.message and hit.message[0].isupper()) or hit.message.startswith("'")
    assert hit.severity in (Severity.ERROR, Severity.WARNING)
