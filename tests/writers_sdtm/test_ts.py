"""Trial Summary: what each parameter takes from the study, and the null flavour when the source is silent."""

from __future__ import annotations

from typing import Any

import pytest

from converters.model import Age, Arm, Design, Eligibility, Intervention, Masking, RelatedStudy, Status, Study
from converters.targets.sdtm.spec import SdtmSpec
from converters.targets.sdtm.ts import TsResult, build_ts, iso_duration

from .studies import LONG_TITLE, bare_study, observational_study, randomized_study, seed_001_study

REQUIRED_ALWAYS = {
    "ADDON", "AGEMAX", "AGEMIN", "LENGTH", "PLANSUB", "RANDOM", "SEXPOP", "STOPRULE", "TBLIND", "TCNTRL", "TITLE",
    "TPHASE", "TTYPE", "OBJPRIM", "SPONSOR", "REGID", "OUTMSPRI", "FCNTRY", "ADAPT", "DCUTDTC", "DCUTDESC", "NARMS",
    "STYPE", "SSTDTC", "SENDTC", "ACTSUB", "HLTSUBJI",  # SDTMIG v3.4 Appendix C1 (CG0287)
    "COMPTRT", "EXTTIND", "INDIC", "NCOHORT", "OBJSEC", "ONGOSIND", "PDPSTIND", "PDSTIND", "PIPIND", "RANDQT",
    "RDIND", "SDTIGVER", "SDTMVER", "THERAREA",  # FDA TCG Appendix B (FB1102)
}


def ts(study: Study, spec: SdtmSpec) -> TsResult:
    return build_ts(study, "STUDY1", spec, study.source.file)


def rows(result: TsResult, code: str) -> list[dict[str, Any]]:
    return [r for r in result.rows if r["TSPARMCD"] == code]


def one(result: TsResult, code: str) -> dict[str, Any]:
    found = rows(result, code)
    assert len(found) == 1, (code, found)
    return found[0]


def test_a_silent_source_gets_null_flavours_never_values(spec: SdtmSpec) -> None:
    result = ts(bare_study(), spec)
    codes = {r["TSPARMCD"] for r in result.rows}
    assert codes >= REQUIRED_ALWAYS
    for row in result.rows:
        if row["TSPARMCD"] in ("SDTIGVER", "SDTMVER"):
            continue  # the versions of the standard the writer follows: known without the source
        assert row["TSVAL"] is None and row["TSVALNF"] == "NI", row
        assert row["TSVALCD"] is None and row["TSVCDREF"] is None
    assert one(result, "SDTIGVER")["TSVAL"] == "3.4" and one(result, "SDTMVER")["TSVAL"] == "2.0"
    assert [p.code for p in result.problems] == ["sdtm-write-ts-null-flavors"]


def test_exactly_one_of_tsval_and_tsvalnf(spec: SdtmSpec) -> None:
    for study in (seed_001_study(), randomized_study(), observational_study(), bare_study()):
        for row in ts(study, spec).rows:
            assert (row["TSVAL"] is None) != (row["TSVALNF"] is None), row


def test_tsseq_numbers_each_parameters_records(spec: SdtmSpec) -> None:
    result = ts(randomized_study(), spec)
    seen: dict[str, list[int]] = {}
    for row in result.rows:
        seen.setdefault(str(row["TSPARMCD"]), []).append(int(str(row["TSSEQ"])))
    assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in seen.values())
    assert seen["REGID"] == [1, 2] and seen["FCNTRY"] == [1, 2]


def test_coded_values_carry_code_reference_and_ct_version(spec: SdtmSpec) -> None:
    result = ts(randomized_study(), spec)
    phase = one(result, "TPHASE")
    assert (phase["TSVAL"], phase["TSVALCD"], phase["TSVCDREF"], phase["TSVCDVER"]) == (
        "PHASE II/III TRIAL", "C15694", "CDISC CT", "2025-03-28")
    assert (one(result, "RANDOM")["TSVAL"], one(result, "RANDOM")["TSVALCD"]) == ("Y", "C49488")
    assert (one(result, "SEXPOP")["TSVAL"], one(result, "SEXPOP")["TSVALCD"]) == ("F", "C16576")
    assert one(result, "TCNTRL")["TSVAL"] == "PLACEBO"
    assert one(result, "INTMODEL")["TSVAL"] == "PARALLEL"


def test_terms_ct_lacks_are_extensions_without_a_code(spec: SdtmSpec) -> None:
    quadruple = one(ts(randomized_study(), spec), "TBLIND")
    assert quadruple["TSVAL"] == "QUADRUPLE BLIND"
    assert quadruple["TSVALCD"] is None and quadruple["TSVCDREF"] is None
    sequential = randomized_study().model_copy(update={"design": Design(
        study_type="INTERVENTIONAL", intervention_model="SEQUENTIAL")})
    assert one(ts(sequential, spec), "INTMODEL")["TSVAL"] == "SEQUENTIAL ASSIGNMENT"


def test_values_outside_the_codelist_are_oth(spec: SdtmSpec) -> None:
    result = ts(randomized_study(), spec)
    assert one(result, "TINDTP")["TSVALNF"] == "OTH"  # primary purpose OTHER
    odd = randomized_study().model_copy(update={"design": Design(
        study_type="INTERVENTIONAL", masking=Masking(masking="SEXTUPLE"))})
    result = ts(odd, spec)
    assert one(result, "TBLIND")["TSVALNF"] == "OTH"
    assert "sdtm-write-value-unmapped" in [p.code for p in result.problems]


def test_not_applicable_by_design(spec: SdtmSpec) -> None:
    result = ts(observational_study(), spec)
    for code in ("TPHASE", "TBLIND", "TCNTRL", "RANDOM", "RANDQT", "NARMS", "COMPTRT"):
        assert one(result, code)["TSVALNF"] == "NA", code
    single_arm = ts(seed_001_study(), spec)
    assert one(single_arm, "RANDOM")["TSVALNF"] == "NA"  # allocation N/A
    assert one(single_arm, "RANDQT")["TSVALNF"] == "NA"


def test_observational_parameters(spec: SdtmSpec) -> None:
    result = ts(observational_study(), spec)
    assert one(result, "STYPE")["TSVAL"] == "OBSERVATIONAL"
    assert one(result, "OBSMODEL")["TSVAL"] == "COHORT"
    assert one(result, "OBSTIMP")["TSVAL"] == "PROSPECTIVE"
    assert one(result, "OBSTSMM")["TSVAL"] == "NON-PROBABILITY SAMPLE"
    assert one(result, "NCOHORT")["TSVALNF"] == "NI"
    assert one(result, "TRGFUDUR")["TSVAL"] == "P2Y"
    assert (one(result, "BRIND")["TSVAL"], one(result, "BRDNAIND")["TSVAL"]) == ("Y", "Y")
    assert [r["TSVAL"] for r in rows(result, "KEYWORD")] == ["lupus", "registry"]
    assert one(result, "PUBMEDID")["TSVAL"] == "12345678"
    assert not rows(result, "TDIGRP"), "healthy volunteers: no diagnosis group is required or written"
    registry = observational_study().model_copy(update={"design": Design(
        study_type="OBSERVATIONAL", patient_registry=True)})
    assert one(ts(registry, spec), "STYPE")["TSVAL"] == "PATIENT REGISTRY"


def test_ages_are_iso_8601_durations(spec: SdtmSpec) -> None:
    assert iso_duration(Age(value=18, unit="YEARS", text="18 Years")) == "P18Y"
    assert iso_duration(Age(value=6, unit="MONTHS", text="6 Months")) == "P6M"
    assert iso_duration(Age(value=2.5, unit="YEARS", text="2.5 Years")) == "P2.5Y"
    assert iso_duration(Age(value=12, unit="HOURS", text="12 Hours")) == "PT12H"
    result = ts(seed_001_study(), spec)
    agemin = one(result, "AGEMIN")
    assert (agemin["TSVAL"], agemin["TSVCDREF"], agemin["TSVALCD"]) == ("P18Y", "ISO 8601", None)
    assert one(result, "AGEMAX")["TSVAL"] == "P65Y"


def test_unbounded_maximum_age_only_where_the_source_format_says_so(spec: SdtmSpec) -> None:
    ctgov = ts(observational_study(), spec)  # ct.gov record without a maximum age: "N/A (No limit)"
    assert one(ctgov, "AGEMAX")["TSVALNF"] == "PINF"
    page = seed_001_study()
    page = page.model_copy(update={"eligibility": page.eligibility.model_copy(update={"maximum_age": None})})
    assert one(ts(page, spec), "AGEMAX")["TSVALNF"] == "NI"  # a page that does not say is not "no limit"


def test_pediatric_indicator_from_the_stated_age_limits(spec: SdtmSpec) -> None:
    assert one(ts(observational_study(), spec), "PDSTIND")["TSVAL"] == "Y"  # from 6 months
    assert one(ts(seed_001_study(), spec), "PDSTIND")["TSVAL"] == "N"  # from 18 years
    assert one(ts(bare_study(), spec), "PDSTIND")["TSVALNF"] == "NI"


def test_dates_only_when_actual(spec: SdtmSpec) -> None:
    done = ts(randomized_study(), spec)
    assert (one(done, "SSTDTC")["TSVAL"], one(done, "SSTDTC")["TSVCDREF"]) == ("2020-03-02", "ISO 8601")
    assert one(done, "SENDTC")["TSVAL"] == "2023-11"  # partial date kept at its precision
    assert one(done, "ACTSUB")["TSVAL"] == "412" and one(done, "PLANSUB")["TSVALNF"] == "NI"
    planned = ts(seed_001_study(), spec)  # not yet recruiting: the stated dates can only be anticipated
    assert one(planned, "SSTDTC")["TSVALNF"] == "NAV" and one(planned, "SENDTC")["TSVALNF"] == "NAV"
    assert one(planned, "ACTSUB")["TSVALNF"] == "NAV" and one(planned, "PLANSUB")["TSVAL"] == "9"
    recruiting = seed_001_study().model_copy(update={"status": Status(overall="RECRUITING")})
    # issue 10: a count of unstated type on a recruiting study is the plan (mappings/common/enrollment.yaml)
    assert one(ts(recruiting, spec), "PLANSUB")["TSVAL"] == "9"


def test_registry_ids_and_sponsor_id(spec: SdtmSpec) -> None:
    study = randomized_study()
    study = study.model_copy(update={"related_studies": [RelatedStudy(identifier="NCT09999999",
                                                                      relation="related")]})
    result = ts(study, spec)
    regid = rows(result, "REGID")
    assert [(r["TSVAL"], r["TSVALCD"], r["TSVCDREF"]) for r in regid] == [
        ("NCT01234567", "NCT01234567", "ClinicalTrials.gov"), ("2019-001234-11", "2019-001234-11", "EudraCT")]
    assert one(result, "SPREFID")["TSVAL"] == "XYZ-301"
    assert all("NCT09999999" not in str(r["TSVAL"]) for r in result.rows)


def test_treatments_follow_the_arm_types(spec: SdtmSpec) -> None:
    result = ts(randomized_study(), spec)
    assert one(result, "TRT")["TSVAL"] == "Drug X"
    assert one(result, "COMPTRT")["TSVAL"] == "Placebo"
    assert one(result, "INTTYPE")["TSVAL"] == "DRUG"
    untyped = ts(seed_001_study(), spec)  # the page gives no arm type
    assert one(untyped, "TRT")["TSVAL"] == "anti-CD19-CAR-T cells"
    assert one(untyped, "COMPTRT")["TSVALNF"] == "NI" and one(untyped, "TCNTRL")["TSVALNF"] == "NI"
    typed = seed_001_study().model_copy(update={"arms": [Arm(label="Treatment group", type="EXPERIMENTAL")]})
    typed_ts = ts(typed, spec)
    assert one(typed_ts, "COMPTRT")["TSVALNF"] == "NA" and one(typed_ts, "TCNTRL")["TSVAL"] == "NONE"


def test_indication_and_diagnosis_group(spec: SdtmSpec) -> None:
    result = ts(randomized_study(), spec)  # healthy volunteers not accepted
    assert one(result, "INDIC")["TSVAL"] == "Systemic Lupus Erythematosus"
    assert one(result, "TDIGRP")["TSVAL"] == "Systemic Lupus Erythematosus"
    assert one(result, "INDIC")["TSVCDREF"] is None, "no SNOMED code is invented"


def test_long_values_continue_in_tsval1(spec: SdtmSpec) -> None:
    title = one(ts(randomized_study(), spec), "TITLE")
    assert len(LONG_TITLE) > 200
    assert len(title["TSVAL"]) <= 200 and "TSVAL1" in title and "TSVAL2" not in title
    assert title["TSVAL"] + title["TSVAL1"] == LONG_TITLE
    assert title["TSVAL1"].startswith(" "), "cut before a space, never inside a word"


def test_countries_as_iso_3166_alpha_3(spec: SdtmSpec) -> None:
    result = ts(observational_study(), spec)
    fcntry = rows(result, "FCNTRY")
    assert [(r["TSVAL"], r["TSVALCD"], r["TSVCDREF"]) for r in fcntry] == [
        ("USA", "USA", "ISO 3166"), ("KOR", "KOR", "ISO 3166")]
    unknown = [p for p in result.problems if p.code == "sdtm-write-country-unknown"]
    assert len(unknown) == 1 and "Atlantis" in unknown[0].message
    assert unknown[0].location.path == "/countries/2"


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("healthy_volunteers", True, "Y"), ("healthy_volunteers", False, "N"), ("sex", "MALE", "M")])
def test_eligibility_facts(spec: SdtmSpec, field: str, value: object, expected: str) -> None:
    study = bare_study().model_copy(update={"eligibility": Eligibility(**{field: value})})
    code = "HLTSUBJI" if field == "healthy_volunteers" else "SEXPOP"
    assert one(ts(study, spec), code)["TSVAL"] == expected


def test_interventional_only_parameters(spec: SdtmSpec) -> None:
    observational = ts(observational_study(), spec)
    assert not rows(observational, "INTMODEL") and not rows(observational, "TRT")
    interventional = bare_study().model_copy(update={
        "design": Design(study_type="INTERVENTIONAL"), "interventions": [Intervention(name="Drug Y")]})
    result = ts(interventional, spec)
    assert one(result, "INTMODEL")["TSVALNF"] == "NI" and one(result, "TRT")["TSVAL"] == "Drug Y"
