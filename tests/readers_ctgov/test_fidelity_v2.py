"""Every API v2 fixture record, field by field: the canonical study says what the source says, nothing more.

The checks are written against the source structure (the OpenAPI field names), never against expected values
for particular records: each one runs over all 59 fixture records (49 files and the 10 studies of the page).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from converters.model import IdentifierKind, Study, study_to_dict
from converters.model.criteria_markdown import iter_items
from converters.resources import Resources
from converters.targets.study.schema import StudySchemaValidator
from tests.readers_ctgov.helpers import covered, document, json_leaves, read, resolve_pointer, v2_records

RECORDS = v2_records()
IDS = [r["protocolSection"]["identificationModule"]["nctId"] for r in RECORDS]
NCT = re.compile(r"NCT\d{8}")
MARKDOWN_ESCAPE = re.compile(r"\\[!-/:-@\[-`{-~]")  # a backslash before ASCII punctuation
LIST_MARKER = re.compile(r"^\s*(?:[-*+•]|\d{1,3}(?:\.\d{1,3})*[.)]|[a-zA-Z][.)]|\([a-zA-Z0-9]{1,4}\))\s+")


@pytest.fixture(scope="module")
def converted(resources: Resources) -> dict[str, tuple[dict[str, Any], Study]]:
    out = {}
    for record in RECORDS:
        name, outcomes = read(document(json.dumps(record).encode(), "record.json"), resources)
        assert name == "ctgov-v2-json"
        assert len(outcomes) == 1 and outcomes[0].study is not None, outcomes[0].problems
        study = outcomes[0].study
        out[study.registry_id() or ""] = (record, study)
    return out


def _module(record: dict[str, Any], name: str) -> dict[str, Any]:
    module: dict[str, Any] = record["protocolSection"].get(name, {})
    return module


def _date(struct: Any) -> tuple[str, str, str | None] | None:
    """(value, precision, type) a date or date struct of the source should become."""
    if struct is None:
        return None
    value, kind = (struct["date"], struct.get("type")) if isinstance(struct, dict) else (struct, None)
    precision = {4: "year", 7: "month", 10: "day"}[len(value)]
    return value, precision, kind


def _study_date(date: Any) -> tuple[str, str, str | None] | None:
    return None if date is None else (date.value, date.precision.value, date.type)


@pytest.mark.parametrize("nct", IDS)
def test_identifiers_titles_status(converted: dict[str, tuple[dict[str, Any], Study]], nct: str) -> None:
    record, study = converted[nct]
    ident = _module(record, "identificationModule")
    assert study.registry_id() == ident["nctId"]
    own = [i for i in study.identifiers if i.kind is IdentifierKind.REGISTRY]
    assert [i.value for i in own] == [ident["nctId"]], "only identificationModule.nctId is the study's id"
    assert [i.value for i in study.identifiers if i.kind is IdentifierKind.ALIAS] == ident.get("nctIdAliases", [])
    sponsor_ids = [i for i in study.identifiers if i.kind is IdentifierKind.SPONSOR]
    if "orgStudyIdInfo" in ident:
        assert [(i.value, i.type, i.link) for i in sponsor_ids] == [
            (ident["orgStudyIdInfo"]["id"], ident["orgStudyIdInfo"].get("type"), ident["orgStudyIdInfo"].get("link"))]
    secondary = [i for i in study.identifiers if i.kind is IdentifierKind.SECONDARY]
    assert [(i.value, i.type, i.domain, i.link) for i in secondary] == [
        (s["id"], s.get("type"), s.get("domain"), s.get("link")) for s in ident.get("secondaryIdInfos", [])]
    assert (study.titles.brief, study.titles.official, study.titles.acronym) == (
        ident.get("briefTitle"), ident.get("officialTitle"), ident.get("acronym"))
    org = ident.get("organization")
    if org:
        assert study.organization is not None
        assert (study.organization.name, study.organization.organization_class) == (org["fullName"], org.get("class"))
    else:
        assert study.organization is None

    status = _module(record, "statusModule")
    assert study.status.overall == status.get("overallStatus")
    assert study.status.last_known == status.get("lastKnownStatus")
    assert study.status.why_stopped == status.get("whyStopped")
    pairs = {
        "statusVerifiedDate": "verified", "startDateStruct": "start",
        "primaryCompletionDateStruct": "primary_completion", "completionDateStruct": "completion",
        "studyFirstSubmitDate": "first_submitted", "studyFirstSubmitQcDate": "first_submitted_qc",
        "studyFirstPostDateStruct": "first_posted", "resultsFirstSubmitDate": "results_first_submitted",
        "resultsFirstSubmitQcDate": "results_first_submitted_qc",
        "resultsFirstPostDateStruct": "results_first_posted", "lastUpdateSubmitDate": "last_update_submitted",
        "lastUpdatePostDateStruct": "last_update_posted",
    }
    for source_name, model_name in pairs.items():
        assert _study_date(getattr(study.status, model_name)) == _date(status.get(source_name)), source_name
    access = status.get("expandedAccessInfo")
    if access:
        assert study.status.expanded_access is not None
        assert study.status.expanded_access.has_expanded_access == access.get("hasExpandedAccess")
        assert study.status.expanded_access.nct_id == access.get("nctId")


@pytest.mark.parametrize("nct", IDS)
def test_design_conditions_parties(converted: dict[str, tuple[dict[str, Any], Study]], nct: str) -> None:
    record, study = converted[nct]
    design = _module(record, "designModule")
    assert study.design.study_type == design.get("studyType")
    assert study.design.phases == design.get("phases", []), "phases keep order and count (PHASE1+PHASE2)"
    enrollment = design.get("enrollmentInfo")
    if enrollment and "count" in enrollment:
        assert study.design.enrollment is not None
        assert (study.design.enrollment.count, study.design.enrollment.type) == (
            enrollment["count"], enrollment.get("type"))
    else:
        assert study.design.enrollment is None
    info = design.get("designInfo", {})
    assert study.design.allocation == info.get("allocation")
    assert study.design.intervention_model == info.get("interventionModel")
    assert study.design.primary_purpose == info.get("primaryPurpose")
    assert study.design.observational_model == info.get("observationalModel")
    assert study.design.time_perspective == info.get("timePerspective")
    masking = info.get("maskingInfo")
    if masking:
        assert study.design.masking is not None
        assert study.design.masking.masking == masking.get("masking")
        assert study.design.masking.who_masked == masking.get("whoMasked", [])

    conditions = _module(record, "conditionsModule")
    assert study.conditions == conditions.get("conditions", [])
    assert study.keywords == conditions.get("keywords", [])

    sponsors = _module(record, "sponsorCollaboratorsModule")
    lead = sponsors.get("leadSponsor")
    if lead:
        assert study.sponsors.lead is not None
        assert (study.sponsors.lead.name, study.sponsors.lead.organization_class) == (lead["name"], lead.get("class"))
    else:
        assert study.sponsors.lead is None
    assert [(c.name, c.organization_class) for c in study.sponsors.collaborators] == [
        (c["name"], c.get("class")) for c in sponsors.get("collaborators", [])]

    contacts = _module(record, "contactsLocationsModule")
    assert [(o.name, o.affiliation, o.role) for o in study.officials] == [
        (o["name"], o.get("affiliation"), o.get("role")) for o in contacts.get("overallOfficials", [])]
    assert [(c.name, c.role, c.phone, c.email) for c in study.central_contacts] == [
        (c.get("name"), c.get("role"), c.get("phone"), c.get("email")) for c in contacts.get("centralContacts", [])]
    locations = contacts.get("locations", [])
    assert len(study.sites) == len(locations), "every location is a site"
    for site, location in zip(study.sites, locations, strict=True):
        assert (site.facility, site.status, site.city, site.state, site.zip, site.country) == (
            location.get("facility"), location.get("status"), location.get("city"), location.get("state"),
            location.get("zip"), location.get("country"))
        geo = location.get("geoPoint")
        if geo:
            assert site.geo_point is not None and (site.geo_point.lat, site.geo_point.lon) == (geo["lat"], geo["lon"])
        else:
            assert site.geo_point is None
        assert [(c.name, c.role, c.phone, c.email) for c in site.contacts] == [
            (c.get("name"), c.get("role"), c.get("phone"), c.get("email")) for c in location.get("contacts", [])]


@pytest.mark.parametrize("nct", IDS)
def test_arms_interventions_outcomes(converted: dict[str, tuple[dict[str, Any], Study]], nct: str) -> None:
    record, study = converted[nct]
    arms = _module(record, "armsInterventionsModule")
    assert [(a.label, a.type, a.description, a.intervention_names) for a in study.arms] == [
        (a["label"], a.get("type"), a.get("description"), a.get("interventionNames", []))
        for a in arms.get("armGroups", [])]
    assert [(i.name, i.type, i.description, i.arm_group_labels, i.other_names) for i in study.interventions] == [
        (i["name"], i.get("type"), i.get("description"), i.get("armGroupLabels", []), i.get("otherNames", []))
        for i in arms.get("interventions", [])]
    outcomes = _module(record, "outcomesModule")
    expected = [
        (kind, o["measure"], o.get("description"), o.get("timeFrame"))
        for kind, key in (("primary", "primaryOutcomes"), ("secondary", "secondaryOutcomes"),
                          ("other", "otherOutcomes"))
        for o in outcomes.get(key, [])
    ]
    assert [(o.kind.value, o.measure, o.description, o.time_frame) for o in study.outcomes] == expected


@pytest.mark.parametrize("nct", IDS)
def test_eligibility(converted: dict[str, tuple[dict[str, Any], Study]], nct: str) -> None:
    record, study = converted[nct]
    eligibility = _module(record, "eligibilityModule")
    assert study.eligibility.criteria_text == eligibility.get("eligibilityCriteria"), "criteria text as given"
    for source_name, age in (("minimumAge", study.eligibility.minimum_age),
                             ("maximumAge", study.eligibility.maximum_age)):
        if source_name in eligibility:
            assert age is not None and age.text == eligibility[source_name]
            number, unit = eligibility[source_name].split()
            assert age.value == float(number) and unit.upper().rstrip("S") == age.unit.rstrip("S")
        else:
            assert age is None, "no age limit stated: none invented"
    assert study.eligibility.sex == eligibility.get("sex")
    assert study.eligibility.healthy_volunteers == eligibility.get("healthyVolunteers")
    assert study.eligibility.std_ages == eligibility.get("stdAges", [])
    text = eligibility.get("eligibilityCriteria")
    if text:
        items = [item for section in study.eligibility.criteria for item in iter_items(section.items)]
        assert items, "criteria text has structure"
        for item in items:
            # API v2 criteria are CommonMark: an item's text is the plain text of its own span of the source
            assert item.span is not None, "each criterion points at its source text"
            source = text[item.span[0]:item.span[1]]
            assert set(re.findall(r"\w+", item.text)) <= set(re.findall(r"\w+", source)), "words from its span"
            assert not MARKDOWN_ESCAPE.search(item.text), f"a Markdown escape left in {item.text!r}"
        kept = "".join(item.text for item in items) + "".join(s.heading or "" for s in study.eligibility.criteria)
        for line in text.splitlines():
            words = re.findall(r"\w+", LIST_MARKER.sub("", line))
            assert all(word in kept for word in words), f"text lost from criteria: {line!r}"


@pytest.mark.parametrize("nct", IDS)
def test_every_leaf_is_mapped_or_listed(converted: dict[str, tuple[dict[str, Any], Study]], nct: str) -> None:
    record, study = converted[nct]
    sources = {loc.pointer for loc in study.provenance.values() if loc.pointer is not None}
    unmapped = {span.pointer for span in study.unmapped if span.pointer is not None}
    for pointer, _ in json_leaves(record):
        assert covered(pointer, sources) or covered(pointer, unmapped), f"{pointer} neither mapped nor listed"
    for pointer in sources | unmapped:
        resolve_pointer(record, pointer)  # every location named really is in the source


@pytest.mark.parametrize("nct", IDS)
def test_protocol_section_fully_mapped(converted: dict[str, tuple[dict[str, Any], Study]], nct: str) -> None:
    _, study = converted[nct]
    for span in study.unmapped:
        if span.pointer and span.pointer.startswith("/protocolSection/"):
            assert span.reason == "not defined by the source format's schema", (span.pointer, span.reason)


@pytest.mark.parametrize("nct", IDS)
def test_nothing_invented(converted: dict[str, tuple[dict[str, Any], Study]], nct: str, resources: Resources) -> None:
    """Every value in study.json has provenance (itself or an enclosing value), and it passes the schema."""
    _, study = converted[nct]
    document_ = study_to_dict(study)
    assert StudySchemaValidator(resources).validate(document_) == []
    targets = set(study.provenance)
    content = {k: v for k, v in document_.items() if k not in {"schema_version", "source", "provenance",
                                                                 "unmapped", "problems"}}
    for pointer, _ in json_leaves(content):
        assert covered(pointer, targets), f"{pointer} has no source"
    for target in targets:
        resolve_pointer(document_, target)


@pytest.mark.parametrize("nct", IDS)
def test_related_ids_are_never_the_study_id(converted: dict[str, tuple[dict[str, Any], Study]], nct: str) -> None:
    record, study = converted[nct]
    own = record["protocolSection"]["identificationModule"]["nctId"]
    others = set(NCT.findall(json.dumps(record))) - {own}
    assert not {i.value for i in study.identifiers if i.kind is IdentifierKind.REGISTRY} & others
    for related in study.related_studies:
        assert related.identifier != own


def test_combined_phases_and_partial_dates_occur(converted: dict[str, tuple[dict[str, Any], Study]]) -> None:
    """The fixtures exercise the cases the generic checks protect (so those checks cannot pass vacuously)."""
    studies = [s for _, s in converted.values()]
    assert any(len(s.design.phases) == 2 for s in studies)
    assert any(s.status.start and s.status.start.precision.value == "month" for s in studies)
    assert any(s.status.completion and s.status.completion.type == "ESTIMATED" for s in studies)
    assert any(s.status.last_known for s in studies)
    assert any(any(item.children for sec in s.eligibility.criteria for item in sec.items) for s in studies)
    assert any(s.design.enrollment and s.design.enrollment.count == 0 for s in studies)
