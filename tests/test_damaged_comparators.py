"""Damaged comparators: thresholds whose ≥ / ≤ was lost are found (one detector, every reader) and marked.

The detector is converters.model.comparators with its patterns in mappings/common/thresholds.yaml; readers run
it on the study they build, so a criterion is marked (`damaged_comparators`) and reported
(`criteria-comparator-damaged`) at its line (pages) or source path (ct.gov records).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converters.model import (
    CriteriaSection,
    Criterion,
    DamagedComparator,
    Eligibility,
    SourceInfo,
    SourceLocation,
    Study,
)
from converters.model.comparators import (
    ComparatorRules,
    find_damaged_comparators,
    mark_damaged_comparators,
    normalise_term,
)
from converters.resources import Resources
from tests.conftest import FIXTURES, ROOT, SEEDS
from tests.readers_ctgov.helpers import document, read, studies
from tests.readers_page.helpers import read_bytes

CODE = "criteria-comparator-damaged"


@pytest.fixture(scope="module")
def rules(resources: Resources) -> ComparatorRules:
    return ComparatorRules.load(resources)


def found(text: str, rules: ComparatorRules) -> list[tuple[str, str]]:
    return [(f.phrase, f.damage) for f in find_damaged_comparators(text, rules)]


# --- the examples and honest texts -------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Nuclear antibody (ANA) test is clearly positive, namely ANA titer 1:80 (based on Hep-2 immunofluorescence)",
     [("ANA titer 1:80", "missing")]),
    ("Age range: 18-70 years (including 18 and 70 years), gender unlimited, weight 40 kg atscreening.",
     [("weight 40 kg", "missing")]),
    ("mRSS 12 points, or new skin involvement areas or skin progression (mRSS 3 points) were recorded",
     [("mRSS 12 points", "missing"), ("mRSS 3 points", "missing")]),
    ("at screening: SELENA-SLEDAI score = 6 points; PGA = 1 points; BILAG-2004 organ system scores of at least 1 A",
     [("SELENA-SLEDAI score = 6 points", "equals"), ("PGA = 1 points", "equals")]),
    ("hemodialysis or prednisone = 100 mg/d, or equivalent glucocorticoid therapy for =14 days;",
     [("= 100 mg/d", "equals"), ("=14 days", "equals")]),
    ("Subjects that have donated blood for = 400mL or had a significant blood loss", [("= 400mL", "equals")]),
    ("History of =grade 2 bleeding within 4 weeks prior to screening", [("=grade 2", "equals")]),
    ("Positive antinuclear antibody (titer 1:80) at screening", [("titer 1:80", "missing")]),
    ("mean pulmonary artery pressure (mPAP) 20mmHg at rest", [("mean pulmonary artery pressure (mPAP) 20mmHg",
                                                              "missing")]),
    ("Age is 18 years old, 70 years old, gender is not limited", [("Age is 18 years", "missing")]),
    ("Lungfunction: FVC% 60%, and DLCO 40%", [("FVC% 60%", "missing"), ("DLCO 40%", "missing")]),
    ("Male or female, age ?18 years", [("age ?18 years", "question-mark")]),
    ("Absolute neutrophil count \ufffd 1.5 ×10^9/L",
     [("Absolute neutrophil count \ufffd 1.5 ×10^9/L", "replacement-character")]),
])
def test_damaged_thresholds_are_found(text: str, expected: list[tuple[str, str]], rules: ComparatorRules) -> None:
    assert found(text, rules) == expected


@pytest.mark.parametrize("text", [
    "Physical strength status score (ECOG): 0-2 points",  # a range
    "ECOG 0-2",
    "Age range from 18 to 70 years old, regardless of gender;",
    "aged 18 to 70", "Age 18 years old to 65 years old", "Age 18, 19 or 20",
    "Male or female patients, aged 3-65 years (including 3 and 65 years);",
    "Eastern Cooperative Oncology Group (ECOG) performance status of 0 or 1",  # a list of allowed values
    "ECOG score = 1",  # one value of an ordinal scale may be honest
    "NYHA class 3",
    "Positive anti-nuclear antibody (ANA) (titer ≥1:80 ), anti-dsDNA (≥30 IU/mL on ELISA)",
    "Patients take at least 7.5 mg of prednisolone daily or a SLEDAI 2K score (see attachment 3) of 8 or higher.",
    "Age 18 years or older", "aged 18 years and above", "Healthy adults under age 60",
    "Subjects over the age of 18", "Age:≥5 years old;", "Aged between ≥ 18 to ≤ 65 years",
    "Life expectancy of more than 3 months", "Life expectancy of 3 months or more.",
    "treated with rituximab (BVAS score of 0)",  # a bound of zero states one value
    "SLEDAI 2000 score ≥ 6",  # a version, not a number
    "Creatinine \\<1.5×ULN and endogenous creatinine clearance ≥60 mL/min.",  # markdown-escaped sign
    "Total bilirubin =< 1.5 X institutional upper limit of normal",  # '=<' is an honest ≤
    "which must be at a stable dose for \\>=14 days prior to Baseline",
    "Life expectancy =/> 3 months, as determined by the investigator",
    "receiving DHA-PPQ only (N=50)", "Woman CrCl = (140- age [years old]) x weight",
    "a decline in FVC of 10% within 6 months",  # a change, not a bound
    "Body mass index (BMI) 18.5 over to less than 30", "Subject has a BMI of 18 to 35 kg/m2",
    "Age range: 1870 years",  # a lost dash (page-encoding-loss), not a lost sign
    "Grade 2 or greater neuropathy", "weight ≥ 40 kg", "mRSS ≥ 12 points", "SELENA-SLEDAI score ≥ 6 points",
    "Hemoglobin ≥60 g/L (without red blood cell transfusion within 14 days);",
    "Comply with the 2019 EULAR/ACR SLE classification criteria;",
    "glycated hemoglobin (HbA 1 c)after at least 3 months of diet",
])
def test_honest_texts_are_not_reported(text: str, rules: ComparatorRules) -> None:
    assert found(text, rules) == []


def test_offsets_point_into_the_text(rules: ComparatorRules) -> None:
    text = "Nuclear antibody test positive, namely ANA titer 1:80; SLEDAI-2K score = 6 points"
    marks = find_damaged_comparators(text, rules)
    assert [(m.number, m.damage) for m in marks] == [("1:80", "missing"), ("6", "equals")]
    for mark in marks:
        assert text[mark.start:mark.end] == mark.phrase
        assert text[mark.number_start:].startswith(mark.number)


def test_measures_and_comparators_are_mapping_data(resources: Resources) -> None:
    data = resources.mapping("common/thresholds.yaml")
    kinds = {m["kind"] for m in data["measures"]}
    assert kinds == {"threshold", "ordinal"}
    extra = {**data, "measures": [*data["measures"], {"group": "test", "kind": "threshold", "terms": ["zorblax"]}]}
    assert found("zorblax 7 units", ComparatorRules.from_mapping(extra)) == [("zorblax 7", "missing")]
    assert found("zorblax 7 units", ComparatorRules.from_mapping(data)) == []
    assert normalise_term("SLEDAI-2K") == normalise_term("sledai 2k")


# --- a study: marks and problems -----------------------------------------------------------------------

def _study(provenance: dict[str, SourceLocation], file: str = "p.txt") -> Study:
    return Study(
        source=SourceInfo(file=file, format="registry-page", sha256="0" * 64),
        eligibility=Eligibility(criteria=[CriteriaSection(category="inclusion", items=[
            Criterion(text="Aged 18-65 years;"),
            Criterion(text="Lupus", heading=True, children=[Criterion(text="ANA titer 1:80 at screening;")]),
        ])]),
        provenance=provenance,
    )


def test_the_criterion_is_marked_and_reported_at_its_line(rules: ComparatorRules) -> None:
    study = _study({"/eligibility/criteria/0/items/1/children/0/text": SourceLocation(line=7)})
    marked = mark_damaged_comparators(study, rules)
    honest, cohort = marked.eligibility.criteria[0].items
    assert honest.damaged_comparators == [] and cohort.damaged_comparators == []
    (mark,) = cohort.children[0].damaged_comparators
    assert (mark.phrase, mark.start, mark.end, mark.number, mark.damage) == ("ANA titer 1:80", 0, 14, "1:80", "missing")
    (problem,) = [p for p in marked.problems if p.code == CODE]
    assert problem.severity.value == "warning"
    assert problem.location.line == 7 and problem.location.file == "p.txt"
    assert "'ANA titer 1:80'" in problem.message
    assert "/eligibility/criteria/0/items/1/children/0/text" in problem.message
    assert cohort.children[0].text == "ANA titer 1:80 at screening;", "the text is never repaired"


def test_a_record_criterion_is_reported_at_its_source_path(rules: ComparatorRules) -> None:
    pointer = "/protocolSection/eligibilityModule/eligibilityCriteria"
    marked = mark_damaged_comparators(_study({"/eligibility/criteria": SourceLocation(pointer=pointer)}), rules)
    (problem,) = marked.problems
    assert problem.location.path == pointer and problem.location.line is None


def test_a_study_with_nothing_damaged_is_returned_unchanged(rules: ComparatorRules) -> None:
    study = _study({}).model_copy(update={"eligibility": Eligibility(criteria=[
        CriteriaSection(category="inclusion", items=[Criterion(text="ANA titer ≥1:80")])])})
    assert mark_damaged_comparators(study, rules) is study


# --- every reader runs the detector --------------------------------------------------------------------

def test_seed_pages_are_marked_at_their_lines(resources: Resources) -> None:
    page = SEEDS / "004_0d37fe9dc878cb93.txt"
    study, _ = read_bytes(page.read_bytes(), resources, page.name)
    assert study is not None
    lines = page.read_text(encoding="utf-8").splitlines()
    damaged = [p for p in study.problems if p.code == CODE]
    titre = next(p for p in damaged if "'ANA titer 1:80'" in p.message)
    assert titre.location.line is not None and "ANA titer 1:80" in lines[titre.location.line - 1]
    marked = [m.phrase for s in study.eligibility.criteria for m in _marks(s.items)]
    assert {"ANA titer 1:80", "weight 40 kg", "mRSS 12 points"} <= set(marked)
    assert len(marked) == len(damaged)


def test_page_equals_signs_are_one_detector_s_not_the_encoding_check(resources: Resources) -> None:
    page = SEEDS / "000_c854247f1f7c700a.txt"
    study, _ = read_bytes(page.read_bytes(), resources, page.name)
    assert study is not None
    losses = " ".join(p.message for p in study.problems if p.code == "page-encoding-loss")
    assert "score = 6" not in losses, "folded into the comparator detector: reported once"
    damaged = [p.message for p in study.problems if p.code == CODE]
    assert any("'SELENA-SLEDAI score = 6 points'" in m for m in damaged)
    assert any("'=grade 2'" in m for m in damaged)


def test_ctgov_v2_records_are_marked_at_the_criteria_path(resources: Resources) -> None:
    record = json.loads((FIXTURES / "ctgov" / "v2" / "NCT00576225.json").read_text(encoding="utf-8"))
    module = record["protocolSection"]["eligibilityModule"]
    module["eligibilityCriteria"] = module["eligibilityCriteria"].replace(
        "Women with baseline estradiol \\>25 pg/mL", "Women with hemoglobin 9 g/dL")
    _, outcomes = read(document(json.dumps(record).encode(), "NCT00576225.json"), resources)
    (study,) = studies(outcomes)
    (problem,) = [p for p in study.problems if p.code == CODE]
    assert problem.location.path == "/protocolSection/eligibilityModule/eligibilityCriteria"
    assert problem.location.record == "NCT00576225" and "'hemoglobin 9 g/dL'" in problem.message
    assert [m.phrase for s in study.eligibility.criteria for m in _marks(s.items)] == ["hemoglobin 9 g/dL"]


def test_ctgov_xml_records_are_marked_at_the_textblock(resources: Resources) -> None:
    data = (FIXTURES / "ctgov" / "xml" / "NCT00001177.xml").read_bytes().replace(b"age 18 to 50;", b"age 18 years;")
    _, outcomes = read(document(data, "NCT00001177.xml"), resources)
    (study,) = studies(outcomes)
    (problem,) = [p for p in study.problems if p.code == CODE]
    assert problem.location.path == "/clinical_study/eligibility/criteria/textblock"
    assert "'age 18 years'" in problem.message


def _marks(items: list[Criterion]) -> list[DamagedComparator]:
    out: list[DamagedComparator] = []
    for item in items:
        out += item.damaged_comparators
        out += _marks(item.children)
    return out


# --- property: an explicit comparator before the number removes the finding ----------------------------

COMPARATORS = ["≥", "≤", ">", "<", "≥ ", "at least ", "no more than ", "greater than ", "more than ",
               "less than ", "up to ", "maximum ", "minimum ", "above ", "below ", "\\>", "<= "]
_DATA = Resources(root=ROOT).mapping("common/thresholds.yaml")
_TERMS = sorted({t for m in _DATA["measures"] for t in m["terms"]})
_TOKENS = [*_TERMS, *_DATA["gap_words"], *_DATA["units"], "=", "?", "\ufffd", ":", "(", ")", "(ECOG)", ",", ";",
           "-", "to", "or", "and", "of", "1:80", "0", "6", "12", "40", "1.5", "100,000", "2019", "years old"]


def _remove_at(text: str, rules: ComparatorRules) -> None:
    for mark in find_damaged_comparators(text, rules):
        for comparator in COMPARATORS:
            fixed = text[:mark.number_start] + comparator + text[mark.number_start:]
            shifted = mark.number_start + len(comparator)
            after = find_damaged_comparators(fixed, rules)
            assert all(m.number_start != shifted for m in after), (text, comparator, after)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_TOKENS), st.text("ab1 9.:=?-x", max_size=4)), max_size=12),
       st.lists(st.sampled_from(["", " ", "  "]), min_size=12, max_size=12))
def test_a_comparator_before_any_detected_number_removes_the_finding(tokens: list[str], spaces: list[str]) -> None:
    text = "".join(token + space for token, space in zip(tokens, spaces, strict=False))
    _remove_at(text, _RULES)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([t for m in _DATA["measures"] if m["kind"] == "threshold" for t in m["terms"]]),
       st.sampled_from(["", ":", " is", " of", " (X)", " score", " ="]),
       st.sampled_from(["7", "12.5", "1:160", "300"]), st.sampled_from(["", " mg/dL", "%", " points", " years"]),
       st.sampled_from(["", ".", "; and more text", " at screening"]))
def test_every_threshold_measure_without_a_comparator_is_found_and_a_comparator_removes_it(
        term: str, gap: str, number: str, unit: str, tail: str) -> None:
    text = f"Patients with {term}{gap} {number}{unit}{tail}"
    (mark,) = find_damaged_comparators(text, _RULES)
    assert mark.number == number and mark.damage == ("equals" if gap == " =" else "missing")
    _remove_at(text, _RULES)


_RULES = ComparatorRules.from_mapping(_DATA)
