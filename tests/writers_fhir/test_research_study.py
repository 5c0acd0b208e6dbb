"""ResearchStudy mapping, R4 and R5, element by element."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from converters.model import (
    Coding,
    DatePrecision,
    Design,
    Enrollment,
    Identifier,
    IdentifierKind,
    Organization,
    PartialDate,
    ResponsibleParty,
    Site,
    Sponsors,
    Status,
)
from converters.targets.fhir import BuiltBundle

from .helpers import codes, extensions, research_study, resources_of, sub
from .studies import bare_study, cell_therapy_study

Build = Callable[..., BuiltBundle]
CTGOV = "https://clinicaltrials.gov/data-about-studies/study-data-structure#enum-"


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_identifiers_are_typed_with_registry_systems(build: Build, version: str) -> None:
    rs = research_study(build(cell_therapy_study(), version).bundle)
    nct, sponsor, ctis = rs["identifier"]
    assert (nct["system"], nct["value"], nct["use"]) == ("https://clinicaltrials.gov", "NCT06420154", "official")
    assert ("https://trialbridge.dev/fhir/CodeSystem/study-identifier-type", "registry") in codes(nct["type"])
    assert "system" not in sponsor and sponsor["assigner"]["display"].startswith("Shanghai First Song")
    assert ctis["system"] == "https://euclinicaltrials.eu"
    assert (CTGOV + "SecondaryIdType", "CTIS") in codes(ctis["type"])
    # related studies are relatedArtifacts, never identifiers
    assert all(i["value"] != "NCT06373081" for i in rs["identifier"])
    related = [a for a in rs["relatedArtifact"] if a.get("label") == "NCT06373081"]
    assert len(related) == 1
    assert related[0]["type"] == ("documentation" if version == "R4" else "similar-to")


def test_r4_status_is_mapped_and_the_exact_registry_status_kept(build: Build) -> None:
    built = build(cell_therapy_study(), "R4")
    rs = research_study(built.bundle)
    assert rs["status"] == "approved"
    (ext,) = extensions(rs, "registry-status")
    assert codes(ext["valueCodeableConcept"]) == {(CTGOV + "Status", "NOT_YET_RECRUITING")}
    assert [p.code for p in built.problems if p.code.startswith("fhir-writer-status")] == ["fhir-writer-status-lossy"]


def test_r5_progress_status_uses_the_r5_code_and_record_status_active(build: Build) -> None:
    rs = research_study(build(cell_therapy_study(), "R5").bundle)
    assert rs["status"] == "active"
    states = [codes(p["state"]) for p in rs["progressStatus"]]
    assert {("http://hl7.org/fhir/research-study-status", "not-yet-recruiting"),
            (CTGOV + "Status", "NOT_YET_RECRUITING")} == states[0]
    overall = rs["progressStatus"][1]
    assert ("http://hl7.org/fhir/research-study-status", "overall-study") in codes(overall["state"])
    assert overall["period"] == {"start": "2024-05-27", "end": "2027"}
    primary = next(p for p in rs["progressStatus"] if p["state"]["text"] == "Primary completion")
    assert primary == {"state": primary["state"], "actual": False, "period": {"end": "2026-05"}}


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_dates_keep_their_precision(build: Build, version: str) -> None:
    rs = research_study(build(cell_therapy_study(), version).bundle)
    assert rs["period"] == {"start": "2024-05-27", "end": "2027"}


def test_unknown_status_uses_the_last_known_one_in_r4(build: Build) -> None:
    study = bare_study().model_copy(update={"status": Status(overall="UNKNOWN", last_known="RECRUITING")})
    built = build(study, "R4")
    rs = research_study(built.bundle)
    assert rs["status"] == "active"
    (ext,) = extensions(rs, "registry-status")
    assert ext["valueCodeableConcept"]["text"] == "Unknown status (last known status: Recruiting)"


def test_absent_status_is_written_absent_and_says_so(build: Build) -> None:
    # issue 10: no invented code; the required primitive carries only its data-absent-reason extension
    built = build(bare_study(), "R4")
    rs = research_study(built.bundle)
    assert "status" not in rs
    assert rs["_status"] == {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                                            "valueCode": "unknown"}]}
    (ext,) = extensions(rs, "registry-status")
    assert ext["valueCodeableConcept"] == {"text": "Not stated in the source"}
    assert "fhir-writer-status-absent" in [p.code for p in built.problems]
    assert "progressStatus" not in research_study(build(bare_study(), "R5").bundle)


@pytest.mark.parametrize(("phases", "code"), [
    (["PHASE1", "PHASE2"], "phase-1-phase-2"), (["PHASE2", "PHASE3"], "phase-2-phase-3"), (["NA"], "n-a"),
    (["EARLY_PHASE1"], "early-phase-1"), (["PHASE4"], "phase-4")])
@pytest.mark.parametrize("version", ["R4", "R5"])
def test_phase_codes_per_version(build: Build, version: str, phases: list[str], code: str) -> None:
    study = bare_study().model_copy(update={"design": Design(phases=phases)})
    rs = research_study(build(study, version).bundle)
    system = ("http://terminology.hl7.org/CodeSystem/research-study-phase" if version == "R4"
              else "http://hl7.org/fhir/research-study-phase")
    assert codes(rs["phase"]) == {(system, code)}


def test_unmapped_phase_combination_is_text_only_and_reported(build: Build) -> None:
    study = bare_study().model_copy(update={"design": Design(phases=["PHASE1", "PHASE3"])})
    built = build(study, "R4")
    assert research_study(built.bundle)["phase"] == {"text": "Phase 1/Phase 3"}
    assert "fhir-writer-value-unmapped" in [p.code for p in built.problems]


def test_enrollment_r4_extension_and_group_r5_recruitment(build: Build) -> None:
    r4 = research_study(build(cell_therapy_study(), "R4").bundle)
    (ext,) = extensions(r4, "enrollment")
    assert sub(ext, "count") == [9] and sub(ext, "type") == ["ESTIMATED"]
    assert r4["enrollment"][0]["reference"].startswith("urn:uuid:")
    r5 = research_study(build(cell_therapy_study(), "R5").bundle)
    assert r5["recruitment"]["targetNumber"] == 9 and "actualNumber" not in r5["recruitment"]
    actual = cell_therapy_study().model_copy(update={"design": Design(enrollment=Enrollment(count=40, type="ACTUAL"))})
    assert research_study(build(actual, "R5").bundle)["recruitment"]["actualNumber"] == 40


def test_parties_r4_native_elements_and_extension(build: Build) -> None:
    bundle = build(cell_therapy_study(), "R4").bundle
    rs = research_study(bundle)
    orgs = {o["name"]: o for o in resources_of(bundle, "Organization")}
    assert rs["sponsor"]["display"] == "Shanghai First Song Therapeutics Co., Ltd"
    assert ("http://terminology.hl7.org/CodeSystem/organization-type", "bus") in codes(
        orgs["Shanghai First Song Therapeutics Co., Ltd"]["type"][0])
    (collaborator,) = extensions(rs, "associated-party")
    assert sub(collaborator, "name") == ["First Affiliated Hospital of Wenzhou Medical University"]
    pi_role = next(r for r in resources_of(bundle, "PractitionerRole")
                   if r["id"] == rs["principalInvestigator"]["reference"].removeprefix("urn:uuid:"))
    assert pi_role["organization"]["display"] == "First Affiliated Hospital of Wenzhou Medical University"
    assert rs["contact"][0]["telecom"][0]["value"] == "+86 577 0000000 ext. 12"
    # the responsible party (Li Sun, PI) is the same person as the official (LI Sun): one Practitioner
    names = [p["name"][0]["text"] for p in resources_of(bundle, "Practitioner") if "name" in p]
    assert sorted(names) == ["LI Sun", "Wei Chen"]


def test_parties_r5_associated_party_roles(build: Build) -> None:
    rs = research_study(build(cell_therapy_study(), "R5").bundle)
    roles = [next(iter(codes(p["role"])), ("", p["role"]["text"]))[1] for p in rs["associatedParty"]]
    assert roles == ["lead-sponsor", "collaborator", "primary-investigator", "recruitment-contact"]
    assert "sponsor" not in rs and "contact" not in rs


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_sites_locations_and_countries(build: Build, version: str) -> None:
    bundle = build(cell_therapy_study(), version).bundle
    rs = research_study(bundle)
    (location,) = resources_of(bundle, "Location")
    assert rs["site"][0]["reference"] == f"urn:uuid:{location['id']}"
    assert location["address"] == {"city": "Wenzhou", "state": "Zhejiang", "postalCode": "325000",
                                   "country": "China"}
    assert location["position"] == {"longitude": 120.66682, "latitude": 27.99942}
    (status,) = extensions(location, "registry-status")
    assert status["valueCodeableConcept"]["text"] == "Recruiting"
    countries = rs["location" if version == "R4" else "region"]
    assert countries == [{"coding": [{"system": "urn:iso:std:iso:3166", "code": "CN"}], "text": "China"}]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_arms_and_outcomes_with_time_frames(build: Build, version: str) -> None:
    rs = research_study(build(cell_therapy_study(), version).bundle)
    arm = rs["arm" if version == "R4" else "comparisonGroup"][0]
    assert arm["name"] == "Treatment group"
    expected = {(CTGOV + "ArmGroupType", "EXPERIMENTAL")}
    if version == "R5":
        expected.add(("http://hl7.org/fhir/research-study-arm-type", "experimental"))
        assert arm["linkId"] == "arm-1"
    assert codes(arm["type"]) == expected
    outcomes = rs["objective" if version == "R4" else "outcomeMeasure"]
    assert [o["name"] for o in outcomes] == ["Incidence of adverse events", "SRI-4 response", "Quality of life"]
    assert [extensions(o, "time-frame")[0]["valueString"] for o in outcomes][1] == "Baseline, 12 weeks"
    other = outcomes[2]["type"] if version == "R4" else outcomes[2]["type"][0]
    assert other == {"text": "Other pre-specified outcome measure"}  # no HL7 code is claimed


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_where_the_data_came_from(build: Build, version: str) -> None:
    rs = research_study(build(cell_therapy_study(), version).bundle)
    source, converter = rs["relatedArtifact"][:2]
    assert source["type"] == ("derived-from" if version == "R4" else "transforms")
    assert "001_f387f9769c9c7516.txt" in source["display"]
    assert converter["type"] == ("documentation" if version == "R4" else "transformed-with")
    assert "trialbridge" in converter["display"]
    record = next(a for a in rs["relatedArtifact"] if a.get("label") == "registry record")
    url = record["url"] if version == "R4" else record["document"]["url"]
    assert url == "https://clinicaltrials.gov/study/NCT06420154"


def test_ctgov_json_source_points_at_the_api_record(build: Build) -> None:
    study = cell_therapy_study()
    study = study.model_copy(update={"source": study.source.model_copy(update={"format": "ctgov-v2-json"})})
    source = research_study(build(study, "R5").bundle)["relatedArtifact"][0]
    assert source["document"]["url"] == "https://clinicaltrials.gov/api/v2/studies/NCT06420154"


def test_study_without_registry_id_uses_sponsor_then_digest(build: Build) -> None:
    digest = research_study(build(bare_study(), "R4").bundle)
    (ident,) = digest["identifier"]
    assert ident["system"] == "https://trialbridge.dev/fhir/sid/source-record" and ident["value"] == "0" * 63 + "1"
    sponsored = bare_study().model_copy(update={
        "identifiers": [Identifier(value="ABC-1", kind=IdentifierKind.SPONSOR)],
        "sponsors": Sponsors(lead=Organization(name="Acme"))})
    built = build(sponsored, "R4", "transaction")
    rs = research_study(built.bundle)
    assert rs["identifier"][-1]["system"] == "https://trialbridge.dev/fhir/sid/sponsor-study-id"
    assert built.bundle["entry"][0]["request"]["url"] == (
        "ResearchStudy?identifier=https://trialbridge.dev/fhir/sid/sponsor-study-id|" + rs["identifier"][-1]["value"])
    assert "fhir-writer-no-registry-id" in [p.code for p in built.problems]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_condition_codes_only_where_the_source_gives_them(build: Build, version: str) -> None:
    study = bare_study().model_copy(update={
        "conditions": ["Lupus Erythematosus, Systemic", "Vasculitis"],
        "condition_codes": [Coding(system="MeSH", code="D008180", display="Lupus Erythematosus, Systemic"),
                            Coding(system="MeSH", code="D014657", display="Vasculitis, Leukocytoclastic"),
                            Coding(system="Local list", code="X1", display="Local thing")]})
    built = build(study, version)
    conditions = research_study(built.bundle)["condition"]
    assert conditions[0]["coding"] == [{"system": "urn:oid:2.16.840.1.113883.6.177", "code": "D008180",
                                        "display": "Lupus Erythematosus, Systemic"}]
    assert conditions[1] == {"text": "Vasculitis"}
    assert conditions[2]["coding"][0]["code"] == "D014657"
    assert conditions[3] == {"text": "Local thing"}
    assert "fhir-writer-code-system-unknown" in [p.code for p in built.problems]


def test_month_precision_start_date_is_written_as_given(build: Build) -> None:
    study = bare_study().model_copy(update={"status": Status(
        overall="COMPLETED", start=PartialDate(value="2019-03", precision=DatePrecision.MONTH, type="ACTUAL"))})
    rs = research_study(build(study, "R4").bundle)
    assert rs["status"] == "completed" and rs["period"] == {"start": "2019-03"}
    (milestone,) = extensions(rs, "study-milestone")
    assert sub(milestone, "date") == ["2019-03"] and sub(milestone, "type") == ["ACTUAL"]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_sponsor_with_unstated_role_is_not_made_the_lead(build: Build, version: str) -> None:
    study = bare_study().model_copy(update={"sponsors": Sponsors(
        role_unstated=[Organization(name="Wuhan Union Hospital, China")])})
    rs = research_study(build(study, version).bundle)
    assert "sponsor" not in rs
    if version == "R4":
        (party,) = extensions(rs, "associated-party")
        role = sub(party, "role")[0]
    else:
        (entry,) = rs["associatedParty"]
        role = entry["role"]
    assert codes(role) == {("http://hl7.org/fhir/research-study-party-role", "sponsor")}


@pytest.mark.parametrize(("overall", "key"), [("NOT_YET_RECRUITING", "targetNumber"), ("RECRUITING", "targetNumber"),
                                              ("COMPLETED", "actualNumber"), (None, "targetNumber")])
def test_r5_untyped_enrollment_is_placed_by_the_status(build: Build, overall: str | None, key: str) -> None:
    # issue 10: one rule (mappings/common/enrollment.yaml) places a count of unstated type by the study's status;
    # the count is never left out of recruitment (seed 003: "5 participants" on a recruiting study is the target)
    study = bare_study().model_copy(update={"design": Design(enrollment=Enrollment(count=5)),
                                            "status": Status(overall=overall)})
    rs = research_study(build(study, "R5").bundle)
    assert rs["recruitment"] == {key: 5} and extensions(rs, "enrollment") == []


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_responsible_party_of_unstated_type_is_kept_without_a_guessed_code(build: Build, version: str) -> None:
    # seed 001: "Responsible Party: Li Sun / Professor and Chief Physician, ..." with no type
    study = bare_study().model_copy(update={"sponsors": Sponsors(responsible_party=ResponsibleParty(
        investigator_name="Li Sun", investigator_title="Professor and Chief Physician"))})
    bundle = build(study, version).bundle
    rs = research_study(bundle)
    if version == "R4":
        (party,) = extensions(rs, "associated-party")
        role, name = sub(party, "role")[0], sub(party, "name")[0]
        assert "principalInvestigator" not in rs
    else:
        (entry,) = rs["associatedParty"]
        role, name = entry["role"], entry["name"]
    assert role == {"text": "Responsible party (type not stated)"} and name == "Li Sun"
    (practitioner_role,) = resources_of(bundle, "PractitionerRole")
    assert [c["text"] for c in practitioner_role["code"]] == ["Responsible party", "Professor and Chief Physician"]
    assert all("coding" not in c for c in practitioner_role["code"])


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_contact_points_carry_only_what_the_source_gives(build: Build, version: str) -> None:
    # a registry gives a number or an address, never whether it is work, home or mobile: no `use` is written
    bundle = build(cell_therapy_study(), version).bundle
    points = [p for r in resources_of(bundle, "Practitioner") for p in r.get("telecom", [])]
    points += [p for c in research_study(bundle).get("contact", []) for p in c.get("telecom", [])]
    assert points
    assert all(set(p) == {"system", "value"} for p in points), points


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_countries_are_coded_from_the_table_the_sdtm_writer_uses(build: Build, version: str) -> None:
    # mappings/common/countries.yaml: names (also without accents) and ISO codes, as the SDTM writer matches them
    study = cell_therapy_study().model_copy(update={"countries": ["Korea, South", "Aland Islands", "USA",
                                                                  "Atlantis"]})
    rs = research_study(build(study, version).bundle)
    countries = rs["location" if version == "R4" else "region"]
    assert [(c["text"], [x["code"] for x in c.get("coding", [])]) for c in countries] == [
        ("Korea, South", ["KR"]), ("Aland Islands", ["AX"]), ("USA", ["US"]), ("Atlantis", [])]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_a_repeated_country_is_traced_to_the_entry_written_for_it(build: Build, version: str) -> None:
    study = bare_study().model_copy(update={"sites": [
        Site(facility="Site 1", country="United States"), Site(facility="Site 2", country="Germany"),
        Site(facility="Site 3", country="united states")]})
    built = build(study, version)
    key = "location" if version == "R4" else "region"
    assert [c["text"] for c in research_study(built.bundle)[key]] == ["United States", "Germany"]
    traced = {e["study"]: e["path"] for e in built.trace["elements"] if e["study"].endswith("/country")
              and f"/{key}/" in e["path"]}
    at = f"/entry/0/resource/{key}/"
    assert traced == {"/sites/0/country": at + "0", "/sites/1/country": at + "1", "/sites/2/country": at + "0"}
