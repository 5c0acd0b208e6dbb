"""The committed study schema must be exactly what the model generates, and must reject bad studies."""

from __future__ import annotations

from converters.model import PartialDate, SourceInfo, Study, Titles, study_to_dict, study_to_json
from converters.resources import Resources
from converters.targets.study.schema import StudySchemaValidator, render_study_schema
from tests.conftest import ROOT


def test_committed_schema_matches_model() -> None:
    committed = (ROOT / "schemas" / "study.schema.json").read_text(encoding="utf-8")
    assert committed == render_study_schema(), (
        "schemas/study.schema.json is stale: run "
        "`python -m converters.targets.study.schema > schemas/study.schema.json`"
    )


def _study() -> Study:
    return Study(source=SourceInfo(file="x.txt", format="test", sha256="0" * 64), titles=Titles(brief="A title"))


def test_minimal_study_is_valid(resources: Resources) -> None:
    assert StudySchemaValidator(resources).validate(study_to_dict(_study())) == []


def test_schema_rejects_a_date_without_precision(resources: Resources) -> None:
    document = study_to_dict(_study())
    document["status"] = {"start": {"value": "January 2026"}}
    problems = StudySchemaValidator(resources).validate(document, file="x.txt")
    assert problems and all(p.code == "study-schema-invalid" for p in problems)
    assert problems[0].location.path == "/status/start"


def test_schema_rejects_unknown_fields(resources: Resources) -> None:
    document = study_to_dict(_study())
    document["invented"] = "value"
    assert StudySchemaValidator(resources).validate(document)


def test_absent_values_are_omitted_and_output_is_deterministic() -> None:
    study = _study()
    study.status.start = PartialDate(value="2026-01", precision="month")
    text = study_to_json(study)
    assert text == study_to_json(study)
    data = study_to_dict(study)
    assert "organization" not in data and "arms" not in data
    assert data["status"] == {"start": {"value": "2026-01", "precision": "month"}}
