"""Trial Inclusion/Exclusion Criteria: one record per criterion, stable short codes, cohorts kept in IESCAT."""

from __future__ import annotations

import re

from converters.model import CriteriaSection, Criterion, Eligibility, Study
from converters.targets.sdtm.spec import SdtmSpec
from converters.targets.sdtm.ti import TiResult, build_ti

from .studies import LAB_ITEMS, LAB_LEAD_IN, LONG_CRITERION, bare_study, randomized_study, seed_001_study

CODE = re.compile(r"^[A-Z_][A-Z0-9_]{0,7}$")  # CG0372 / CORE-000541


def ti(study: Study, spec: SdtmSpec) -> TiResult:
    return build_ti(study, "STUDY1", spec, study.source.file)


def with_criteria(*sections: CriteriaSection) -> Study:
    return bare_study().model_copy(update={"eligibility": Eligibility(criteria=list(sections))})


def test_one_record_per_criterion_in_source_order(spec: SdtmSpec) -> None:
    result = ti(seed_001_study(), spec)
    assert [(r["IETESTCD"], r["IECAT"]) for r in result.rows] == [
        ("INCL01", "INCLUSION"), ("INCL02", "INCLUSION"), ("INCL03", "INCLUSION"), ("INCL04", "INCLUSION"),
        ("INCL04A", "INCLUSION"), ("INCL04B", "INCLUSION"), ("INCL04C", "INCLUSION"), ("INCL05", "INCLUSION"),
        ("INCL06", "INCLUSION"), ("EXCL01", "EXCLUSION"), ("EXCL01A", "EXCLUSION"), ("EXCL01B", "EXCLUSION"),
        ("EXCL02", "EXCLUSION"), ("EXCL03", "EXCLUSION"), ("EXCL04", "EXCLUSION")]
    assert [r["IETEST"] for r in result.rows[4:7]] == LAB_ITEMS


def test_cohort_headings_are_subcategories_not_criteria(spec: SdtmSpec) -> None:
    result = ti(seed_001_study(), spec)
    by_code = {r["IETESTCD"]: r for r in result.rows}
    for code in ("EXCL02", "EXCL03", "EXCL04"):
        assert by_code[code]["IESCAT"] == "Relapsed Refractory/Progressive Inflammatory Myopathy"
    assert by_code["INCL01"]["IESCAT"] is None and by_code["EXCL01A"]["IESCAT"] is None
    assert all("Myopathy" not in str(r["IETEST"]) for r in result.rows)


def test_nested_headings_are_joined(spec: SdtmSpec) -> None:
    study = with_criteria(CriteriaSection(category="exclusion", items=[
        Criterion(text="Part A", heading=True, children=[
            Criterion(text="Cohort 2", heading=True, children=[Criterion(text="Prior CAR-T therapy")])])]))
    assert ti(study, spec).rows[0]["IESCAT"] == "Part A / Cohort 2"


def test_long_criterion_is_shortened_and_kept_in_full(spec: SdtmSpec) -> None:
    result = ti(seed_001_study(), spec)
    test = str(next(r for r in result.rows if r["IETESTCD"] == "INCL06")["IETEST"])
    assert len(LONG_CRITERION) > 200 and len(LAB_LEAD_IN) > 200
    assert len(test) <= 200 and test.endswith(" [...]")
    assert LONG_CRITERION.startswith(test.removesuffix(" [...]"))
    assert result.full_texts == {"INCL04": LAB_LEAD_IN, "INCL06": LONG_CRITERION}
    assert [p.code for p in result.problems] == ["sdtm-write-text-shortened"] * 2


def test_criteria_of_no_category_are_reported_not_guessed(spec: SdtmSpec) -> None:
    result = ti(randomized_study(), spec)
    assert "Able to swallow tablets" not in [r["IETEST"] for r in result.rows]
    assert [p.code for p in result.problems] == ["sdtm-write-ti-category-unknown"]


def test_codes_stay_valid_and_unique_for_big_lists(spec: SdtmSpec) -> None:
    many = [Criterion(text=f"Criterion {i}") for i in range(120)]
    wide = Criterion(text="Lead-in", children=[Criterion(text=f"Item {i}") for i in range(30)])
    deep = Criterion(text="Deep", children=[Criterion(text="Level 1", children=[
        Criterion(text="Level 2", children=[Criterion(text="Level 3")])])])
    study = with_criteria(CriteriaSection(category="inclusion", items=[*many, wide, deep]),
                          CriteriaSection(category="exclusion", items=[Criterion(text="One")]))
    codes = [r["IETESTCD"] for r in ti(study, spec).rows]
    assert len(codes) == len(set(codes)) == 120 + 31 + 4 + 1
    assert all(CODE.match(str(c)) for c in codes)
    assert codes[0] == "INCL001" and codes[119] == "INCL120" and codes[121] == "INCL121A"
    assert codes[-1] == "EXCL01"


def test_same_criteria_same_codes(spec: SdtmSpec) -> None:
    assert ti(seed_001_study(), spec).rows == ti(seed_001_study(), spec).rows


def test_one_to_one_code_and_text_when_the_texts_differ(spec: SdtmSpec) -> None:
    rows = ti(seed_001_study(), spec).rows
    assert len({r["IETESTCD"] for r in rows}) == len({r["IETEST"] for r in rows}) == len(rows)
