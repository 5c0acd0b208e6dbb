"""Issue 10 (correct outputs), writer side: the enrolment count in R4 Group.quantity and one planned/actual rule,
distinct sites never merged, and no invented R4 status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from converters.model import Design, Enrollment, GeoPoint, Site, Status, Study
from converters.resources import Resources
from converters.targets.fhir import BuiltBundle
from converters.targets.fhir.draft import minted_id, normalise_name
from converters.targets.fhir.validator import FhirValidator

from .helpers import extensions, research_study, resources_of, sub
from .studies import bare_study, cell_therapy_study

Build = Callable[..., BuiltBundle]
DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"


def _with(study: Study, **update: Any) -> Study:
    return study.model_copy(update=update)


def _serious(version: str, bundle: dict[str, Any]) -> list[str]:
    return [p.one_line() for p in FhirValidator(version).validate(bundle) if p.severity.value in ("error", "fatal")]


def _traced(built: BuiltBundle, path_prefix: str) -> dict[str, set[str]]:
    """Bundle element path -> the study pointers traced to it, for paths under `path_prefix`."""
    out: dict[str, set[str]] = {}
    for element in built.trace["elements"]:
        if element["path"].startswith(path_prefix):
            out.setdefault(element["path"], set()).add(element["study"])
    return out


# --- 1. enrolment ------------------------------------------------------------------------------------


def test_r4_count_is_the_quantity_of_the_group_researchstudy_enrollment_references(build: Build) -> None:
    built = build(cell_therapy_study(), "R4")
    rs = research_study(built.bundle)
    (group,) = resources_of(built.bundle, "Group")
    assert rs["enrollment"] == [{"reference": f"urn:uuid:{group['id']}", "display": group["name"]}]
    assert group["quantity"] == 9 and group["actual"] is False and group["characteristic"]
    assert list(group).index("quantity") == list(group).index("name") + 1  # the R4 element order
    index = next(i for i, e in enumerate(built.bundle["entry"]) if e["resource"] is group)
    assert _traced(built, f"/entry/{index}/resource/quantity") == {
        f"/entry/{index}/resource/quantity": {"/design/enrollment/count"}}
    (ext,) = extensions(rs, "enrollment")  # planned/actual as the source states it stays in the extension
    assert sub(ext, "count") == [9] and sub(ext, "type") == ["ESTIMATED"]


def test_r4_untyped_count_keeps_its_type_unstated_in_the_extension(build: Build) -> None:
    study = _with(cell_therapy_study(), design=Design(enrollment=Enrollment(count=5)))
    built = build(study, "R4")
    (ext,) = extensions(research_study(built.bundle), "enrollment")
    assert sub(ext, "count") == [5] and sub(ext, "type") == []
    assert resources_of(built.bundle, "Group")[0]["quantity"] == 5


def test_r4_count_without_eligibility_gets_one_valid_group(build: Build) -> None:
    study = _with(bare_study(), design=Design(enrollment=Enrollment(count=18)))
    built = build(study, "R4")
    rs = research_study(built.bundle)
    (group,) = resources_of(built.bundle, "Group")
    assert rs["enrollment"][0]["reference"] == f"urn:uuid:{group['id']}"
    assert (group["type"], group["actual"], group["quantity"]) == ("person", False, 18)
    assert "characteristic" not in group and group["text"]["status"] == "generated"
    # the same identity as the eligibility Group, so a study always has one Group whatever the source states
    with_criteria = build(_with(cell_therapy_study(), source=study.source, identifiers=[], titles=study.titles),
                          "R4")
    assert resources_of(with_criteria.bundle, "Group")[0]["id"] == group["id"]
    assert _serious("R4", built.bundle) == []
    assert resources_of(build(bare_study(), "R4").bundle, "Group") == []  # no count, no criteria: no Group


STATUS_READING = [
    ("NOT_YET_RECRUITING", None, "targetNumber"), ("RECRUITING", None, "targetNumber"),
    ("ENROLLING_BY_INVITATION", None, "targetNumber"), ("SUSPENDED", None, "targetNumber"),
    ("WITHDRAWN", None, "targetNumber"), ("ACTIVE_NOT_RECRUITING", None, "actualNumber"),
    ("COMPLETED", None, "actualNumber"), ("TERMINATED", None, "actualNumber"),
    ("UNKNOWN", "COMPLETED", "actualNumber"), ("UNKNOWN", "RECRUITING", "targetNumber"),
    ("UNKNOWN", None, "targetNumber"), (None, None, "targetNumber"),
]


@pytest.mark.parametrize(("overall", "last_known", "key"), STATUS_READING)
def test_r5_untyped_count_is_placed_by_the_status(build: Build, overall: str | None, last_known: str | None,
                                                  key: str) -> None:
    study = _with(bare_study(), design=Design(enrollment=Enrollment(count=5)),
                  status=Status(overall=overall, last_known=last_known))
    built = build(study, "R5")
    rs = research_study(built.bundle)
    assert rs["recruitment"] == {key: 5} and extensions(rs, "enrollment") == []
    traced = _traced(built, f"/entry/0/resource/recruitment/{key}")[f"/entry/0/resource/recruitment/{key}"]
    assert "/design/enrollment/count" in traced
    decided = overall is not None and (overall != "UNKNOWN" or last_known is not None)
    assert ("/status/overall" in traced) == (overall is not None)
    assumed = [p for p in built.problems if p.code == "fhir-writer-enrollment-type-assumed"]
    assert len(assumed) == (0 if decided else 1)


@pytest.mark.parametrize(("stated", "status", "key"), [("ACTUAL", "RECRUITING", "actualNumber"),
                                                        ("ESTIMATED", "COMPLETED", "targetNumber")])
def test_r5_a_stated_type_wins_over_the_status(build: Build, stated: str, status: str, key: str) -> None:
    study = _with(bare_study(), design=Design(enrollment=Enrollment(count=7, type=stated)),
                  status=Status(overall=status))
    built = build(study, "R5")
    assert research_study(built.bundle)["recruitment"] == {key: 7}
    assert not [p for p in built.problems if p.code == "fhir-writer-enrollment-type-assumed"]


def test_no_status_says_the_default_was_used(build: Build) -> None:
    # seed 002: "18 participants in 1 patient group", no status anywhere on the page
    study = _with(bare_study(), design=Design(enrollment=Enrollment(count=18)))
    (problem,) = [p for p in build(study, "R5").problems if p.code == "fhir-writer-enrollment-type-assumed"]
    assert "18" in problem.message and "no status" in problem.message and "targetNumber" in problem.message


def test_the_rule_table_decides_every_registry_status(resources: Resources) -> None:
    """Every ClinicalTrials.gov overall status is either in the table or decided by the last known one."""
    from converters.model.enrollment import EnrollmentRule, read_enrollment

    rule = EnrollmentRule.load(resources)
    statuses = set(resources.mapping("common/vocabulary.yaml")["vocabularies"]["Status"]["values"])
    assert set(rule.statuses) | rule.use_last_known == statuses
    assert not set(rule.statuses) & rule.use_last_known
    assert rule.default == "planned"
    reading = read_enrollment(_with(bare_study(), design=Design(enrollment=Enrollment(count=3)),
                                    status=Status(overall_text="Pending")), rule)
    assert reading is not None and reading.assumed and "'Pending'" in reading.basis


# --- 2. sites ----------------------------------------------------------------------------------------


def _four_sites_one_name() -> list[Site]:
    """NCT05925803-like: one sponsor's investigative site name, one city, four postal codes."""
    return [Site(facility="Novartis Investigative Site", city="Seoul", country="Korea, Republic of", zip=z,
                 geo_point=GeoPoint(lat=37.566, lon=126.9784)) for z in ("04401", "04763", "06591", "13620")]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_sites_with_the_same_name_and_city_but_other_postal_codes_stay_distinct(build: Build, version: str) -> None:
    built = build(_with(bare_study(), sites=_four_sites_one_name()), version)
    locations = resources_of(built.bundle, "Location")
    assert sorted(loc["address"]["postalCode"] for loc in locations) == ["04401", "04763", "06591", "13620"]
    assert len(research_study(built.bundle)["site"]) == 4
    assert len({loc["identifier"][0]["value"] for loc in locations}) == 4  # four conditional-update keys


@pytest.mark.parametrize("field", ["zip", "geo_point", "state", "country", "city"])
def test_any_differing_stated_field_makes_another_site(build: Build, field: str) -> None:
    one = Site(facility="Site A", city="Lyon", state="Rhone", country="France", zip="69003",
               geo_point=GeoPoint(lat=45.75, lon=4.85))
    other = one.model_copy(update={field: GeoPoint(lat=45.76, lon=4.85) if field == "geo_point" else "Other"})
    built = build(_with(bare_study(), sites=[one, other]))
    assert len(resources_of(built.bundle, "Location")) == 2


def test_exact_repeats_merge_and_the_trace_lists_every_entry(build: Build) -> None:
    site = Site(facility="Hospital X", city="Lyon", country="France", zip="69003", status="RECRUITING",
                geo_point=GeoPoint(lat=45.75, lon=4.85))
    repeat = site.model_copy(update={"facility": "HOSPITAL  X", "status": "COMPLETED"})  # same site, other status
    built = build(_with(bare_study(), sites=[site, repeat, site.model_copy()]))
    (location,) = resources_of(built.bundle, "Location")
    rs = research_study(built.bundle)
    assert len(rs["site"]) == 1
    index = next(i for i, e in enumerate(built.bundle["entry"]) if e["resource"] is location)
    traced = _traced(built, f"/entry/{index}/resource")
    at = f"/entry/{index}/resource"
    assert traced[f"{at}/name"] == {"/sites/0/facility", "/sites/1/facility", "/sites/2/facility"}
    assert traced[f"{at}/address/postalCode"] == {"/sites/0/zip", "/sites/1/zip", "/sites/2/zip"}
    assert traced[f"{at}/position"] == {"/sites/0/geo_point", "/sites/1/geo_point", "/sites/2/geo_point"}
    # both statuses the entries state are kept, each traced to the entries stating it
    assert [e["valueCodeableConcept"]["text"] for e in location["extension"]] == ["Recruiting", "Completed"]
    assert traced[f"{at}/extension/0"] == {"/sites/0/status", "/sites/2/status"}
    assert traced[f"{at}/extension/1"] == {"/sites/1/status"}
    assert _traced(built, "/entry/0/resource/site/0")["/entry/0/resource/site/0"] == {"/sites/0", "/sites/1",
                                                                                       "/sites/2"}


def test_a_site_stating_no_postal_code_or_position_keeps_its_earlier_id(build: Build) -> None:
    # seed pages: facility, city, state, country only; their Locations keep the ids (and keys) of earlier outputs
    site = Site(facility="University Kebangsaan Malaysia Medical Center", city="Bandar Tun Razak",
                state="Kuala Lumpur", country="Malaysia")
    earlier = minted_id("Location:location", "|".join(normalise_name(p) for p in (
        site.facility or "", site.city or "", site.state or "", site.country or "")))
    (location,) = resources_of(build(_with(bare_study(), sites=[site])).bundle, "Location")
    assert location["id"] == earlier


# --- 3. status (writer side) -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status(), Status(overall="UNKNOWN"), Status(overall_text="Pending review")])
def test_r4_status_the_source_does_not_state_is_absent_not_invented(build: Build, status: Status) -> None:
    built = build(_with(cell_therapy_study(), status=status), "R4")
    rs = research_study(built.bundle)
    assert "status" not in rs
    assert rs["_status"] == {"extension": [{"url": DATA_ABSENT, "valueCode": "unknown"}]}
    (warning,) = [p for p in built.problems if p.code == "fhir-writer-status-absent"]
    assert warning.severity.value == "warning" and "data-absent-reason" in warning.message
    (ext,) = extensions(rs, "registry-status")  # what the source said (or that it said nothing) is kept
    assert ext["valueCodeableConcept"]["text"] in ("Not stated in the source", "Unknown status", "Pending review")
    assert _serious("R4", built.bundle) == []


def test_the_projects_validator_accepts_status_given_only_by_its_extension(build: Build) -> None:
    bundle = build(bare_study(), "R4").bundle
    assert _serious("R4", bundle) == []
    rs = research_study(bundle)
    del rs["_status"]  # neither `status` nor `_status`: the 1..1 element is missing
    assert any("ResearchStudy.status" in m and "1..1" in m for m in _serious("R4", bundle))
    rs["_status"] = {}  # an element with neither a value nor an extension breaks ele-1
    assert any("ele-1" in m for m in _serious("R4", bundle))
