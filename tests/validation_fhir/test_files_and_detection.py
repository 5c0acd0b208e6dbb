"""`validate_fhir_file` never raises on bad input, and `detect_version` tells R4 from R5."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters.problems import ExitCode, Severity, worst_exit_code
from converters.targets.fhir.validator import FhirValidator, detect_version, validate_fhir_file
from tests.validation_fhir.conftest import EXAMPLES, example_files, load


def _codes(problems: list) -> list[str]:  # type: ignore[type-arg]
    return [p.code for p in problems]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "input-empty"),
        (b"{not json", "fhir-json-invalid"),
        (b'{"resourceType": "ResearchStudy", "status": NaN}', "fhir-json-invalid"),
        (b"\xff\xfe{}", "fhir-json-invalid"),
        (b"[1, 2]", "fhir-not-a-resource"),
        (b'{"id": "x"}', "fhir-not-a-resource"),
        (b"[" * 100_000 + b"]" * 100_000, "fhir-json-invalid"),
    ],
    ids=["empty", "malformed", "nan", "not-utf8", "array", "no-resource-type", "deep"],
)
def test_bad_input_is_a_fatal_problem_not_an_exception(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "in.json"
    path.write_bytes(content)
    problems = validate_fhir_file(path, "R4")
    assert code in _codes(problems)
    assert worst_exit_code(problems) is ExitCode.UNUSABLE_INPUT
    assert all(p.location.file == str(path) for p in problems)


def test_missing_file_and_unknown_version(tmp_path: Path) -> None:
    assert _codes(validate_fhir_file(tmp_path / "nope.json", "R4")) == ["input-not-found"]
    good = EXAMPLES / "r4" / "official" / "ResearchStudy-example.json"
    assert _codes(validate_fhir_file(good, "R6")) == ["fhir-version-unknown"]


def test_malformed_json_points_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text('{\n  "resourceType": "ResearchStudy",\n  "status": "active",,\n}\n')
    (problem,) = validate_fhir_file(path, "R4")
    assert problem.code == "fhir-json-invalid" and problem.location.line == 3


def test_duplicate_properties_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text('{"resourceType": "ResearchStudy", "status": "active", "status": "completed"}')
    problems = validate_fhir_file(path, "R4")
    assert "fhir-json-shape" in _codes(problems) and "'status'" in problems[0].message


def test_deeply_nested_resource_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    depth = 5000
    inner = '{"url": "http://x.org/e", "valueString": "x"}'
    text = '{"url": "http://x.org/e", "extension": [' * depth + inner + "]}" * depth
    path = tmp_path / "in.json"
    path.write_text('{"resourceType": "Basic", "code": {"text": "x"}, "extension": [' + text + "]}")
    problems = validate_fhir_file(path, "R4")
    assert worst_exit_code(problems) is not ExitCode.OK


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_files_of_each_version_are_detected_and_validated_clean(
    validators: dict[str, FhirValidator], version: str
) -> None:
    for path in example_files(version):
        problems = validate_fhir_file(path, validators=validators)
        assert [p.one_line() for p in problems if p.severity not in (Severity.INFO,)] == [], path


def test_detect_version_uses_version_specific_elements() -> None:
    r4 = load(EXAMPLES / "r4" / "handwritten" / "ResearchStudy-nct01234567.json")
    r5 = load(EXAMPLES / "r5" / "handwritten" / "ResearchStudy-nct01234567.json")
    assert detect_version(r4) == "R4"
    assert detect_version(r5) == "R5"
    assert detect_version(load(EXAMPLES / "r5" / "handwritten" / "Bundle-collection.json")) == "R5"
    assert detect_version({"resourceType": "Bundle", "type": "collection", "issues": {}}) == "R5"
    assert detect_version({"resourceType": "Group", "type": "person", "actual": False}) == "R4"
    assert detect_version({"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1"}) == "R4"
    assert detect_version({"resourceType": "Organization", "name": "x"}) is None
    assert detect_version([1, 2]) is None


def test_undetectable_version_is_guessed_and_said(tmp_path: Path) -> None:
    path = tmp_path / "org.json"
    path.write_text(json.dumps({"resourceType": "Organization", "name": "Example"}))
    problems = validate_fhir_file(path)
    assert _codes(problems)[0] == "fhir-version-guessed" and "R4" in problems[0].message
