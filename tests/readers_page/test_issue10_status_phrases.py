"""Issue 10, items 3 and 8: status words and standard phrases are read wherever a layout puts them, and nothing
else is guessed.

- A status glued to the value before it ('ChinaActive - Recruiting') is split off only when the glued tail is
  exactly a status wording; the value (the country) is kept, both traced to their line.
- A page that states no overall status but a recruiting site is recruiting (ClinicalTrials.gov's definition of
  the overall status); no other site status implies one, and a stated overall status is never replaced.
- "N participants in K patient groups" gives the enrollment count (type unstated) and the number of groups, in
  any layout; an age limit stated once as a line of its own is read when it is the page's only age statement.
"""

from __future__ import annotations

from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from converters.model import Study
from converters.model.vocabulary import normalise_wording
from converters.readers.registry_page.glued import GluedStatus, split_glued_status
from converters.resources import Resources
from tests.conftest import ROOT, SEEDS
from tests.readers_page.helpers import codes, mapped_lines_from_text, read_text
from tests.readers_page.test_page_rules import CTGOV, PIPE

SEED_002 = SEEDS / "002_4eafcaff3cb592d5.txt"
SEED_004 = SEEDS / "004_0d37fe9dc878cb93.txt"

STUDY_CENTER = """Phase
Condition
Lupus
Treatment
CAR-T
Clinical Study ID
Ages 18-65 All Genders
Connect with a study center
Beijing GoBroad Hospital
Beijing, Beijing China
{status_line}
Not the study for you?"""

ABOUT = """Status and phase
{status}
Conditions
Treatments
About
A trial of CAR-T cells in lupus.
Enrollment
{enrollment}
Sex
Ages
{ages}
Volunteers
Inclusion criteria
{inclusion}
Exclusion criteria
{exclusion}
Primary purpose
Central trial contact
Xue He, MD
Data sourced from clinicaltrials.gov"""


@cache
def _resources() -> Resources:
    return Resources(root=ROOT)


def _lookup(vocabulary: str) -> tuple[dict[str, str], list[str]]:
    """Every wording of a shared vocabulary -> its value, and the wordings (for the property tests)."""
    body = _resources().mapping("common/vocabulary.yaml")["vocabularies"][vocabulary]["values"]
    table = {w: value for value, words in body.items() for w in (value, *words)}
    return table, sorted(table)


@cache
def _status_table() -> dict[str, str]:
    table, _ = _lookup("RecruitmentStatus")
    return {normalise_wording(k): v for k, v in table.items()}


def _status_lookup(tail: str) -> str | None:
    return _status_table().get(normalise_wording(tail))


def _line_of(text: str, line: str) -> int:
    return text.split("\n").index(line) + 1


def _unmapped_lines(study: Study) -> set[int]:
    lines: set[int] = set()
    for span in study.unmapped:
        if span.line is not None:
            lines.update(range(span.line, (span.end_line or span.line) + 1))
    return lines


def _about(status: str = "", enrollment: str = "", ages: str = "", inclusion: str = "Adults with lupus;",
           exclusion: str = "Pregnancy;") -> str:
    text = ABOUT.format(status=status, enrollment=enrollment, ages=ages, inclusion=inclusion, exclusion=exclusion)
    return "\n".join(line for line in text.split("\n") if line)


# --- item 3: status ------------------------------------------------------------------------------------


def test_seed_004_states_its_status_glued_to_the_country_and_it_is_read(resources: Resources) -> None:
    text = SEED_004.read_text(encoding="utf-8")
    study = read_text(text, resources, SEED_004.name)
    line = _line_of(text, "ChinaActive - Recruiting")
    assert study.status.overall == "RECRUITING"
    site = study.sites[0]
    assert (site.country, site.status) == ("China", "RECRUITING")
    for pointer in ("/status/overall", "/sites/0/country", "/sites/0/status"):
        assert study.provenance[pointer].line == line, pointer
    assert "page-status-from-sites" in codes(study)
    assert line not in _unmapped_lines(study)


def test_a_glued_tail_that_is_not_exactly_a_status_wording_is_never_split(resources: Resources) -> None:
    for tail in ("ChinaNot recruiting", "ChinaActive - Ongoing", "ChinaRecruiting soon", "China Recruiting"):
        text = STUDY_CENTER.format(status_line=tail)
        study = read_text(text, resources)
        assert all(site.status is None for site in study.sites), tail
        assert study.status.overall is None, tail
        assert "China" not in [site.country for site in study.sites], tail
        # the line is kept whole: as the block parser reads a further unlabelled line, or listed as unused
        kept = [site.facility for site in study.sites]
        assert tail in kept or _line_of(text, tail) in _unmapped_lines(study), tail
        mapped_lines_from_text(study, text)


def test_every_status_wording_glued_to_the_country_is_split_with_both_traced(resources: Resources) -> None:
    for glued, status in (("ChinaRecruiting", "RECRUITING"), ("ChinaNot yet recruiting", "NOT_YET_RECRUITING"),
                          ("ChinaActive, not recruiting", "ACTIVE_NOT_RECRUITING"),
                          ("ChinaENROLLING_BY_INVITATION", "ENROLLING_BY_INVITATION"),
                          ("ChinaCompleted", "COMPLETED")):
        text = STUDY_CENTER.format(status_line=glued)
        study = read_text(text, resources)
        site = study.sites[0]
        line = _line_of(text, glued)
        assert (site.city, site.state, site.country, site.status) == ("Beijing", "Beijing", "China", status)
        assert study.provenance["/sites/0/country"].line == line
        assert study.provenance["/sites/0/status"].line == line
        assert line not in _unmapped_lines(study)


def test_an_address_glued_to_a_status_keeps_every_part() -> None:
    assert split_glued_status("Beijing, Beijing ChinaActive - Recruiting", _status_lookup) == GluedStatus(
        "Beijing, Beijing China", "Active - Recruiting", "RECRUITING")


def test_only_a_recruiting_site_implies_the_overall_status(resources: Resources) -> None:
    study = read_text(STUDY_CENTER.format(status_line="ChinaCompleted"), resources)
    assert study.sites[0].status == "COMPLETED"
    assert study.status.overall is None  # a completed site says nothing of the study as a whole
    assert "page-status-from-sites" not in codes(study)


def test_a_stated_overall_status_is_never_replaced_by_a_site_status(resources: Resources) -> None:
    page = CTGOV.replace("Recruitment Status\nRECRUITING", "Recruitment Status\nNOT_YET_RECRUITING")
    study = read_text(page, resources)
    assert study.sites[0].status == "RECRUITING"
    assert study.status.overall == "NOT_YET_RECRUITING"
    assert "page-status-from-sites" not in codes(study)
    unknown = read_text(CTGOV.replace("Recruitment Status\nRECRUITING", "Recruitment Status\nOngoing-ish"),
                        resources)
    assert unknown.status.overall is None and unknown.status.overall_text == "Ongoing-ish"


def test_a_glued_status_in_the_ctgov_mirror_locations_is_split_too(resources: Resources) -> None:
    page = CTGOV.replace("Site Status RECRUITING", "ChinaNot yet recruiting")
    study = read_text(page.replace("Recruitment Status\nRECRUITING\n", ""), resources)
    site = study.sites[0]
    assert (site.city, site.state, site.country, site.status) == (
        "Wenzhou", "Zhejiang", "China", "NOT_YET_RECRUITING")
    assert study.status.overall is None


def test_status_words_are_read_where_each_layout_puts_them(resources: Resources) -> None:
    assert read_text(PIPE, resources).status.overall == "RECRUITING"
    assert read_text(CTGOV, resources).status.overall == "RECRUITING"
    about = read_text(_about(status="Active, not recruiting"), resources)
    assert about.status.overall == "ACTIVE_NOT_RECRUITING"
    assert read_text(STUDY_CENTER.format(status_line="ChinaActive - Recruiting"), resources
                     ).status.overall == "RECRUITING"


def test_seed_002_states_no_status_and_gets_none(resources: Resources) -> None:
    study = read_text(SEED_002.read_text(encoding="utf-8"), resources, SEED_002.name)
    assert study.status.overall is None and study.status.overall_text is None


_COUNTRIES = sorted({name for body in _resources().mapping("common/countries.yaml")["countries"].values()
                     for name in body["names"]})
_STATUS_WORDINGS = [w for w in _lookup("RecruitmentStatus")[1] if w[0].isupper()]


def _glueable(country: str, wording: str) -> bool:
    """A glue point is visible: the country ends a word and the wording starts a new one."""
    last = country[-1]
    if last.islower() or last.isdigit() or last in ")]":
        return True
    return last.isupper() and len(wording) > 1 and wording[1].islower()


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_COUNTRIES), st.sampled_from(_STATUS_WORDINGS))
def test_property_any_status_wording_glued_to_any_country_is_split(country: str, wording: str) -> None:
    if not _glueable(country, wording):
        return
    found = split_glued_status(country + wording, _status_lookup)
    assert found is not None
    assert (found.prefix, found.wording, found.status) == (country, wording, _status_lookup(wording))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_COUNTRIES), st.sampled_from(_STATUS_WORDINGS),
       st.sampled_from(["Not", "Soon", "Formerly", "Site"]), st.booleans())
def test_property_an_unknown_tail_is_never_split(country: str, wording: str, word: str, before: bool) -> None:
    tail = f"{word} {wording}" if before else f"{wording} {word}"
    assert _status_lookup(tail) is None
    assert split_glued_status(country + tail, _status_lookup) is None
    assert split_glued_status(country + " " + wording, _status_lookup) is None  # a space is not glue


# --- item 8: standard phrases ----------------------------------------------------------------------------


def test_seed_002_enrollment_phrase_gives_count_and_groups_but_no_type(resources: Resources) -> None:
    text = SEED_002.read_text(encoding="utf-8")
    study = read_text(text, resources, SEED_002.name)
    line = _line_of(text, "18 participants in 1 patient group")
    assert study.design.enrollment is not None
    assert (study.design.enrollment.count, study.design.enrollment.type) == (18, None)
    assert study.design.number_of_groups == 1
    assert study.arms == []  # no arm object with an invented label
    assert study.provenance["/design/enrollment/count"].line == line
    assert study.provenance["/design/number_of_groups"].line == line
    assert line not in _unmapped_lines(study)


def test_seed_002_only_age_statement_gives_the_minimum_age_traced_to_its_line(resources: Resources) -> None:
    text = SEED_002.read_text(encoding="utf-8")
    study = read_text(text, resources, SEED_002.name)
    line = _line_of(text, "Age:≥5 years old;")
    minimum = study.eligibility.minimum_age
    assert minimum is not None and (minimum.value, minimum.unit, minimum.text) == (5, "YEARS", "5 years old")
    assert study.eligibility.maximum_age is None
    for leaf in ("value", "unit", "text"):
        assert study.provenance[f"/eligibility/minimum_age/{leaf}"].line == line
    assert study.eligibility.criteria[0].items[0].text == "Age:≥5 years old;"  # the criterion stays
    assert "page-age-from-statement" in codes(study)
    mapped_lines_from_text(study, text)


def test_seed_002_conditions_and_treatments_in_prose_stay_unmapped(resources: Resources) -> None:
    text = SEED_002.read_text(encoding="utf-8")
    study = read_text(text, resources, SEED_002.name)
    assert study.conditions == [] and study.interventions == []
    unmapped = {span.line: span for span in study.unmapped if span.line is not None}
    assert "Conditions\nTreatments" in unmapped[1].text  # the empty headings are listed as unused text
    assert "lupus" in (study.brief_summary or "")  # the prose that names them is the summary, nothing more


def test_enrollment_phrase_is_read_in_every_layout(resources: Resources) -> None:
    phrase = "120 participants in 2 patient groups"
    pipe = PIPE.replace("Enrollment | 20 |\n", "") + "\n" + phrase
    mirror = CTGOV.replace("Study Start Date", phrase + "\nStudy Start Date")
    about = _about(enrollment=phrase)
    center = STUDY_CENTER.format(status_line="ChinaRecruiting").replace("Clinical Study ID", phrase)
    generic = "Title: A trial\nSponsor: A hospital\n" + phrase
    for name, page in (("pipe", pipe), ("mirror", mirror), ("about", about), ("center", center),
                       ("generic", generic)):
        study = read_text(page, resources)
        assert study.design.enrollment is not None, name
        assert (study.design.enrollment.count, study.design.enrollment.type) == (120, None), name
        assert study.design.number_of_groups == 2, name
        line = _line_of(page, phrase)
        assert study.provenance["/design/number_of_groups"].line == line, name
        assert line not in _unmapped_lines(study), name
        mapped_lines_from_text(study, page)


def test_an_enrollment_section_holding_the_phrase_is_not_reported_empty(resources: Resources) -> None:
    page = _about(enrollment="18 participants in 1 patient group")
    study = read_text(page, resources)
    assert study.design.number_of_groups == 1
    empty = [p.message for p in study.problems if p.code == "page-section-empty"]
    assert not any("'Enrollment'" in message for message in empty)
    heading = {span.line: span.reason for span in study.unmapped}[_line_of(page, "Enrollment")]
    assert heading == "section heading"


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=99_999), st.integers(min_value=1, max_value=40),
       st.sampled_from(["participants", "patients", "subjects", "participant"]),
       st.sampled_from(["patient group", "patient groups", "groups", "arms", "cohorts", "treatment arms"]))
def test_property_enrollment_phrase(count: int, groups: int, noun: str, group_word: str) -> None:
    written = f"{count:,}" if count >= 1000 and count % 2 else str(count)
    phrase = f"{written} {noun} in {groups} {group_word}"
    study = read_text(_about(enrollment=phrase), _resources())
    assert study.design.enrollment is not None
    assert (study.design.enrollment.count, study.design.enrollment.type) == (count, None)
    assert study.design.number_of_groups == groups


def test_an_age_statement_is_not_read_when_the_page_states_another_age(resources: Resources) -> None:
    two = read_text(_about(inclusion="Age: ≥5 years old;", exclusion="Children under 2 years;"), resources)
    assert two.eligibility.minimum_age is None and two.eligibility.maximum_age is None
    assert "page-age-from-statement" not in codes(two)
    stated = read_text(_about(ages="18 Years and older", inclusion="Age: ≥5 years old;"), resources)
    assert stated.eligibility.minimum_age is not None and stated.eligibility.minimum_age.value == 18
    assert "page-age-from-statement" not in codes(stated)
    prose = read_text(_about(inclusion="Patients at least 5 years old who weigh 20 kg;"), resources)
    assert prose.eligibility.minimum_age is None  # an age inside a sentence is not a statement of the limit


def test_an_only_age_statement_is_read_in_other_layouts_and_forms(resources: Resources) -> None:
    mirror = CTGOV.replace("1. Adults.", "1. Aged 18-65 years;\n2. Adults with lupus.")
    study = read_text(mirror, resources)
    minimum, maximum = study.eligibility.minimum_age, study.eligibility.maximum_age
    assert minimum is not None and (minimum.value, minimum.unit, minimum.text) == (18, "YEARS", "18")
    assert maximum is not None and (maximum.value, maximum.unit, maximum.text) == (65, "YEARS", "65 years")
    line = _line_of(mirror, "1. Aged 18-65 years;")
    assert study.provenance["/eligibility/minimum_age/value"].line == line
    about = read_text(_about(inclusion="Age: ≤ 17 years old;"), resources)
    assert about.eligibility.minimum_age is None
    assert about.eligibility.maximum_age is not None and about.eligibility.maximum_age.value == 17


def test_age_fields_take_signs_and_a_unit_written_once(resources: Resources) -> None:
    for value, minimum, maximum in (("≥18 years", (18, "18 years"), None),
                                    ("18-60 years", (18, "18"), (60, "60 years")),
                                    ("18 years old and older", (18, "18 years old"), None)):
        study = read_text(PIPE.replace("Gender | All |", f"Gender | All |\nAge group | {value} |"), resources)
        low, high = study.eligibility.minimum_age, study.eligibility.maximum_age
        assert ((low.value, low.text) if low else None) == minimum, value
        assert ((high.value, high.text) if high else None) == maximum, value
