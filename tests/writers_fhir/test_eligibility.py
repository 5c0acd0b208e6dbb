"""Eligibility Group: structured age and sex, every criterion kept with its text and place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from converters.model import CriteriaSection, Criterion, Eligibility
from converters.resources import Resources
from converters.targets.fhir import BuiltBundle, CodedDefinition, CriterionItem, FhirMaps, build_bundle

from .helpers import extensions, resources_of, sub
from .studies import bare_study, cell_therapy_study

Build = Callable[..., BuiltBundle]


def _group(bundle: dict[str, Any]) -> dict[str, Any]:
    (group,) = resources_of(bundle, "Group")
    return group


def _criteria(group: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in group["characteristic"] if extensions(c, "eligibility-criterion")]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_group_is_definitional(build: Build, version: str) -> None:
    group = _group(build(cell_therapy_study(), version).bundle)
    assert group["type"] == "person"
    if version == "R4":
        assert group["actual"] is False and "membership" not in group
    else:
        assert group["membership"] == "definitional" and "actual" not in group


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_age_range_and_healthy_volunteers(build: Build, version: str) -> None:
    group = _group(build(cell_therapy_study(), version).bundle)
    age = group["characteristic"][0]
    assert age["valueRange"] == {
        "low": {"value": 18, "unit": "years", "system": "http://unitsofmeasure.org", "code": "a"},
        "high": {"value": 65, "unit": "years", "system": "http://unitsofmeasure.org", "code": "a"}}
    assert age["exclude"] is False
    volunteers = group["characteristic"][1]
    assert volunteers["valueCodeableConcept"]["coding"][0]["code"] == "N"
    # sex ALL is no restriction: no characteristic
    assert not any(c["code"]["text"] == "Sex" for c in group["characteristic"])


def test_sex_is_structured_when_restricted(build: Build) -> None:
    study = bare_study().model_copy(update={"eligibility": Eligibility(sex="FEMALE")})
    (sex,) = _group(build(study, "R4").bundle)["characteristic"]
    assert sex["code"]["coding"][0]["code"] == "46098-0"
    assert sex["valueCodeableConcept"]["coding"] == [{"system": "http://hl7.org/fhir/administrative-gender",
                                                      "code": "female"}]


def test_every_criterion_is_kept_with_section_position_and_cohort(build: Build) -> None:
    group = _group(build(cell_therapy_study(), "R4").bundle)
    criteria = _criteria(group)
    texts = [sub(extensions(c, "eligibility-criterion")[0], "text")[0] for c in criteria]
    assert texts == [
        "Aged 18-65 years old;",
        "Have good intravenous access (for apheresis) and have no other contraindications;",
        "When screening patients, laboratory tests must meet the following requirements:",
        "Absolute neutrophil count ≥1.0×10^9/L;",
        "Platelets ≥50×10^9/L;",
        "Meet the 2019 EULAR/ACR classification criteria for SLE;",
        "Severe <uncontrolled> infection & sepsis;",
        "Long-acting growth factors within 14 days before apheresis (such as pegfilgrastim);",
    ]
    platelets = extensions(criteria[4], "eligibility-criterion")[0]
    assert sub(platelets, "section") == ["inclusion"]
    assert sub(platelets, "position") == ["1.3.2"] and sub(platelets, "marker") == ["3."]
    sle = extensions(criteria[5], "eligibility-criterion")[0]
    assert sub(sle, "cohort") == ["Systemic lupus erythematosus"]
    assert [c["exclude"] for c in criteria] == [False] * 6 + [True] * 2
    assert criteria[6]["code"]["text"] == "Severe <uncontrolled> infection & sepsis;"


def test_unsectioned_criteria_are_flagged(build: Build) -> None:
    study = bare_study().model_copy(update={"eligibility": Eligibility(criteria=[
        CriteriaSection(category="unspecified", items=[Criterion(text="Adults")])])})
    built = build(study, "R4")
    (criterion,) = _criteria(_group(built.bundle))
    assert criterion["exclude"] is False
    assert "fhir-writer-criteria-unspecified" in [p.code for p in built.problems]


def test_no_group_when_the_source_states_no_eligibility(build: Build) -> None:
    assert resources_of(build(bare_study(), "R4").bundle, "Group") == []


class _PlateletCoder:
    """A stand-in for the later threshold parser: codes one criterion as a LOINC quantity."""

    def code(self, item: CriterionItem) -> CodedDefinition | None:
        if not item.text.startswith("Platelets"):
            return None
        return CodedDefinition(
            code={"coding": [{"system": "http://loinc.org", "code": "777-3"}], "text": "Platelets"},
            value_type="Quantity",
            value={"comparator": ">=", "value": 50, "unit": "10*9/L", "system": "http://unitsofmeasure.org",
                   "code": "10*9/L"})


def test_a_coder_plugs_in_and_the_source_text_stays(resources: Resources, fhir_maps: dict[str, FhirMaps]) -> None:
    built = build_bundle(cell_therapy_study(), fhir_maps["R4"], resources, coder=_PlateletCoder())
    platelets = _criteria(_group(built.bundle))[4]
    assert platelets["code"]["coding"][0]["code"] == "777-3"
    assert platelets["valueQuantity"]["comparator"] == ">="
    assert sub(extensions(platelets, "eligibility-criterion")[0], "text") == ["Platelets ≥50×10^9/L;"]
