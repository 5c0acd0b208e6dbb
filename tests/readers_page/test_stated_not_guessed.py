"""What a page does not state is not invented, and no line is dropped silently (small synthetic pages).

Conventions that a layout follows (an official's degrees after a comma, the kind of an identifier whose
source is missing, the words around an enrollment count or an age range) are data in the layouts mapping:
the tests that edit a copy of the mapping check that the reader follows the data, not a rule of its own.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from converters.model import IdentifierKind, Study
from converters.readers.registry_page import READER, read_page
from converters.resources import Resources
from tests.conftest import ROOT
from tests.readers_page.helpers import codes, mapped_lines_from_text, read_text
from tests.readers_page.test_page_rules import CTGOV, PIPE

OFFICIAL = "\nPrincipal Investigators\nLI Sun, Master's\nRole: PRINCIPAL_INVESTIGATOR\nFirst Hospital"
IDENTIFIER = "\nOther Identifiers\nABC-123"


def _reasons(study: Study) -> dict[int, str | None]:
    return {span.line: span.reason for span in study.unmapped if span.line is not None}


def _edited_resources(tmp_path: Path, old: str, new: str) -> Resources:
    """Resources over a copy of the shipped mappings with one edit in the layouts mapping."""
    for folder in ("mappings", "schemas"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    layouts = tmp_path / "mappings" / "registry_page" / "layouts.yaml"
    text = layouts.read_text(encoding="utf-8")
    assert text.count(old) == 1
    layouts.write_text(text.replace(old, new), encoding="utf-8")
    return Resources(root=tmp_path)


def _read_with(resources: Resources, text: str) -> Study:
    rules, converter = READER.rules(resources)
    return read_page(text, file="page.txt", encoding="utf-8", sha256="0" * 64, rules=rules, converter=converter)


def test_an_address_of_one_part_is_listed_unmapped_not_guessed_or_dropped(resources: Resources) -> None:
    page = CTGOV.replace("Wenzhou, Zhejiang, China", "Beijing")
    study = read_text(page, resources)
    site = study.sites[0]
    assert (site.facility, site.city, site.state, site.country, site.status) == (
        "Hospital A", None, None, None, "RECRUITING")
    line = page.split("\n").index("Beijing") + 1
    assert _reasons(study)[line] is not None and "city or a country" in (_reasons(study)[line] or "")
    mapped_lines_from_text(study, page)


def test_a_field_stated_twice_in_one_entry_is_reported_and_listed(resources: Resources) -> None:
    page = CTGOV + "\nCentral Contacts\nJane Doe\nRole: CONTACT\nRole: PRINCIPAL_INVESTIGATOR\n+60391456450"
    study = read_text(page, resources)
    assert [(c.name, c.role, c.phone) for c in study.central_contacts] == [("Jane Doe", "CONTACT", "+60391456450")]
    assert "page-field-repeated" in codes(study)
    line = page.split("\n").index("Role: PRINCIPAL_INVESTIGATOR") + 1
    assert _reasons(study)[line] == "states a value given earlier"
    mapped_lines_from_text(study, page)


def test_a_sponsor_role_stated_twice_keeps_the_first_and_reports(resources: Resources) -> None:
    page = CTGOV + "\nSponsors\nCity Hospital\nOTHER\nSponsor Role lead\nSponsor Role collaborator"
    study = read_text(page, resources)
    assert study.sponsors.lead is not None and study.sponsors.lead.name == "City Hospital"
    assert study.sponsors.collaborators == []
    assert "page-field-repeated" in codes(study)
    assert _reasons(study)[len(page.split("\n"))] == "states a value given earlier"


def test_a_text_section_holding_only_a_placeholder_gives_no_value(resources: Resources) -> None:
    page = CTGOV + "\nBrief Summary\nN/A"
    study = read_text(page, resources)
    assert study.brief_summary is None
    assert _reasons(study)[len(page.split("\n"))] == "placeholder (no value)"


def test_enrollment_type_words_come_from_the_shared_date_type_vocabulary(resources: Resources) -> None:
    for stated, expected in (("20 participants (Anticipated)", "ESTIMATED"), ("20 [Actual]", "ACTUAL"),
                             ("20 patients (Expected)", "ESTIMATED"), ("20 participants", None)):
        study = read_text(PIPE.replace("Enrollment | 20 |", f"Enrollment | {stated} |"), resources)
        assert study.design.enrollment is not None, stated
        assert (study.design.enrollment.count, study.design.enrollment.type) == (20, expected), stated
    odd = read_text(PIPE.replace("Enrollment | 20 |", "Enrollment | 20 (soon) |"), resources)
    assert odd.design.enrollment is None and "page-value-unrecognised" in codes(odd)


def test_open_age_ranges_follow_the_mapping_wordings(resources: Resources, tmp_path: Path) -> None:
    older = PIPE.replace("Gender | All |", "Gender | All |\nAge group | 18 Years and older |")
    study = read_text(older, resources)
    assert study.eligibility.minimum_age is not None and study.eligibility.maximum_age is None
    assert study.eligibility.minimum_age.text == "18 Years"
    without = _edited_resources(tmp_path, '"and older", ', "")
    assert _read_with(without, older).eligibility.minimum_age is None, "the wording is data, not code"


def test_official_degrees_are_split_only_where_the_layout_says_so(resources: Resources, tmp_path: Path) -> None:
    official = read_text(CTGOV + OFFICIAL, resources).officials[0]
    assert (official.name, official.degrees, official.role) == ("LI Sun", "Master's", "PRINCIPAL_INVESTIGATOR")
    whole = _edited_resources(tmp_path, '        name_degrees_separator: ", "\n', "")
    official = _read_with(whole, CTGOV + OFFICIAL).officials[0]
    assert (official.name, official.degrees) == ("LI Sun, Master's", None)


def test_the_kind_of_an_identifier_without_source_comes_from_the_layout(resources: Resources,
                                                                        tmp_path: Path) -> None:
    identifiers = read_text(CTGOV + IDENTIFIER, resources).identifiers
    assert [(i.value, i.kind) for i in identifiers] == [
        ("NCT01234567", IdentifierKind.REGISTRY), ("ABC-123", IdentifierKind.SECONDARY)]
    sponsor = _edited_resources(tmp_path, "kind_when_unstated: secondary", "kind_when_unstated: sponsor")
    assert _read_with(sponsor, CTGOV + IDENTIFIER).identifiers[1].kind is IdentifierKind.SPONSOR


def test_an_unknown_related_phase_after_a_status_is_kept_and_reported(resources: Resources) -> None:
    study = read_text(CTGOV.replace("NCT07219563 RECRUITING PHASE1", "NCT07219563 RECRUITING Pilot"), resources)
    related = study.related_studies[0]
    assert (related.status, related.phase) == ("RECRUITING", "Pilot")
    assert "page-value-unrecognised" in codes(study)


def test_an_outcome_safety_issue_keeps_the_column_header_as_written(resources: Resources) -> None:
    table = ("Type | Measure | Description | Time frame | Safety Issue |\n---|---|---|---|---|\n"
             "Primary | Flares | Count of flares | 12 weeks | No |")
    page = PIPE.replace("Status | Clinical Trial", table + "\nStatus | Clinical Trial")
    study = read_text(page, resources)
    assert [(o.kind, o.measure, o.time_frame) for o in study.outcomes] == [("primary", "Flares", "12 weeks")]
    assert ("Safety Issue", "No") in [(f.label, f.value) for f in study.other_fields]


def test_a_second_lead_sponsor_is_kept_and_reported(resources: Resources) -> None:
    page = CTGOV + "\nSponsors\nCity Hospital\nOTHER\nSponsor Role lead\nAcme\nINDUSTRY\nSponsor Role lead"
    study = read_text(page, resources)
    assert study.sponsors.lead is not None and study.sponsors.lead.name == "City Hospital"
    assert [o.name for o in study.sponsors.role_unstated] == ["Acme"]
    repeated = [p for p in study.problems if p.code == "page-field-repeated"]
    first = page.split("\n").index("City Hospital") + 1
    assert [(p.location.line, f"line {first})" in p.message) for p in repeated] == [(len(page.split("\n")), True)]


def test_a_list_separator_is_markup_not_a_value(resources: Resources) -> None:
    page = CTGOV.replace("Conditions\n", "Conditions\nLupus\n<!-- -->\n")
    study = read_text(page, resources)
    assert study.conditions == ["Lupus"]
    assert _reasons(study)[page.split("\n").index("<!-- -->") + 1] == "markup"
