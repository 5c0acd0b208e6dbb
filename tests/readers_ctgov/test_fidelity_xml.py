"""Every legacy XML fixture record, field by field, checked against the XML itself (generic, no per-record answers).

Display strings are checked through the shared vocabulary (the mapping data) or, for dates, phases and ages,
through the public.xsd patterns read independently here, so the reader's own conversions are not reused to
produce the expected values.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import pytest
from lxml import etree

from converters.model import IdentifierKind, Study, study_to_dict
from converters.model.criteria_markdown import iter_items
from converters.model.vocabulary import Vocabulary
from converters.resources import Resources
from converters.targets.study.schema import StudySchemaValidator
from tests.readers_ctgov.helpers import XML_FILES, covered, file_document, json_leaves, read, resolve_pointer

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
XSD_DATE = re.compile(r"^(?P<month>[A-Z][a-z]+) (?:(?P<day>\d{1,2}), )?(?P<year>\d{4})$")
NAMES = [p.stem for p in XML_FILES]


@pytest.fixture(scope="module")
def converted(resources: Resources) -> dict[str, tuple[Any, Study]]:
    out = {}
    for path in XML_FILES:
        name, outcomes = read(file_document(path), resources)
        assert name == "ctgov-xml"
        assert len(outcomes) == 1 and outcomes[0].study is not None, outcomes[0].problems
        out[path.stem] = (etree.parse(str(path)).getroot(), outcomes[0].study)
    return out


@pytest.fixture(scope="module")
def vocab(resources: Resources) -> Vocabulary:
    return Vocabulary(resources)


def _text(root: Any, path: str) -> str | None:
    found = root.find(path)
    return found.text if found is not None else None


def _texts(root: Any, path: str) -> list[str]:
    return [e.text or "" for e in root.findall(path)]


def _expected_date(element: Any) -> tuple[str, str, str | None] | None:
    if element is None or element.text == "Unknown":
        return None
    match = XSD_DATE.match(element.text)
    assert match, element.text
    month = MONTHS.index(match["month"]) + 1
    kind = {"Actual": "ACTUAL", "Anticipated": "ESTIMATED", "Estimate": "ESTIMATED", None: None}[element.get("type")]
    if match["day"]:
        return f"{match['year']}-{month:02d}-{int(match['day']):02d}", "day", kind
    return f"{match['year']}-{month:02d}", "month", kind


def _phases(text: str | None) -> list[str]:
    if text is None:
        return []
    if text == "N/A":
        return ["NA"]
    return [("EARLY_PHASE" if part.startswith("Early") else "PHASE") + part[-1] for part in text.split("/")]


@pytest.mark.parametrize("name", NAMES)
def test_identity_status_dates(converted: dict[str, tuple[Any, Study]], vocab: Vocabulary, name: str) -> None:
    root, study = converted[name]
    assert study.registry_id() == _text(root, "id_info/nct_id")
    assert [i.value for i in study.identifiers if i.kind is IdentifierKind.REGISTRY] == [_text(root, "id_info/nct_id")]
    secondary = [i.value for i in study.identifiers if i.kind is IdentifierKind.SECONDARY]
    assert secondary == _texts(root, "id_info/secondary_id")
    assert [i.value for i in study.identifiers if i.kind is IdentifierKind.ALIAS] == _texts(root, "id_info/nct_alias")
    assert (study.titles.brief, study.titles.official, study.titles.acronym) == (
        _text(root, "brief_title"), _text(root, "official_title"), _text(root, "acronym"))
    assert study.status.overall == vocab.lookup_one("Status", _text(root, "overall_status") or "")
    last_known = _text(root, "last_known_status")
    assert study.status.last_known == (vocab.lookup_one("Status", last_known) if last_known else None)
    for element, model_name in (("start_date", "start"), ("completion_date", "completion"),
                                ("primary_completion_date", "primary_completion"),
                                ("verification_date", "verified"), ("study_first_posted", "first_posted"),
                                ("last_update_posted", "last_update_posted")):
        date = getattr(study.status, model_name)
        got = None if date is None else (date.value, date.precision.value, date.type)
        assert got == _expected_date(root.find(element)), element
        if date is not None:
            assert date.text == root.find(element).text, "the date as written is kept"


@pytest.mark.parametrize("name", NAMES)
def test_design_and_people(converted: dict[str, tuple[Any, Study]], vocab: Vocabulary, name: str) -> None:
    root, study = converted[name]
    assert study.design.phases == _phases(_text(root, "phase")), "Phase 1/Phase 2 stays both phases"
    enrollment = root.find("enrollment")
    if enrollment is not None:
        kind = {"Actual": "ACTUAL", "Anticipated": "ESTIMATED", "Estimate": "ESTIMATED", None: None}[
            enrollment.get("type")]
        assert study.design.enrollment is not None
        assert (study.design.enrollment.count, study.design.enrollment.type) == (int(enrollment.text), kind)
    else:
        assert study.design.enrollment is None
    assert study.conditions == _texts(root, "condition")
    assert study.keywords == _texts(root, "keyword")
    assert study.sponsors.lead is not None and study.sponsors.lead.name == _text(root, "sponsors/lead_sponsor/agency")
    assert [c.name for c in study.sponsors.collaborators] == _texts(root, "sponsors/collaborator/agency")
    assert [(o.name, o.role, o.affiliation) for o in study.officials] == [
        (_text(o, "last_name"), vocab.lookup_one("OfficialRole", _text(o, "role") or ""), _text(o, "affiliation"))
        for o in root.findall("overall_official")]
    locations = root.findall("location")
    assert len(study.sites) == len(locations), "every location is a site"
    for site, location in zip(study.sites, locations, strict=True):
        assert (site.facility, site.city, site.state, site.zip, site.country) == (
            _text(location, "facility/name"), _text(location, "facility/address/city"),
            _text(location, "facility/address/state"), _text(location, "facility/address/zip"),
            _text(location, "facility/address/country"))
        status = _text(location, "status")
        assert site.status == (vocab.lookup_one("RecruitmentStatus", status) if status else None)
        people = location.findall("contact") + location.findall("contact_backup") + location.findall("investigator")
        assert len(site.contacts) == len(people)
    assert [(a.label, a.description) for a in study.arms] == [
        (_text(a, "arm_group_label"), _text(a, "description")) for a in root.findall("arm_group")]
    assert [(a.type) for a in study.arms] == [
        vocab.lookup_one("ArmGroupType", _text(a, "arm_group_type") or "") if a.find("arm_group_type") is not None
        else None for a in root.findall("arm_group")]
    assert [(i.name, i.arm_group_labels, i.other_names) for i in study.interventions] == [
        (_text(i, "intervention_name"), _texts(i, "arm_group_label"), _texts(i, "other_name"))
        for i in root.findall("intervention")]
    expected_outcomes = [
        (kind, _text(o, "measure"), _text(o, "time_frame"), _text(o, "description"))
        for kind in ("primary", "secondary", "other") for o in root.findall(f"{kind}_outcome")]
    assert [(o.kind.value, o.measure, o.time_frame, o.description) for o in study.outcomes] == expected_outcomes


@pytest.mark.parametrize("name", NAMES)
def test_eligibility(converted: dict[str, tuple[Any, Study]], vocab: Vocabulary, name: str) -> None:
    root, study = converted[name]
    eligibility = root.find("eligibility")
    if eligibility is None:
        assert study.eligibility.criteria_text is None and study.eligibility.sex is None
        return
    for element, age in (("minimum_age", study.eligibility.minimum_age),
                         ("maximum_age", study.eligibility.maximum_age)):
        text = _text(eligibility, element)
        if text is None or text == "N/A":
            assert age is None, "N/A means no limit: nothing is invented"
        else:
            assert age is not None and age.text == text and age.value == float(text.split()[0])
    assert study.eligibility.sex == vocab.lookup_one("Sex", _text(eligibility, "gender") or "")
    healthy = _text(eligibility, "healthy_volunteers")
    assert study.eligibility.healthy_volunteers == (None if healthy is None else healthy != "No")
    block = _text(eligibility, "criteria/textblock")
    if block is None:
        assert study.eligibility.criteria_text is None
        return
    expected = textwrap.dedent(block).strip("\n").rstrip()
    assert study.eligibility.criteria_text == expected, "the text block as given, minus the XML's indentation"
    for section in study.eligibility.criteria:
        for item in iter_items(section.items):
            assert item.text in expected


@pytest.mark.parametrize("name", NAMES)
def test_every_leaf_is_mapped_or_listed(converted: dict[str, tuple[Any, Study]], name: str) -> None:
    root, study = converted[name]
    sources = {loc.pointer for loc in study.provenance.values() if loc.pointer is not None}
    unmapped = {span.pointer for span in study.unmapped if span.pointer is not None}
    for path, element in _indexed_paths(root, "/" + root.tag):
        if not any(isinstance(child.tag, str) for child in element):
            assert covered(path, sources) or covered(path, unmapped), f"{path} neither mapped nor listed"
        for attribute in element.attrib:
            at = f"{path}/@{attribute}"
            assert covered(at, sources) or covered(at, unmapped), f"{at} neither mapped nor listed"


def _indexed_paths(element: Any, path: str) -> list[tuple[str, Any]]:
    """Every element with the XPath the reader uses: an index only on tags repeated among siblings."""
    out = [(path, element)]
    children = [c for c in element if isinstance(c.tag, str)]
    counts: dict[str, int] = {}
    for child in children:
        counts[child.tag] = counts.get(child.tag, 0) + 1
    seen: dict[str, int] = {}
    for child in children:
        seen[child.tag] = seen.get(child.tag, 0) + 1
        step = f"{child.tag}[{seen[child.tag]}]" if counts[child.tag] > 1 else child.tag
        out += _indexed_paths(child, f"{path}/{step}")
    return out


@pytest.mark.parametrize("name", NAMES)
def test_nothing_invented(converted: dict[str, tuple[Any, Study]], resources: Resources, name: str) -> None:
    root, study = converted[name]
    document = study_to_dict(study)
    assert StudySchemaValidator(resources).validate(document) == []
    targets = set(study.provenance)
    content = {k: v for k, v in document.items()
               if k not in {"schema_version", "source", "provenance", "unmapped", "problems"}}
    for pointer, _ in json_leaves(content):
        assert covered(pointer, targets), f"{pointer} has no source"
    for target in targets:
        resolve_pointer(document, target)
    for location in study.provenance.values():
        assert location.pointer and root.getroottree().xpath(location.pointer), location.pointer


def test_display_strings_and_old_records_are_covered(converted: dict[str, tuple[Any, Study]]) -> None:
    """The fixtures exercise what the generic checks protect, so the checks cannot pass vacuously."""
    studies = [s for _, s in converted.values()]
    assert any(s.design.phases == ["PHASE1", "PHASE2"] for s in studies)
    assert any(s.status.overall == "UNKNOWN" for s in studies)
    assert any(s.status.start and s.status.start.precision.value == "day" for s in studies)
    assert any(s.eligibility.maximum_age is None and s.eligibility.minimum_age for s in studies)
    assert any(s.design.patient_registry for s in studies)
    assert any(p.code == "ctgov-xml-schema-invalid" for s in studies for p in s.problems)
