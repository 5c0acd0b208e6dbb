"""The study-schema check answers with jsonschema-rs first, and still names every problem as pure-Python jsonschema."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

from converters.resources import Resources
from converters.targets.study.schema import StudySchemaValidator
from tests.conftest import ROOT

GOLDEN_STUDIES = sorted((ROOT / "tests" / "golden").rglob("*study.json"))


def python_only(validator: StudySchemaValidator, document: dict[str, Any]) -> list[Any]:
    """What the check said before jsonschema-rs answered first: the pure-Python path on every document."""
    return validator._problems(document, "x.json")


def test_there_are_golden_studies() -> None:
    assert len(GOLDEN_STUDIES) >= 10


@pytest.mark.parametrize("path", GOLDEN_STUDIES, ids=lambda p: p.relative_to(ROOT / "tests" / "golden").as_posix())
def test_a_written_study_passes_without_the_python_validator(resources: Resources, path: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    validator = StudySchemaValidator(resources)
    document = json.loads(path.read_text(encoding="utf-8"))
    monkeypatch.setattr(jsonschema, "Draft202012Validator", None)  # the slow path would fail here
    assert validator.validate(document, "x.json") == []


def _mutations(document: dict[str, Any]) -> list[dict[str, Any]]:
    cases = []
    for change in (
        lambda d: d.update(invented="value"),
        lambda d: d.update(schema_version=3),
        lambda d: d["status"].update(start={"value": "January 2026"}),
        lambda d: d["status"].update(start={"value": "2024-05-27", "precision": "fortnight"}),
        lambda d: d["titles"].update(brief=5),
        lambda d: d["titles"].pop("brief"),
        lambda d: d.update(arms=[{"label": 5}, {"label": "ok", "kind": "nonsense"}]),
        lambda d: d["source"].update(sha256="Z" * 64),
        lambda d: d.update(eligibility={"minimum_age": {"value": -1, "unit": "years"}}),
        lambda d: d.update(sites=[{"geo": {"lat": float("nan"), "lon": 2**70}}]),
        lambda d: d["titles"].update(brief="lone \ud800 surrogate"),
    ):
        case = copy.deepcopy(document)
        change(case)
        cases.append(case)
    return cases


@pytest.mark.parametrize("index", range(11))
def test_an_invalid_study_gets_the_pure_python_problems(resources: Resources, index: int) -> None:
    document = json.loads((ROOT / "tests" / "golden" / "ctgov" / "NCT02724163" / "study.json").read_text("utf-8"))
    case = _mutations(document)[index]
    validator = StudySchemaValidator(resources)
    assert validator.validate(case, "x.json") == python_only(validator, case)


def test_what_rust_refuses_but_python_accepts_stays_accepted(resources: Resources) -> None:
    """Python's `$` also matches before a final newline, Rust's does not: Python decides, as before."""
    document = json.loads((ROOT / "tests" / "golden" / "ctgov" / "NCT02724163" / "study.json").read_text("utf-8"))
    document["status"]["start"] = {"value": "2024\n", "precision": "year"}
    validator = StudySchemaValidator(resources)
    assert validator.validate(document) == python_only(validator, document) == []
