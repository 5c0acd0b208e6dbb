"""The criteria reader keeps every item's exact text and reads nesting, sections and sub-headings."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from converters.model import CriteriaSection, Criterion, TextFormat
from converters.model.criteria_markdown import CriteriaHeadings, iter_items, parse_criteria
from tests.readers_ctgov.helpers import CTGOV_HEADINGS


def _shape(items: list[Criterion]) -> list[object]:
    """(marker, text, heading[, children]) of each item."""
    return [(i.marker, i.text, i.heading, _shape(i.children)) if i.children else (i.marker, i.text, i.heading)
            for i in items]


def test_markdown_sections_and_nesting() -> None:
    text = ("Inclusion Criteria:\n\n* Adults\n* Disease:\n\n  * type A\n  * type B \\> 2\n* Consent\n\n"
            "Exclusion Criteria:\n\n1. Pregnancy\n2. Prior therapy:\n\n   1. chemotherapy\n   2. radiation\n")
    sections = parse_criteria(text, CTGOV_HEADINGS, TextFormat.MARKDOWN)
    assert [(s.category, s.heading) for s in sections] == [("inclusion", "Inclusion Criteria:"),
                                                           ("exclusion", "Exclusion Criteria:")]
    assert _shape(sections[0].items) == [
        ("*", "Adults", False), ("*", "Disease:", False, [("*", "type A", False), ("*", "type B > 2", False)]),
        ("*", "Consent", False)]
    assert _shape(sections[1].items) == [
        ("1.", "Pregnancy", False),
        ("2.", "Prior therapy:", False, [("1.", "chemotherapy", False), ("2.", "radiation", False)])]


def test_sub_headings_group_the_items_after_them() -> None:
    text = ("Inclusion Criteria:\n\nCohort A:\n\n* one\n* two\n\nCohort B\n\n* three\n\n"
            "A note that is a sentence.\n\nExclusion Criteria:\n\n* four\n")
    inclusion, exclusion = parse_criteria(text, CTGOV_HEADINGS)
    assert [(i.text, i.heading, [c.text for c in i.children]) for i in inclusion.items] == [
        ("Cohort A:", True, ["one", "two"]), ("Cohort B", True, ["three", "A note that is a sentence."])]
    assert [i.text for i in exclusion.items] == ["four"]


def test_legacy_xml_plain_text_with_wrapped_lines() -> None:
    text = ("Inclusion Criteria:\n\n  -  Signed informed consent prior to study specific\n"
            "     procedures.\n\n  -  Age >= 18 years.\n\nExclusion Criteria:\n\n  -  Pregnancy\n")
    inclusion, exclusion = parse_criteria(text, CTGOV_HEADINGS)
    assert [i.text for i in inclusion.items] == [
        "Signed informed consent prior to study specific\n     procedures.", "Age >= 18 years."]
    assert [i.marker for i in inclusion.items] == ["-", "-"]
    assert [i.text for i in exclusion.items] == ["Pregnancy"]


def test_text_without_sections_or_lists() -> None:
    assert parse_criteria("Healthy adults aged 18 to 65.", CTGOV_HEADINGS) == [
        CriteriaSection(category="unspecified", items=[Criterion(text="Healthy adults aged 18 to 65.")])]
    assert parse_criteria("", CTGOV_HEADINGS) == []


def test_numbers_in_wrapped_text_are_not_list_markers() -> None:
    text = "* bilirubin <= 3.0 x ULN or\n  1.5 mg/dL with direct bilirubin\n* next"
    [section] = parse_criteria(text, CTGOV_HEADINGS)
    assert [i.text for i in section.items] == ["bilirubin <= 3.0 x ULN or\n  1.5 mg/dL with direct bilirubin", "next"]


LINES = st.lists(
    st.tuples(st.sampled_from(["", "  ", "    "]), st.sampled_from(["* ", "- ", "1. ", "a) ", ""]),
              st.text(alphabet="abc XYZ:.;()<>", min_size=1, max_size=20)),
    max_size=15,
)


@settings(max_examples=200, deadline=None)
@example([("", "* ", " "), ("  ", "a) ", ":")])  # a marker line with no body
@given(LINES)
def test_any_text_keeps_every_word_in_exact_slices(lines: list[tuple[str, str, str]]) -> None:
    text = "\n".join(indent + marker + body for indent, marker, body in lines)
    sections = parse_criteria(text, CTGOV_HEADINGS)
    kept = []
    for section in sections:
        kept.append(section.heading or "")
        for item in iter_items(section.items):
            assert item.text and item.text in text, "exact slice of the source"
            kept.append(item.text)
    joined = " ".join(kept)
    for word in re.findall(r"[A-Za-z]+", re.sub(r"(?m)^[ \t]*(?:[-*+•]|\d+[.)]|[a-zA-Z][.)])[ \t]+", "", text)):
        assert word in joined


@settings(max_examples=200, deadline=None)
@given(LINES)
@example([("    ", ">", " ")])  # an indented code block holding only a quote marker: span [6, 5] before
def test_any_markdown_keeps_every_word(lines: list[tuple[str, str, str]]) -> None:
    text = "\n".join(indent + marker + body for indent, marker, body in lines)
    sections = parse_criteria(text, CTGOV_HEADINGS, TextFormat.MARKDOWN)
    kept = " ".join([s.heading or "" for s in sections] + [i.text for s in sections for i in iter_items(s.items)])
    for word in re.findall(r"[A-Za-z]+", text):
        assert word in kept
    for section in sections:
        for item in iter_items(section.items):
            if item.span is not None:
                assert 0 <= item.span[0] <= item.span[1] <= len(text)


def test_the_section_headings_are_the_field_maps_words() -> None:
    """Another source's words for the same headings need a mapping change, not a code change."""
    headings = CriteriaHeadings.from_mapping({"inclusion": ["Einschlusskriterien"], "exclusion": ["Ausschluss"],
                                              "qualifiers": ["Wichtigste"], "nouns": ["Kriterien"]})
    text = "Einschlusskriterien:\n\n- Alter 18\n\nWichtigste Ausschluss Kriterien\n\n- Schwanger\n"
    inclusion, exclusion = parse_criteria(text, headings)
    assert (inclusion.category, [i.text for i in inclusion.items]) == ("inclusion", ["Alter 18"])
    assert (exclusion.category, exclusion.heading, [i.text for i in exclusion.items]) == (
        "exclusion", "Wichtigste Ausschluss Kriterien", ["Schwanger"])
    [section] = parse_criteria("Inclusion Criteria:\n\n- a\n", headings)  # not these words: not a section
    assert section.category == "unspecified"
