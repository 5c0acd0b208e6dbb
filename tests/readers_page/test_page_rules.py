"""Page-level rules of the registry-page reader on small synthetic pages (not the seeds)."""

from __future__ import annotations

import hashlib

from converters.loading import SourceDocument
from converters.model import IdentifierKind
from converters.readers.registry_page import READER, line_coverage
from converters.readers.registry_page.duplicates import find_repeats
from converters.readers.registry_page.page import Page
from converters.resources import Resources
from tests.conftest import SEEDS
from tests.readers_page.helpers import codes, read_text

CTGOV = """A Trial of Something
NCT ID: NCT01234567
Last Updated: 2024-05-17
Basic Information
{boilerplate}
Recruitment Status
RECRUITING
Clinical Phase
PHASE1, PHASE2
Study Start Date
2025-01
Study Completion Date
2029-01-02
Conditions
Study Design
Allocation Method
RANDOMIZED
Eligibility Criteria
Inclusion Criteria
1. Adults.
Locations
Hospital A
Wenzhou, Zhejiang, China
Site Status RECRUITING
More Related Trials
Another trial
NCT07219563 RECRUITING PHASE1""".format(
    boilerplate="Get a concise snapshot of the trial, including recruitment status, study phase, enrollment "
                "targets, and key timeline milestones.")

PIPE = """Lupus Clinical Trial
Official title:
A Study of Something in Lupus, see also NCT00000002
Status | Recruiting |
Enrollment | 20 |
Est. completion date | January 2026 |
Gender | All |
Status | Clinical Trial | Phase | |
---|---|---|---|
Completed |
NCT00000001 -
Old trial
|
Phase 2 | |"""


def test_layout_is_recognised_from_labels_whatever_the_file_name(resources: Resources) -> None:
    for name in ("page.txt", "000_pipe.txt", "ctgov.json"):
        assert read_text(CTGOV, resources, name).source.layout == "ctgov-mirror"
        assert read_text(PIPE, resources, name).source.layout == "pipe-table"


def test_unknown_layout_keeps_what_generic_label_rules_find(resources: Resources) -> None:
    study = read_text("Recruitment Status: Recruiting\nSponsor city | Boston |\nNCT ID: NCT01234567\nSome prose.",
                      resources)
    assert study.source.layout is None
    assert "page-layout-unknown" in codes(study)
    assert study.status.overall == "RECRUITING"
    assert [(f.label, f.value) for f in study.other_fields] == [("Sponsor city", "Boston")]
    assert study.registry_id() == "NCT01234567"
    assert [span.text for span in study.unmapped] == ["Some prose."]


def test_dates_keep_their_precision_and_estimated_flag(resources: Resources) -> None:
    pipe = read_text(PIPE, resources)
    completion = pipe.status.completion
    assert completion is not None
    assert (completion.value, completion.precision.value, completion.type, completion.text) == (
        "2026-01", "month", "ESTIMATED", "January 2026")
    ctgov = read_text(CTGOV, resources)
    assert ctgov.status.start is not None and ctgov.status.completion is not None
    assert (ctgov.status.start.value, ctgov.status.start.precision.value, ctgov.status.start.type) == (
        "2025-01", "month", None)
    assert (ctgov.status.completion.value, ctgov.status.completion.type) == ("2029-01-02", None)


def test_combined_phase_stays_both(resources: Resources) -> None:
    assert read_text(CTGOV, resources).design.phases == ["PHASE1", "PHASE2"]


def test_related_trial_ids_are_never_identifiers(resources: Resources) -> None:
    ctgov = read_text(CTGOV, resources)
    assert [(i.value, i.kind) for i in ctgov.identifiers] == [("NCT01234567", IdentifierKind.REGISTRY)]
    related = ctgov.related_studies[0]
    assert (related.identifier, related.title, related.status, related.phase) == (
        "NCT07219563", "Another trial", "RECRUITING", "PHASE1")
    pipe = read_text(PIPE, resources)
    assert pipe.identifiers == [], "a page with no id of its own gets none, whatever ids its text mentions"
    assert [(r.identifier, r.status, r.phase, r.title) for r in pipe.related_studies] == [
        ("NCT00000001", "COMPLETED", "PHASE2", "Old trial")]


def test_section_present_but_empty_yields_nothing(resources: Resources) -> None:
    study = read_text(CTGOV, resources)
    assert study.conditions == []
    empty = [p for p in study.problems if p.code == "page-section-empty"]
    assert [(p.location.line, "Conditions" in p.message) for p in empty] == [(14, True)]
    assert any(span.line == 14 and span.reason == "empty section" for span in study.unmapped)


def test_boilerplate_is_listed_unmapped_and_not_counted_as_mapped(resources: Resources) -> None:
    study = read_text(CTGOV, resources)
    boilerplate = [span for span in study.unmapped if span.reason == "boilerplate"]
    assert [span.line for span in boilerplate] == [5]
    used, total = line_coverage(study)
    assert total == len(CTGOV.split("\n"))
    spans = [(loc.line or 0, loc.end_line or loc.line or 0) for loc in study.provenance.values()]
    assert not any(start <= 5 <= end for start, end in spans)
    assert used < total


def test_site_address_parts_and_status(resources: Resources) -> None:
    site = read_text(CTGOV, resources).sites[0]
    assert (site.facility, site.city, site.state, site.country, site.status) == (
        "Hospital A", "Wenzhou", "Zhejiang", "China", "RECRUITING")
    glued = read_text(
        "Phase\nCondition\nLupus\nTreatment\nCAR-T\nClinical Study ID\nConnect with a study center\n"
        "Beijing GoBroad Hospital\nBeijing, Beijing China\nChinaActive - Recruiting\nNot the study for you?",
        resources)
    assert glued.source.layout == "patient-site-study-center"
    site = glued.sites[0]
    assert (site.facility, site.city, site.state, site.country, site.status) == (
        "Beijing GoBroad Hospital", "Beijing", "Beijing", "China", "RECRUITING")


def test_a_value_no_vocabulary_knows_is_kept_as_written(resources: Resources) -> None:
    study = read_text(CTGOV.replace("RECRUITING\nClinical", "Ongoing-ish\nClinical"), resources)
    assert study.status.overall is None and study.status.overall_text == "Ongoing-ish"
    assert "page-value-unrecognised" in codes(study)


def test_a_field_stated_twice_keeps_the_first_and_reports(resources: Resources) -> None:
    study = read_text(PIPE.replace("Gender | All |", "Gender | All |\nGender | Female |"), resources)
    assert study.eligibility.sex == "ALL"
    assert "page-field-repeated" in codes(study)


def test_sponsors_without_a_role_are_not_guessed(resources: Resources) -> None:
    page = CTGOV + "\nSponsors\nAcme Therapeutics\nINDUSTRY\nCity Hospital\nOTHER\nSponsor Role lead"
    sponsors = read_text(page, resources).sponsors
    assert sponsors.lead is not None and sponsors.lead.name == "City Hospital"
    assert [(o.name, o.organization_class) for o in sponsors.role_unstated] == [("Acme Therapeutics", "INDUSTRY")]


def test_back_to_back_rewrapped_block_is_read_once_and_reported(resources: Resources) -> None:
    block = ("Patients take at least 7.5 mg of prednisolone daily to maintain low disease activity or a SLEDAI "
             "score of 8 or higher.\nRecurrence of disease activity after failure of conventional therapy or "
             "after remission.")
    rewrapped = ("Patients take at least 7.5 mg of prednisolone daily to maintain low disease\n \nactivity or a "
                 "SLEDAI score of 8 or\nhigher.\nRecurrence of disease activity after failure of\n conventional "
                 "therapy or after remission.")
    page = CTGOV.replace("1. Adults.", f"Adults.\n{block}\n{rewrapped}\nNo pregnancy.")
    study = read_text(page, resources)
    repeats = [p for p in study.problems if p.code == "page-duplicate-block"]
    assert len(repeats) == 1 and "Lines 23-28 repeat lines 21-22" in repeats[0].message
    texts = [item.text for item in study.eligibility.criteria[0].items]
    assert texts[1].startswith("Patients take") and texts.count(texts[1]) == 1
    assert texts[-1] == "No pregnancy."


def test_repeats_apart_and_short_repeats_are_kept(resources: Resources) -> None:
    shared = ("Clinician assessment allowed the use of 10 mg prednisone or its equivalent dose during the study "
              "and allowed discontinuation of all immunosuppressive agents (excluding hydroxychloroquine).")
    lines = ["Cohort A", shared, "Age 18-70.", "Cohort B", shared, "Short line", "Short line"]
    page = Page.from_text("\n".join(lines))
    assert find_repeats(page.lines, min_chars=160, window=65536) == []


def test_characters_lost_in_encoding_are_reported_and_kept(resources: Resources) -> None:
    criteria_line = ("1. SLEDAI score = 6 points and prednisone = 100 mg/d for =14 days; 2. cytokines IL-2?IL-6 and "
                     "IFN-? raised; 3. platelets lower ; 4. platelet <30109 / L; 5. Age range: 1870 years.")
    study = read_text(CTGOV.replace("1. Adults.", criteria_line), resources)
    losses = [p for p in study.problems if p.code == "page-encoding-loss"]
    assert {p.location.line for p in losses} == {20}
    assert len(losses) == 4  # the '=' for a lost ≥/≤ is the comparator detector's (criteria-comparator-damaged)
    damaged = [p for p in study.problems if p.code == "criteria-comparator-damaged"]
    assert {p.location.line for p in damaged} == {20}
    assert "'SLEDAI score = 6 points'" in " ".join(p.message for p in damaged)
    texts = [item.text for item in study.eligibility.criteria[0].items]
    assert texts[0] == "SLEDAI score = 6 points and prednisone = 100 mg/d for =14 days;"
    assert texts[1] == "cytokines IL-2?IL-6 and IFN-? raised;"


def test_markdown_escapes_and_urls_are_not_losses(resources: Resources) -> None:
    line = "1. Creatinine \\<1.5×ULN, SpO2 \\>92%, 1×10\\^9/L; see https://example.org/page?id=3&x=y for a=b."
    study = read_text(CTGOV.replace("1. Adults.", line), resources)
    assert "page-encoding-loss" not in codes(study)
    assert study.eligibility.criteria[0].items[0].text == line[3:]


def test_a_page_cut_off_mid_sentence_is_reported(resources: Resources) -> None:
    cut = read_text(CTGOV + "\nBrief Summary\nThis pilot study aims to evaluate the effectiveness of CAR T-cell",
                    resources)
    assert "page-truncated" in codes(cut)
    assert "page-truncated" not in codes(read_text(CTGOV, resources))


def test_a_table_whose_last_row_lacks_a_named_cell_is_truncated(resources: Resources) -> None:
    assert "page-truncated" not in codes(read_text(PIPE, resources))
    missing_phase_only_trailing = read_text(PIPE[: PIPE.rindex("Phase 2")] + "Phase 2 |", resources)
    assert "page-truncated" not in codes(missing_phase_only_trailing), "only the unnamed last cell is missing"
    cut = read_text(PIPE[: PIPE.rindex("|\nPhase 2")], resources)
    assert "page-truncated" in codes(cut)


def test_placeholders_give_no_value(resources: Resources) -> None:
    page = PIPE.replace("Gender | All |", "Gender | All |\nCountry | Name | City | State |\n---|---|---|---|\nn/a |")
    study = read_text(page, resources)
    assert study.sites == []
    assert any(span.reason and span.reason.startswith("placeholder") for span in study.unmapped)


def test_sniff_prefers_recognised_layouts() -> None:
    def doc(data: bytes) -> SourceDocument:
        return SourceDocument("x", data, hashlib.sha256(data).hexdigest())

    for page in sorted(SEEDS.glob("*.txt")):
        assert READER.sniff(doc(page.read_bytes())) >= 0.9
    assert READER.sniff(doc(b"Just some text.\n")) == 0, "text that shows no study is not claimed"
    assert 0 < READER.sniff(doc(b"NCT ID: NCT01234567\nRecruitment Status: Recruiting\n")) < 0.5, \
        "a page of no known layout that shows a study is a guess"
    assert READER.sniff(doc(b'{"protocolSection": {}}')) < 0.1
    assert READER.sniff(doc(bytes(range(256)) * 4)) == 0
