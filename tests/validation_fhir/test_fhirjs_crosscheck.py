"""Cross-check with an independent validator: FHIR.js 4.12.0 loaded with the official R4/R5 packages.

FHIR.js accepts every valid fixture (official HL7 examples and hand-written resources), and it also
rejects every mutation of the kinds it checks (wrong codes, missing required elements, unknown elements),
which confirms, independently of trialbridge's code, that those mutations are real defects.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fhirjs import real_errors, validate_with_fhirjs
from tests.validation_fhir.conftest import example_files
from tests.validation_fhir.mutations import MUTATIONS

pytestmark = pytest.mark.slow

#: Mutation kinds FHIR.js checks; the one mutation left out is in `_` companions, which FHIR.js ignores.
CHECKED_KINDS = {"wrong-code", "missing-required", "unknown-element"}
NOT_SEEN_BY_FHIRJS = {"r4-primitive-companion-unknown"}


@pytest.fixture(scope="module")
def fhirjs_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """One FHIR.js run over every fixture and every checked mutation."""
    folder = tmp_path_factory.mktemp("mutations")
    versions = {str(p): v for v in ("R4", "R5") for p in example_files(v)}
    for mutation in MUTATIONS:
        if mutation.kind in CHECKED_KINDS and mutation.id not in NOT_SEEN_BY_FHIRJS:
            path = folder / f"{mutation.id}.json"
            path.write_text(json.dumps(mutation.apply()), encoding="utf-8")
            versions[str(path)] = mutation.version
    return validate_with_fhirjs(list(versions), versions)


def test_fhirjs_accepts_every_valid_fixture(fhirjs_results: dict[str, list[str]]) -> None:
    fixtures = [str(p) for v in ("R4", "R5") for p in example_files(v)]
    assert {f: real_errors(fhirjs_results[f]) for f in fixtures} == {f: [] for f in fixtures}


def test_fhirjs_rejects_every_mutation_it_can_see(fhirjs_results: dict[str, list[str]]) -> None:
    missed = [name for name, messages in fhirjs_results.items()
              if Path(name).parent.name.startswith("mutations") and not real_errors(messages)]
    assert missed == []
    assert sum(1 for name in fhirjs_results if Path(name).parent.name.startswith("mutations")) >= 30


def test_fhirjs_answers_hold_only_warnings_and_errors(fhirjs_results: dict[str, list[str]]) -> None:
    """`validate_with_fhirjs` promises warnings and errors; FHIR.js names its information severity 'info'."""
    severities = {message.split(" ", 1)[0] for messages in fhirjs_results.values() for message in messages}
    assert severities <= {"warning", "error", "fatal"}, severities
    assert "warning" in severities  # the fixtures do draw warnings, so the filter is seen to keep them
