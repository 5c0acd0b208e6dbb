"""The ICTRP value conversions (converters/fieldmap/ictrp.py): each form the exports write, read as written."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from converters.fieldmap.conversions import Absent, ConversionContext, Rejected
from converters.fieldmap.ictrp import (
    clean_text,
    convert_ictrp_age,
    convert_ictrp_contacts,
    convert_ictrp_count,
    convert_ictrp_date,
    convert_ictrp_identifiers,
    convert_ictrp_list,
    convert_ictrp_phase,
    split_items,
)
from converters.model.vocabulary import IdentifierSystems, Vocabulary
from converters.resources import Resources

AGE_OPTIONS = {"bare_unit": "YEARS", "no_limit": ["N/A", "None", "No limit"],
               "units": {"age": "YEARS", "Y": "YEARS", "M": "MONTHS"}}
PHASE_OPTIONS = {"not_stated": ["Not selected"], "flags": {
    "Human pharmacology (Phase I)": "PHASE1", "Therapeutic exploratory (Phase II)": "PHASE2",
    "Therapeutic confirmatory - (Phase III)": "PHASE3", "Therapeutic use (Phase IV)": "PHASE4"}}


@pytest.fixture(scope="module")
def ctx(resources: Resources) -> ConversionContext:
    return ConversionContext(Vocabulary(resources), IdentifierSystems(resources))


def test_clean_text_turns_the_exports_markup_into_plain_lines() -> None:
    raw = "\r<br>        Inclusion Criteria:\r<br>\r<br>        - Carrier<br />        of a variant\n    "
    assert clean_text(raw) == "Inclusion Criteria:\n\n- Carrier\nof a variant"
    assert clean_text("<p>1. Must consent</p><p>2. Adults</p>") == "1. Must consent\n2. Adults"
    assert clean_text("Alnylam Pharmaceuticals\n    ") == "Alnylam Pharmaceuticals"


@given(st.text(alphabet=st.sampled_from(list("ab ;\n\r<br>p/")), max_size=60))
def test_clean_text_is_idempotent_and_leaves_no_break_markup(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once
    assert "<br>" not in once.lower() and "\r" not in once and once == once.strip()


@given(st.lists(st.text(alphabet="abcAB ", max_size=6), max_size=8))
def test_split_items_keeps_order_drops_empties_and_repeats(items: list[str]) -> None:
    expected: list[str] = []
    for item in (s.strip() for s in items):
        if item and item.casefold() not in {e.casefold() for e in expected}:
            expected.append(item)
    assert split_items(";".join(items)) == expected


def test_lists_split_trim_and_lose_repeats(ctx: ConversionContext) -> None:
    value = "Brazil;Japan;Cyprus;Japan;France;japan;\n    "
    assert convert_ictrp_list({"value": value}, {}, ctx) == ["Brazil", "Japan", "Cyprus", "France"]
    assert convert_ictrp_list({"value": "A;B"}, {"field": "measure", "set": {"kind": "primary"}}, ctx) == [
        {"kind": "primary", "measure": "A"}, {"kind": "primary", "measure": "B"}]
    assert isinstance(convert_ictrp_list({"value": " ; \n"}, {}, ctx), Absent)


@pytest.mark.parametrize(("text", "value", "precision"), [
    ("08/04/2024\n    ", "2024-04-08", "day"),  # day first, as ICTRP writes it
    ("20240408", "2024-04-08", "day"),
    ("2016/12/06", "2016-12-06", "day"),
    ("2021-09-20", "2021-09-20", "day"),
    ("April 25, 2024", "2024-04-25", "day"),
    ("20 May 2024", "2024-05-20", "day"),
    ("Apr  1 2007", "2007-04-01", "day"),
    ("March 2020", "2020-03", "month"),
])
def test_dates_in_every_form_keep_their_precision(ctx: ConversionContext, text: str, value: str,
                                                  precision: str) -> None:
    date = convert_ictrp_date({"value": text}, {}, ctx)
    assert (date.value, date.precision.value) == (value, precision)


def test_impossible_dates_are_refused(ctx: ConversionContext) -> None:
    assert isinstance(convert_ictrp_date({"value": "31/02/2020"}, {}, ctx), Rejected)
    assert isinstance(convert_ictrp_date({"value": "sometime"}, {}, ctx), Rejected)


@pytest.mark.parametrize(("text", "value", "unit"), [
    ("18 Years", 18, "YEARS"), ("18", 18, "YEARS"), (">= 20age old", 20, "YEARS"), ("<= 90age old", 90, "YEARS"),
    ("60(Year)", 60, "YEARS"), ("16years-old", 16, "YEARS"), ("6 Months", 6, "MONTHS"), ("18Y", 18, "YEARS"),
    ("3M", 3, "MONTHS"), ("28 Days", 28, "DAYS"),
])
def test_ages_in_every_form(ctx: ConversionContext, text: str, value: float, unit: str) -> None:
    age = convert_ictrp_age({"value": text}, AGE_OPTIONS, ctx)
    assert (age.value, age.unit, age.text) == (value, unit, text)


@pytest.mark.parametrize("text", ["N/A", "None", "no limit", ""])
def test_no_limit_wordings_are_absent(ctx: ConversionContext, text: str) -> None:
    assert isinstance(convert_ictrp_age({"value": text}, AGE_OPTIONS, ctx), Absent)


@pytest.mark.parametrize("text", ["65+", "> 20", "??", "eighteen"])
def test_ages_that_cannot_be_stated_exactly_are_refused(ctx: ConversionContext, text: str) -> None:
    assert isinstance(convert_ictrp_age({"value": text}, {**AGE_OPTIONS, "no_limit": []}, ctx), Rejected)


def _ids(got: Any) -> list[tuple[str, str, str | None]]:
    return [(i.value, i.kind.value, i.registry) for i in got]


@pytest.mark.parametrize(("trial_id", "expected"), [
    ("NCT06360289", [("NCT06360289", "registry", "nct")]),
    ("EUCTR2021-000037-14-ES", [("2021-000037-14", "registry", "eudract"),
                                ("EUCTR2021-000037-14-ES", "secondary", "ictrp")]),
    ("CTIS2023-507385-11-00", [("2023-507385-11-00", "registry", "euct"),
                               ("CTIS2023-507385-11-00", "secondary", "ictrp")]),
    ("JPRN-jRCTs031210288", [("jRCTs031210288", "registry", "jrct"), ("JPRN-jRCTs031210288", "secondary", "ictrp")]),
    ("JPRN-UMIN000027045", [("UMIN000027045", "registry", "umin"), ("JPRN-UMIN000027045", "secondary", "ictrp")]),
    ("NL-OMON55279", [("NL-OMON55279", "registry", "nl_omon")]),
    ("NL8460", [("NL8460", "registry", "ntr")]),
    ("RBR-3vmkt2", [("RBR-3vmkt2", "registry", "rebec")]),
    ("KCT0000379", [("KCT0000379", "registry", "kct")]),
    ("TCTR20200321001", [("TCTR20200321001", "registry", "tctr")]),
    ("XYZ-123", [("XYZ-123", "registry", None)]),
])
def test_trial_ids_go_under_their_own_registry(ctx: ConversionContext, trial_id: str,
                                               expected: list[tuple[str, str, str | None]]) -> None:
    assert _ids(convert_ictrp_identifiers({"value": f"{trial_id}\n    "}, {"kind": "registry"}, ctx)) == expected


def test_secondary_ids_are_split_and_classified(ctx: ConversionContext) -> None:
    got = convert_ictrp_identifiers({"value": "EUCTR2019-001698-10-NL;NCT04136184;NL73848.000.21"},
                                    {"kind": "secondary"}, ctx)
    assert _ids(got) == [("2019-001698-10", "secondary", "eudract"), ("EUCTR2019-001698-10-NL", "secondary", "ictrp"),
                         ("NCT04136184", "secondary", "nct"), ("NL73848.000.21", "secondary", None)]


def test_phases_from_wordings_and_eu_flags(ctx: ConversionContext) -> None:
    flags = ("Human pharmacology (Phase I): no\nTherapeutic exploratory (Phase II): yes\n"
             "Therapeutic confirmatory - (Phase III): yes\nTherapeutic use (Phase IV): no")
    assert convert_ictrp_phase({"value": flags}, PHASE_OPTIONS, ctx) == ["PHASE2", "PHASE3"]
    assert convert_ictrp_phase({"value": "2-3"}, PHASE_OPTIONS, ctx) == ["PHASE2", "PHASE3"]
    assert isinstance(convert_ictrp_phase({"value": "0"}, PHASE_OPTIONS, ctx), Rejected)  # ChiCTR: not phase 0
    assert isinstance(convert_ictrp_phase({"value": "Not selected"}, PHASE_OPTIONS, ctx), Absent)
    assert isinstance(convert_ictrp_phase({"value": "Retrospective study"}, PHASE_OPTIONS, ctx), Rejected)


def test_counts_are_one_number_never_a_sum(ctx: ConversionContext) -> None:
    assert convert_ictrp_count({"value": "1,200\n  "}, {}, ctx).count == 1200
    assert isinstance(convert_ictrp_count({"value": "control group:50;sepsis group:50;"}, {}, ctx), Rejected)


def test_contacts_are_paired_by_position(ctx: ConversionContext) -> None:
    parts = {"first": ";", "last": "Yueping Li, MD;Linghua Li, MD", "email": "lipipi007@163.com;",
             "phone": "020- 36052117;", "address": "", "affiliation": ""}
    assert convert_ictrp_contacts(parts, {}, ctx) == [
        {"name": "Yueping Li, MD", "email": "lipipi007@163.com", "phone": "020- 36052117"},
        {"name": "Linghua Li, MD"}]


def test_contacts_that_cannot_be_paired_are_refused(ctx: ConversionContext) -> None:
    parts = {"last": "A;B", "email": "a@x.org;b@x.org", "affiliation": "Only one"}
    assert "cannot be paired" in convert_ictrp_contacts(parts, {}, ctx).reason


def test_numbered_criteria_without_a_space_after_the_marker(resources: Resources) -> None:
    from converters.model.criteria_markdown import CriteriaHeadings, parse_criteria

    headings = CriteriaHeadings.from_mapping({"inclusion": ["Inclusion"], "exclusion": ["Exclusion"],
                                              "qualifiers": [], "nouns": ["Criteria"]})
    text = "Inclusion criteria:\n1.Aged =18 years\n2.Newly diagnosed\n3.5 mg daily is allowed\n4.x is not a marker"
    [section] = parse_criteria(text, headings)
    assert [(i.marker, i.text) for i in section.items] == [
        ("1.", "Aged =18 years"), ("2.", "Newly diagnosed\n3.5 mg daily is allowed\n4.x is not a marker")]


FORMS = {"forms": {"nct": "type_name", "chictr": "group_intervention"}, "no_intervention": ["none", "N/A"]}


def test_interventions_in_the_form_of_the_trials_registry(ctx: ConversionContext) -> None:
    from converters.fieldmap.ictrp import convert_ictrp_arms, convert_ictrp_interventions

    nct = {"value": "Drug: Lopinavir;Diagnostic Test: PCR;Unknown: thing", "trial_id": "NCT04252885"}
    assert convert_ictrp_interventions(nct, FORMS, ctx) == [
        {"name": "Lopinavir", "type": "DRUG"}, {"name": "PCR", "type": "DIAGNOSTIC_TEST"},
        {"name": "Unknown: thing"}]
    assert isinstance(convert_ictrp_arms(nct, FORMS, ctx), Absent)
    chictr = {"value": "Experimental group:HCQ tablets;Control group:N/A;", "trial_id": "ChiCTR2000029308"}
    assert convert_ictrp_interventions(chictr, FORMS, ctx) == [
        {"name": "HCQ tablets", "arm_group_labels": ["Experimental group"]}]
    assert convert_ictrp_arms(chictr, FORMS, ctx) == [
        {"label": "Experimental group", "intervention_names": ["HCQ tablets"]}, {"label": "Control group"}]
    twice = {"value": "Group B:Novaferon  injection;Group F:Novaferon injection", "trial_id": "ChiCTR2000029573"}
    assert convert_ictrp_interventions(twice, FORMS, ctx) == [  # one intervention, whatever the spaces
        {"name": "Novaferon injection", "arm_group_labels": ["Group B", "Group F"]}]
    other = {"value": "Group 1: observation", "trial_id": "DRKS00032447"}  # a name, whatever its colons
    assert convert_ictrp_interventions(other, FORMS, ctx) == [{"name": "Group 1: observation"}]


def test_ethics_reviews_are_paired_by_position(ctx: ConversionContext) -> None:
    from converters.fieldmap.ictrp import convert_ictrp_ethics_reviews

    got = convert_ictrp_ethics_reviews({"status": "Approved;Approved", "approval_date": "01/03/2021;06/05/2021",
                                        "committee": ""}, {}, ctx)
    assert [(r["status"], r["approval_date"].value) for r in got] == [("Approved", "2021-03-01"),
                                                                      ("Approved", "2021-05-06")]
    assert isinstance(convert_ictrp_ethics_reviews({"status": "Approved", "approval_date": "someday"}, {}, ctx),
                      Rejected)


def test_one_groups_size_is_the_total(ctx: ConversionContext) -> None:
    assert convert_ictrp_count({"value": "Case series:100;"}, {}, ctx).count == 100
    assert isinstance(convert_ictrp_count({"value": "Case series:100;Control:50;"}, {}, ctx), Rejected)
