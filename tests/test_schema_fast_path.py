"""Schema checks answer with jsonschema-rs first, and still name every problem as pure-Python jsonschema did."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
import yaml

from converters.resources import MappingError, Resources, compiled_schema, rust_accepts
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


MAPPING_FILES = sorted(p.relative_to(ROOT / "mappings").as_posix() for p in (ROOT / "mappings").rglob("*.yaml"))


@pytest.mark.parametrize("name", MAPPING_FILES)
def test_a_shipped_mapping_file_loads_without_the_python_validator(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonschema, "Draft202012Validator", None)  # the slow path would fail here
    data = Resources(root=ROOT).mapping(name)
    assert data == yaml.safe_load((ROOT / "mappings" / name).read_text(encoding="utf-8")), "the C loader's data"


@pytest.mark.parametrize(("schema", "value"), [
    ({"pattern": "^\\S+( \\S+)*$"}, "a\x1cb"),  # Python's \s takes U+001C..U+001F and U+0085, ECMA's does not
    ({"pattern": "^\\S+$"}, "a\x85b"),
    ({"pattern": "^\\S+$"}, {"nested": ["a\x1fb"]}),
    ({"type": "number"}, float("nan")),
    ({"type": "string"}, __import__("datetime").date(2024, 5, 17)),  # what YAML reads from an unquoted date
    ({"type": "object"}, {1: "a non-string key"}),
])
def test_rust_says_no_where_it_could_be_laxer_than_python(schema: dict[str, Any], value: Any) -> None:
    full = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    assert not rust_accepts(compiled_schema(full), value)


def test_a_mapping_with_a_python_only_space_is_still_refused(tmp_path: Any) -> None:
    """A word only Python's `\\S` refuses (U+001C inside it): the file is still invalid, in jsonschema's words."""
    root = tmp_path / "data"
    (root / "mappings" / "ctgov_v2").mkdir(parents=True)
    (root / "schemas").symlink_to(ROOT / "schemas")
    text = (ROOT / "mappings" / "ctgov_v2" / "study.yaml").read_text(encoding="utf-8")
    assert "  qualifiers: [Key, " in text
    bad = text.replace("  qualifiers: [Key, ", '  qualifiers: ["K\\x1cey", ', 1)
    (root / "mappings" / "ctgov_v2" / "study.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(MappingError, match=r"invalid: at /criteria_headings/qualifiers/0: 'K\\x1cey' does not match"):
        Resources(root=root).mapping("ctgov_v2/study.yaml")


def _dataset_json(resources: Resources, tmp_path: Any) -> dict[str, Any]:
    from converters.targets.base import WriterConfig
    from converters.targets.sdtm import SdtmWriter
    from tests.writers_sdtm.studies import seed_001_study

    SdtmWriter(WriterConfig(resources=resources, options={"sdtm_formats": "json"})).write_study(
        seed_001_study(), tmp_path)
    doc: dict[str, Any] = json.loads((tmp_path / "sdtm" / "json" / "ts.json").read_text(encoding="utf-8"))
    return doc


def test_a_written_dataset_json_passes_without_fastjsonschema(resources: Resources, tmp_path: Any) -> None:
    from converters.targets.sdtm.checks import OutputValidators

    validators = OutputValidators(resources)
    assert validators.dataset_json_error(_dataset_json(resources, tmp_path)) is None
    assert "_dataset_json" not in vars(validators), "fastjsonschema was compiled for a valid file"


@pytest.mark.parametrize("change", [
    lambda d: d.update(records="five"),
    lambda d: d.update(datasetJSONVersion="2.0"),
    lambda d: d.pop("columns"),
    lambda d: d["columns"][0].update(dataType="text"),
    lambda d: d.update(datasetJSONCreationDateTime="2024-05-17T00:00:00\n"),  # a final newline
])
def test_an_invalid_dataset_json_gets_fastjsonschemas_message(resources: Resources, tmp_path: Any,
                                                              change: Any) -> None:
    from converters.targets.sdtm.checks import OutputValidators, compile_dataset_json_schema

    doc = _dataset_json(resources, tmp_path)
    change(doc)
    fast = compile_dataset_json_schema(resources)
    try:
        fast(doc)
        expected = None
    except Exception as exc:  # fastjsonschema.JsonSchemaValueException
        expected = str(getattr(exc, "message", exc))
    assert OutputValidators(resources).dataset_json_error(doc) == expected
