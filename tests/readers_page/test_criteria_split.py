"""Splitting criteria text at list markers (issue 10, item 4): synthetic snippets and properties.

The seed pages are checked against their hand-labelled splits in test_expected_criteria.py; here each rule
is shown on its own, and hypothesis checks that splitting never loses, adds or reorders a character.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converters.readers.registry_page import criteria
from converters.readers.registry_page.boundaries import roman_value, to_roman
from converters.readers.registry_page.draft import Draft
from converters.readers.registry_page.rules import CriteriaRules, PageRules
from converters.resources import Resources
from tests.readers_page.test_criteria_tree import shape

RUN_ON = "criteria-run-on"


@pytest.fixture(scope="module")
def rules(resources: Resources) -> CriteriaRules:
    return PageRules.load(resources).criteria


def build(lines: list[str], rules: CriteriaRules) -> tuple[list[dict[str, Any]], Draft]:
    """The items of an inclusion section whose lines (numbered from 2) are `lines`."""
    numbered = [(i, line, False) for i, line in enumerate(lines, start=2) if line.strip()]
    draft = Draft("t.txt")
    sections = criteria.build_sections(
        criteria.split_sections(numbered, rules, "inclusion", ("Inclusion Criteria", (1, 1))), draft,
        rules.boundaries)
    criteria.emit(draft, sections)
    found = draft.data.get("eligibility", {}).get("criteria", [])
    return (found[0]["items"] if found else []), draft


def flat(items: list[dict[str, Any]]) -> list[str]:
    """Markers and texts in tree order (pre-order): the order they have on the page."""
    out: list[str] = []
    for item in items:
        out.extend([item["marker"]] if "marker" in item else [])
        out.append(item["text"])
        out.extend(flat(item.get("children", [])))
    return out


def run_on_lines(draft: Draft) -> list[int]:
    return [p.location.line or 0 for p in draft.problems if p.code == RUN_ON]


# --- inline enumerators --------------------------------------------------------------------------------


def test_lettered_list_on_one_line_is_split_after_its_lead_in(rules: CriteriaRules) -> None:
    items, _ = build(["Labs must meet: (a) ANC ≥1.5; (b) platelets ≥100; (c) Hb ≥9 g/dL."], rules)
    assert shape(items) == [[(None, "Labs must meet:"),
                             [("(a)", "ANC ≥1.5;"), ("(b)", "platelets ≥100;"), ("(c)", "Hb ≥9 g/dL.")]]]


def test_letter_list_with_closing_parenthesis_and_roman_list(rules: CriteriaRules) -> None:
    items, _ = build(["Any of: a) relapse; b) no response.",
                      "Worse in one of: (i) lung function, FVC down; And (ii) muscle strength."], rules)
    assert shape(items) == [
        [(None, "Any of:"), [("a)", "relapse;"), ("b)", "no response.")]],
        [(None, "Worse in one of:"), [("(i)", "lung function, FVC down; And"), ("(ii)", "muscle strength.")]],
    ]


def test_capital_letters_and_capital_roman_numerals_make_lists_of_their_own(rules: CriteriaRules) -> None:
    items, _ = build(["Organ function: A) neutrophils ≥1.5; B) ALT ≤3×ULN; c) is text."], rules)
    assert shape(items) == [
        [(None, "Organ function:"), [("A)", "neutrophils ≥1.5;"), ("B)", "ALT ≤3×ULN; c) is text.")]]]
    items, _ = build(["I) Adults;", "II) Consent."], rules)
    assert shape(items) == [("I)", "Adults;"), ("II)", "Consent.")]


def test_roman_i_continuing_a_letter_list_is_the_letter(rules: CriteriaRules) -> None:
    letters = " ".join(f"({chr(ord('a') + i)}) item {i + 1};" for i in range(9))  # (a) ... (i)
    items, _ = build([f"Any of: {letters}"], rules)
    assert [child["marker"] for child in items[0]["children"]] == [f"({chr(ord('a') + i)})" for i in range(9)]


def test_a_number_after_a_semicolon_starts_a_criterion(rules: CriteriaRules) -> None:
    items, _ = build(["- ECOG 0-2 points; 6) The estimated survival of 90 days;"], rules)
    assert shape(items) == [("-", "ECOG 0-2 points;"), ("6)", "The estimated survival of 90 days;")]


@pytest.mark.parametrize("text", [
    "Titer ≥1:80) at screening, weight 1.5 kg.",
    "Patient(s) with grade 2) disease (see figure 3) and ALT ≤2.5×ULN.",
    "Treated since 2019) per ACR, or type (a) lesions.",
])
def test_numbers_and_letters_that_are_not_markers_stay_text(text: str, rules: CriteriaRules) -> None:
    items, draft = build([text], rules)
    assert shape(items) == [(None, text)]
    assert not draft.problems


# --- parents: a line ending with ":" ------------------------------------------------------------------


def test_a_colon_line_takes_the_next_line_and_lowercase_lines_after_it(rules: CriteriaRules) -> None:
    items, _ = build([
        "Organ function is normal:",
        "Cardiac function: LVEF ≥55%;",
        "and renal function: eGFR ≥30;",
        "Negative pregnancy test;",
    ], rules)
    assert shape(items) == [
        [(None, "Organ function is normal:"),
         [(None, "Cardiac function: LVEF ≥55%;"), (None, "and renal function: eGFR ≥30;")]],
        (None, "Negative pregnancy test;"),
    ]


def test_a_bullet_under_a_colon_line_opens_a_list_that_a_number_continues(rules: CriteriaRules) -> None:
    items, _ = build([
        "Patients with PAH:",
        "confirmed by right heart catheter:",
        "- mPAP ≥20 mmHg; 2) PVR >2 WU;",
        "PAH not in the low-risk group.",
    ], rules)
    assert shape(items) == [
        [(None, "Patients with PAH:"),
         [[(None, "confirmed by right heart catheter:"), [("-", "mPAP ≥20 mmHg;"), ("2)", "PVR >2 WU;")]]]],
        (None, "PAH not in the low-risk group."),
    ]


def test_a_number_after_unmarked_children_continues_the_outer_list(rules: CriteriaRules) -> None:
    items, _ = build(["1. Labs:", "ANC ≥1.0;", "2. Consent."], rules)
    assert shape(items) == [[("1.", "Labs:"), [(None, "ANC ≥1.0;")]], ("2.", "Consent.")]


# --- run-ons ---------------------------------------------------------------------------------------------


def test_semicolon_list_without_markers_is_kept_whole_and_reported(rules: CriteriaRules) -> None:
    text = "Diagnosed with SLE per 2019 EULAR/ACR criteria;Still active despite treatment;"
    items, draft = build(["Age ≥5 years;", text], rules)
    assert shape(items) == [(None, "Age ≥5 years;"), (None, text)]
    assert run_on_lines(draft) == [3]
    assert "kept whole" in draft.problems[0].message and draft.problems[0].severity.value == "warning"


def test_semicolons_inside_parentheses_list_examples_not_criteria(rules: CriteriaRules) -> None:
    _, draft = build(["Liver disease of other causes (eg, alcoholic hepatitis; drug-induced hepatitis; Wilson's "
                      "disease)"], rules)
    assert run_on_lines(draft) == []


def test_flattened_lines_without_punctuation_are_reported_only_when_long(rules: CriteriaRules) -> None:
    flattened = ("Aged between 18 and 65 years with a confirmed diagnosis of lupus for at least six months before "
                 "screening at the study site Positive anti-nuclear antibody at screening or by documented "
                 "history Active disease despite standard treatment")
    short = "Negative pregnancy test for female Subjects of childbearing age"
    items, draft = build([flattened, short], rules)
    assert [item["text"] for item in items] == [flattened, short]
    assert run_on_lines(draft) == [2]


def test_a_marker_that_continues_no_list_is_a_run_on_sign(rules: CriteriaRules) -> None:
    _, draft = build(["Severe infection, 6) The estimated survival is under 90 days."], rules)
    assert run_on_lines(draft) == [2]


def test_the_signs_are_data(resources: Resources) -> None:
    data = resources.mapping("registry_page/criteria-boundaries.yaml")
    assert {s["id"] for s in data["run_on"]["signals"]} == {"semicolon-capital", "unpunctuated-restart"}
    assert [m["style"] for m in data["markers"]] == ["wrap", "dotted", "dot", "paren"]


def test_roman_numerals() -> None:
    assert [roman_value(to_roman(n)) for n in range(1, 40)] == list(range(1, 40))
    assert roman_value("iiii") is None and roman_value("vx") is None and roman_value("mix") is None


# --- properties ------------------------------------------------------------------------------------------

_WORDS = st.text(alphabet="abcdefghij ABCDEF≥<>=/%-", min_size=1, max_size=25)
_PUNCT = st.sampled_from(["", ";", ".", ",", ":", ")", " ("])
_MARKERS = st.sampled_from(["1.", "2.", "3.", "1)", "2)", "6)", "(1)", "(2)", "(a)", "(b)", "(i)", "(ii)", "a)",
                            "b)", "A)", "(B)", "I)", "II)", "1.1.", "1.2.", "2.1.", "5\\.", "-", "\\-", "2019)",
                            "1:80)", "1.5"])


@st.composite
def criteria_lines(draw: st.DrawFn) -> list[str]:
    """Lines of words, punctuation and marker-like tokens in any order: real and false markers alike."""
    lines = []
    for _ in range(draw(st.integers(1, 5))):
        tokens = draw(st.lists(st.one_of(_WORDS, _PUNCT, _MARKERS), min_size=1, max_size=12))
        lines.append(draw(st.sampled_from([" ".join(tokens), tokens[0]])))  # some lines hold one token only
    return lines


def _no_space(text: str) -> str:
    return re.sub(r"\s+", "", text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=criteria_lines())
def test_splitting_never_loses_adds_or_reorders_characters(lines: list[str], rules: CriteriaRules) -> None:
    items, _ = build(lines, rules)
    # markers and texts, in tree order, are the lines themselves: only the spaces between pieces differ
    assert _no_space("".join(flat(items))) == _no_space("".join(lines))


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(alphabet="abcdefgh ABCDEF≥<>=/%-;:,.!?", min_size=1, max_size=200),
                     st.text(alphabet="abc ABC 0123456789≥<%-;:,", min_size=1, max_size=200)))
def test_a_text_with_no_enumerator_is_never_split(text: str, rules: CriteriaRules) -> None:
    stripped = text.strip()
    if not stripped or stripped[0] in "-*•":  # a leading hyphen is a bullet: the text's marker
        return
    items, _ = build([text], rules)
    assert [(item.get("marker"), item["text"], item.get("children", [])) for item in items] == [
        (None, stripped, [])]


@pytest.mark.parametrize("lines", [
    ["-", "1. Adults."],                      # a lone bullet before a numbered line
    ["Cohort (a) one (b) two", "1. Adults."],  # a title-like line holding a lettered list
    ["Labs:", "-", "- ANC ≥1.0;"],            # a lone bullet before a bullet under a colon line
    ["1.1.", "1.1.", "Adults."],               # two lone markers in a row
])
def test_no_character_is_lost_in_the_corner_cases(lines: list[str], rules: CriteriaRules) -> None:
    items, _ = build(lines, rules)
    assert _no_space("".join(flat(items))) == _no_space("".join(lines))
