"""The criteria tree rules on small synthetic snippets (not the seed pages)."""

from __future__ import annotations

from typing import Any

import pytest

from converters.readers.registry_page import criteria
from converters.readers.registry_page.draft import Draft
from converters.readers.registry_page.rules import CriteriaRules, PageRules
from converters.resources import Resources


@pytest.fixture(scope="module")
def rules(resources: Resources) -> CriteriaRules:
    return PageRules.load(resources).criteria


def build(text: str, rules: CriteriaRules, category: str | None = None) -> tuple[list[dict[str, Any]], Draft]:
    """Criteria sections of a snippet (one line per text line; '<!-- -->' lines are separators)."""
    lines = [(i, line, line.strip() == "<!-- -->") for i, line in enumerate(text.split("\n"), start=1)
             if line.strip()]
    draft = Draft("t.txt")
    heading = ("Inclusion criteria", (1, 1)) if category else None
    sections = criteria.build_sections(criteria.split_sections(lines, rules, category, heading), draft,
                                       rules.boundaries)
    criteria.emit(draft, sections)
    return draft.data["eligibility"]["criteria"], draft


def shape(items: list[dict[str, Any]]) -> list[Any]:
    """(marker, text) per item, children nested: compact enough to compare whole trees."""
    out: list[Any] = []
    for item in items:
        node: Any = (item.get("marker"), item["text"]) if not item.get("heading") else ("#", item["text"])
        out.append([node, shape(item["children"])] if item.get("children") else node)
    return out


def test_inline_numbered_list_is_split_into_items_with_exact_text(rules: CriteriaRules) -> None:
    sections, _ = build("Inclusion Criteria: 1. Age 18-70; 2. ANC ≥1.5×10^9/L and ALT ≤2.5×ULN; "
                        "3. Diagnosed (2019) per ACR. Exclusion Criteria: 1. Pregnancy.", rules)
    assert [(s["category"], s["heading"]) for s in sections] == [
        ("inclusion", "Inclusion Criteria:"), ("exclusion", "Exclusion Criteria:")]
    assert shape(sections[0]["items"]) == [
        ("1.", "Age 18-70;"), ("2.", "ANC ≥1.5×10^9/L and ALT ≤2.5×ULN;"), ("3.", "Diagnosed (2019) per ACR.")]
    assert shape(sections[1]["items"]) == [("1.", "Pregnancy.")]


def test_sub_list_after_colon_or_separator_closes_when_the_parent_number_comes(rules: CriteriaRules) -> None:
    text = "\n".join([
        "Inclusion Criteria",
        "1. Adults;",
        "2. Labs must meet:",
        "<!-- -->",
        "1. ANC ≥1.0;",
        "2. Hemoglobin ≥60 g/L;",
        "3. Creatinine \\<1.5×ULN. 3. Platelets ≥50; 4. Bilirubin normal.",
    ])
    sections, _ = build(text, rules)
    # the first "3." is the sub-list's (the deepest list expecting 3); the second can only be the parent's
    assert shape(sections[0]["items"]) == [
        ("1.", "Adults;"),
        [("2.", "Labs must meet:"),
         [("1.", "ANC ≥1.0;"), ("2.", "Hemoglobin ≥60 g/L;"), ("3.", "Creatinine \\<1.5×ULN.")]],
        ("3.", "Platelets ≥50;"), ("4.", "Bilirubin normal."),
    ]


def test_restart_without_heading_becomes_an_unlabelled_group(rules: CriteriaRules) -> None:
    text = "Inclusion Criteria\n1. Adults;\n2. Consent.\n1. Lupus per SLICC;\n2. SLEDAI \\>6."
    sections, draft = build(text, rules)
    assert shape(sections[0]["items"]) == [
        ("1.", "Adults;"), ("2.", "Consent."), [("#", ""), [("1.", "Lupus per SLICC;"), ("2.", "SLEDAI \\>6.")]]]
    assert [p.code for p in draft.problems] == ["page-criteria-unlabelled-group"]


def test_title_line_before_a_restarted_list_is_a_cohort_heading(rules: CriteriaRules) -> None:
    text = ("Exclusion Criteria\n1. Infection.\nRefractory Lupus Nephritis\n1. Dialysis;\n2. Transplant.\n"
            "Myositis\n1. Cancer.")
    sections, draft = build(text, rules)
    assert shape(sections[0]["items"]) == [
        ("1.", "Infection."),
        [("#", "Refractory Lupus Nephritis"), [("1.", "Dialysis;"), ("2.", "Transplant.")]],
        [("#", "Myositis"), [("1.", "Cancer.")]],
    ]
    assert not draft.problems


def test_dotted_sub_headings_and_disease_prefix(rules: CriteriaRules) -> None:
    text = "\n".join([
        "Inclusion Criteria:",
        "Systemic lupus erythematosus (SLE) 1.1. Refractory lupus nephritis (LN)",
        "Aged 18-65 years;",
        "Proteinuria persists; 1.2. Lupus thrombocytopenia (SLE-ITP)",
        "Platelets low.",
        "Sjogren syndrome (SS) 2.1.SS-ITP",
        "Anti-SSA positive.",
        "Antiphospholipid syndrome (APS)",
        "Thrombosis history.",
    ])
    sections, _ = build(text, rules)
    assert shape(sections[0]["items"]) == [
        [("#", "Systemic lupus erythematosus (SLE)"), [
            [("#", "Refractory lupus nephritis (LN)"), [(None, "Aged 18-65 years;"), (None, "Proteinuria persists;")]],
            [("#", "Lupus thrombocytopenia (SLE-ITP)"), [(None, "Platelets low.")]],
        ]],
        [("#", "Sjogren syndrome (SS)"), [[("#", "SS-ITP"), [(None, "Anti-SSA positive.")]]]],
        [("#", "Antiphospholipid syndrome (APS)"), [(None, "Thrombosis history.")]],
    ]
    items = sections[0]["items"]
    assert items[0]["children"][0]["marker"] == "1.1." and items[1]["children"][0]["marker"] == "2.1."


def test_unnumbered_list_splits_the_number_that_comes_next_and_any_number_after_a_semicolon(
        rules: CriteriaRules) -> None:
    text = "\n".join([
        "Exclusion Criteria:",
        "Uncontrolled infection;",
        "Heart failure: LVEF <45%; 3. Respiratory failure; 4. Cancer;",
        "- ECOG 0-2 points; 6) survival of 90 days;",
    ])
    sections, _ = build(text, rules)
    # "6)" after ';' is an item of its own (issue 10: "ECOG: 0-2 points; 6) The estimated survival" is two)
    assert shape(sections[0]["items"]) == [
        (None, "Uncontrolled infection;"), (None, "Heart failure: LVEF <45%;"), ("3.", "Respiratory failure;"),
        ("4.", "Cancer;"), ("-", "ECOG 0-2 points;"), ("6)", "survival of 90 days;"),
    ]


def test_inline_list_after_a_colon_or_before_its_own_two_becomes_children(rules: CriteriaRules) -> None:
    text = ("Inclusion Criteria\nLow risk means: 1) WHO class I-II; 2) 6 min walk > 440 m;\n"
            "ILD (1)HRCT confirmed (2) FVC low")
    sections, _ = build(text, rules)
    assert shape(sections[0]["items"]) == [
        [(None, "Low risk means:"), [("1)", "WHO class I-II;"), ("2)", "6 min walk > 440 m;")]],
        [(None, "ILD"), [("(1)", "HRCT confirmed"), ("(2)", "FVC low")]],
    ]


def test_numbering_gap_is_reported_and_items_kept(rules: CriteriaRules) -> None:
    sections, draft = build("Inclusion Criteria\n2. Adults;\n3. Consent;\n6. Contraception.", rules)
    assert [item["marker"] for item in sections[0]["items"]] == ["2.", "3.", "6."]
    assert [p.code for p in draft.problems] == ["page-criteria-numbering-gap"] * 2
    assert [p.location.line for p in draft.problems] == [2, 4]


def test_lone_marker_line_and_lowercase_continuation(rules: CriteriaRules) -> None:
    text = "Inclusion Criteria\n\\-\nAged 18 to 65 with lupus\nconfirmed by biopsy\nNo pregnancy."
    sections, draft = build(text, rules)
    assert shape(sections[0]["items"]) == [
        ("\\-", "Aged 18 to 65 with lupus\nconfirmed by biopsy"), (None, "No pregnancy.")]
    assert draft.provenance["/eligibility/criteria/0/items/0/marker"] == (2, 2)
    assert draft.provenance["/eligibility/criteria/0/items/0/text"] == (3, 4)  # the text's own lines


def test_section_category_given_by_the_page(rules: CriteriaRules) -> None:
    sections, draft = build("Age ≥5 years;\nSLEDAI ≥8.", rules, category="inclusion")
    assert sections[0]["category"] == "inclusion" and sections[0]["heading"] == "Inclusion criteria"
    assert draft.provenance["/eligibility/criteria/0/heading"] == (1, 1)


def test_title_like() -> None:
    assert criteria.title_like("Relapsed, Refractory/Progressive Diffuse Scleroderma")
    assert criteria.title_like("Anti-neutrophil cytoplasmic antibody vasculitis (AAV: GPA/MPA)")
    for text in ("Severity: lower limb strength grade 3", "Skin sclerosis:", "Age 18 or older",
                 "the diagnosis was confirmed", "Pregnancy."):
        assert not criteria.title_like(text), text


def test_hostile_nesting_is_bounded(rules: CriteriaRules) -> None:
    text = "Inclusion Criteria\n" + " ".join(f"level {i}: 1) x" for i in range(500))
    sections, _ = build(text, rules)
    depth, items = 0, sections[0]["items"]
    while items:
        depth += 1
        items = items[-1].get("children", [])
    assert depth <= criteria.MAX_DEPTH + 1
