"""Single rules of the validator, each on a small resource: what passes, what is caught, and where."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from converters.problems import Severity
from converters.targets.fhir.validator import FhirValidator, validate_bundle, validate_resource
from converters.targets.fhir.validator.invariants import date_boundaries
from converters.targets.fhir.validator.primitives import calendar_problem
from tests.validation_fhir.conftest import EXAMPLES, load

DIV = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div>'}


def _found(problems: list[Any]) -> set[tuple[str, str]]:
    return {(p.code, p.location.path) for p in problems}


def test_public_one_off_functions(validators: dict[str, FhirValidator]) -> None:
    study = load(EXAMPLES / "r4" / "handwritten" / "ResearchStudy-nct01234567.json")
    assert validate_resource(study, "R4") == []
    assert validate_bundle(study, "R4")[0].code == "fhir-not-a-resource"
    with pytest.raises(ValueError):
        FhirValidator("R3")
    assert validators["R4"].fhir_version == "4.0.1" and validators["R5"].fhir_version == "5.0.0"


@pytest.mark.parametrize(("value", "ok"), [("2024-02-29", True), ("2023-02-29", False), ("2021-04-31", False),
                                           ("2021", True), ("2021-12", True), ("2021-12-31T23:59:60Z", True)])
def test_calendar_dates(value: str, ok: bool) -> None:
    assert (calendar_problem(value) is None) is ok


@pytest.mark.parametrize("version", ["R4", "R5"])
@pytest.mark.parametrize(
    ("type_code", "accepted", "rejected"),
    [
        ("integer", [0, -5, 2**31 - 1, -(2**31)], [2**31, -(2**31) - 1, 1.5, True, "1"]),
        ("positiveInt", [1, 2**31 - 1], [0, -1, 2**31, 2.0]),
        ("unsignedInt", [0, 2**31 - 1], [-1, 2**31, False]),
    ],
)
def test_integer_types_follow_their_official_pattern_and_range(
    validators: dict[str, FhirValidator], version: str, type_code: str, accepted: list[Any], rejected: list[Any]
) -> None:
    primitive = validators[version].definitions.primitive(type_code)
    assert primitive is not None and (primitive.min_value, primitive.max_value) == (-(2**31), 2**31 - 1)
    check = validators[version]._walker.checker(type_code)
    assert [check(value) for value in accepted] == [None] * len(accepted)
    assert all(check(value) is not None for value in rejected), [check(value) for value in rejected]


def test_date_boundaries_follow_precision() -> None:
    low, high = date_boundaries("2021-02") or (None, None)
    assert low is not None and high is not None
    assert (low.isoformat(), high.isoformat()) == ("2021-02-01T00:00:00", "2021-02-28T23:59:59.999999")


def test_period_of_mixed_precision_and_zones(validators: dict[str, FhirValidator]) -> None:
    base = {"resourceType": "ResearchStudy", "status": "active", "text": DIV}
    for version, status in (("R4", "active"), ("R5", "active")):
        ok = dict(base, status=status, period={"start": "2020-01", "end": "2020-01-15"})
        assert validators[version].validate(ok) == []
        zones = dict(base, period={"start": "2020-01-01T10:00:00+02:00", "end": "2020-01-01T09:00:00Z"})
        assert validators[version].validate(zones) == []  # 08:00Z is before 09:00Z
        bad = dict(base, period={"start": "2020-01-01T10:00:00Z", "end": "2020-01-01T11:00:00+02:00"})
        assert ("fhir-invariant", "ResearchStudy.period") in _found(validators[version].validate(bad))


def test_required_binding_on_codeable_concept(validators: dict[str, FhirValidator]) -> None:
    condition: dict[str, Any] = {"resourceType": "Condition", "text": DIV, "subject": {"reference": "Patient/p"},
                 "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                "code": "active"}]}}
    assert validators["R4"].validate(condition) == []
    wrong = copy.deepcopy(condition)
    wrong["clinicalStatus"]["coding"][0]["code"] = "ongoing"
    assert ("fhir-binding", "Condition.clinicalStatus.coding[0]") in _found(validators["R4"].validate(wrong))
    text_only = dict(condition, clinicalStatus={"text": "active"})
    assert ("fhir-binding", "Condition.clinicalStatus.coding") in _found(validators["R4"].validate(text_only))


def test_external_value_sets_are_reported_as_not_checked(validators: dict[str, FhirValidator]) -> None:
    practitioner: dict[str, Any] = {"resourceType": "Practitioner", "text": DIV,
                    "photo": [{"contentType": "image/png", "url": "https://x.org/p.png"},
                              {"contentType": "not a mime type", "url": "https://x.org/q.png"}]}
    problems = validators["R4"].validate(practitioner)
    assert [p.code for p in problems] == ["fhir-binding-skipped"]
    assert problems[0].severity is Severity.INFO and "bcp:13" in problems[0].message


def test_invariants_the_engine_cannot_evaluate_are_reported_as_skipped(validators: dict[str, FhirValidator]) -> None:
    team = {"resourceType": "CareTeam", "text": DIV,
            "participant": [{"role": [{"text": "x"}], "member": {"reference": "Practitioner/a"},
                             "onBehalfOf": {"reference": "Organization/o"}},
                            {"member": {"reference": "Practitioner/b"}, "onBehalfOf": {"reference": "Organization/o"}}]}
    problems = validators["R4"].validate(team)
    skipped = [p for p in problems if p.code == "fhir-invariant-skipped"]
    assert len(skipped) == 1  # said once per document, not once per element
    assert "ctm-1" in skipped[0].message and "resolve" in skipped[0].message
    assert skipped[0].location.path == "CareTeam.participant[0]"


def test_dom_6_applies_to_the_resource_not_to_contained_ones(validators: dict[str, FhirValidator]) -> None:
    study = {"resourceType": "ResearchStudy", "status": "active", "sponsor": {"reference": "#o"},
             "contained": [{"resourceType": "Organization", "id": "o", "name": "Org"}]}
    problems = validators["R4"].validate(study)
    assert [(p.code, p.severity, p.location.path) for p in problems] == [
        ("fhir-invariant", Severity.WARNING, "ResearchStudy")]
    assert "dom-6" in problems[0].message


def test_primitive_extensions_and_arrays_with_nulls(validators: dict[str, FhirValidator]) -> None:
    practitioner: dict[str, Any] = {"resourceType": "Practitioner", "text": DIV,
                    "name": [{"family": "Smith", "given": ["Ann", None],
                              "_given": [None, {"extension": [{"url": "http://x.org/e", "valueString": "B"}]}]}],
                    "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                                                  "valueCode": "unknown"}]}}
    assert validators["R4"].validate(practitioner) == []
    broken = copy.deepcopy(practitioner)
    broken["name"][0]["_given"] = [None]
    found = _found(validators["R4"].validate(broken))
    assert ("fhir-json-shape", "Practitioner.name[0].given") in found
    assert ("fhir-json-shape", "Practitioner.name[0].given[1]") in found
    only_id = dict(practitioner, _birthDate={"id": "b"})
    assert ("fhir-invariant", "Practitioner.birthDate") in _found(validators["R4"].validate(only_id))


def _bundle(entries: list[dict[str, Any]], kind: str = "collection") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


ORG = {"resourceType": "Organization", "id": "o1", "name": "Org", "text": DIV}


def _study(reference: str) -> dict[str, Any]:
    return {"resourceType": "ResearchStudy", "id": "s1", "status": "active", "text": DIV,
            "sponsor": {"reference": reference}}


@pytest.mark.parametrize(
    ("study_url", "org_url", "reference", "resolves"),
    [
        ("https://a.org/fhir/ResearchStudy/s1", "https://a.org/fhir/Organization/o1", "Organization/o1", True),
        ("https://a.org/fhir/ResearchStudy/s1", "https://a.org/fhir/Organization/o1", "Organization/o1/_history/2",
         True),
        ("https://a.org/fhir/ResearchStudy/s1", "https://a.org/fhir/Organization/o1",
         "https://a.org/fhir/Organization/o1", True),
        ("https://a.org/fhir/ResearchStudy/s1", "https://b.org/fhir/Organization/o1", "Organization/o1", False),
        ("urn:uuid:9a4e6c4e-1d8e-4a4f-9a7d-000000000001", "urn:uuid:9a4e6c4e-1d8e-4a4f-9a7d-000000000002",
         "urn:uuid:9a4e6c4e-1d8e-4a4f-9a7d-000000000002", True),
        ("urn:uuid:9a4e6c4e-1d8e-4a4f-9a7d-000000000001", "urn:uuid:9a4e6c4e-1d8e-4a4f-9a7d-000000000002",
         "Organization/o1", True),
        ("urn:uuid:9a4e6c4e-1d8e-4a4f-9a7d-000000000001", "urn:uuid:9a4e6c4e-1d8e-4a4f-9a7d-000000000002",
         "Organization/o2", False),
    ],
)
def test_reference_resolution_in_a_collection(validators: dict[str, FhirValidator], study_url: str, org_url: str,
                                              reference: str, resolves: bool) -> None:
    bundle = _bundle([{"fullUrl": study_url, "resource": _study(reference)}, {"fullUrl": org_url, "resource": ORG}])
    codes = [p.code for p in validators["R4"].validate(bundle)]
    assert ("fhir-reference-unresolved" not in codes) is resolves


def test_conditional_references_in_a_transaction(validators: dict[str, FhirValidator]) -> None:
    org = dict(ORG, identifier=[{"system": "https://x.org/orgs", "value": "o-1"}])
    by_update = _bundle([
        {"fullUrl": "urn:uuid:9a4e6c4e-1d8e-4a4f-9a7d-000000000001",
         "resource": _study("Organization?identifier=https://x.org/orgs|o-1"),
         "request": {"method": "PUT", "url": "ResearchStudy?identifier=https://x.org/s|1"}},
        {"fullUrl": "urn:uuid:9a4e6c4e-1d8e-4a4f-9a7d-000000000002", "resource": ORG,
         "request": {"method": "PUT", "url": "Organization?identifier=https://x.org/orgs|o-1"}},
    ], "transaction")
    assert validators["R4"].validate(by_update) == []
    by_identifier = copy.deepcopy(by_update)
    by_identifier["entry"][1] = {"fullUrl": "urn:uuid:9a4e6c4e-1d8e-4a4f-9a7d-000000000002", "resource": org,
                                 "request": {"method": "POST", "url": "Organization"}}
    assert validators["R4"].validate(by_identifier) == []
    searchset = _bundle([{"fullUrl": "https://a.org/ResearchStudy/s1", "resource": _study("Organization/zz"),
                          "search": {"mode": "match"}}], "searchset")
    assert validators["R4"].validate(searchset) == []  # a search result points at its server


def test_reference_target_type_is_checked_outside_bundles(validators: dict[str, FhirValidator]) -> None:
    problems = validators["R4"].validate(_study("Patient/p1"))
    found = [(p.code, p.location.path) for p in problems]
    assert found == [("fhir-reference-target", "ResearchStudy.sponsor.reference")]


def test_narrative_rules(validators: dict[str, FhirValidator]) -> None:
    for div, ok in [
        ('<div xmlns="http://www.w3.org/1999/xhtml"><table><tr><td colspan="2">x</td></tr></table></div>', True),
        ('<div xmlns="http://www.w3.org/1999/xhtml"><a href="https://x.org">x</a><img src="#i" alt="i"/></div>', True),
        ('<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="x()">x</p></div>', False),
        ('<div xmlns="http://www.w3.org/1999/xhtml"><form>x</form></div>', False),
        ("<div><p>no namespace</p></div>", False),
        ('<div xmlns="http://www.w3.org/1999/xhtml"><p>unclosed</div>', False),
        ('<!DOCTYPE x [<!ENTITY e "x">]><div xmlns="http://www.w3.org/1999/xhtml">&e;</div>', False),
    ]:
        study = {"resourceType": "ResearchStudy", "status": "active", "text": {"status": "generated", "div": div}}
        found = _found(validators["R4"].validate(study))
        assert (("fhir-invariant", "ResearchStudy.text.div") not in found) is ok, div
