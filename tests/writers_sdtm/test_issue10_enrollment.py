"""Issue 10 (correct outputs): TS PLANSUB / ACTSUB follow the one planned/actual rule the FHIR R5 writer follows
(mappings/common/enrollment.yaml), for every input alike."""

from __future__ import annotations

from typing import Any

import pytest

from converters.model import Design, Enrollment, Status, Study
from converters.resources import Resources
from converters.targets.fhir import FhirMaps, build_bundle
from converters.targets.sdtm.spec import SdtmSpec
from converters.targets.sdtm.ts import TsResult, build_ts

from .studies import bare_study


def _ts(study: Study, spec: SdtmSpec) -> TsResult:
    return build_ts(study, "STUDY1", spec, study.source.file)


def _one(result: TsResult, code: str) -> dict[str, Any]:
    (row,) = [r for r in result.rows if r["TSPARMCD"] == code]
    return row


def _counted(overall: str | None, count: int = 5, stated: str | None = None, last_known: str | None = None) -> Study:
    return bare_study().model_copy(update={"design": Design(enrollment=Enrollment(count=count, type=stated)),
                                           "status": Status(overall=overall, last_known=last_known)})


def test_a_page_stating_5_participants_on_a_recruiting_study_gets_plansub(spec: SdtmSpec) -> None:
    # seed 003: "Recruitment Status RECRUITING", "Total Enrollment 5 participants" (before: PLANSUB NI)
    result = _ts(_counted("RECRUITING"), spec)
    assert (_one(result, "PLANSUB")["TSVAL"], _one(result, "PLANSUB")["TSVALNF"]) == ("5", None)
    assert _one(result, "ACTSUB")["TSVALNF"] == "NAV"  # enrolment still open: the actual number is not yet known
    assert not [p for p in result.problems if p.code == "sdtm-write-enrollment-type-assumed"]


def test_an_untyped_count_of_a_finished_study_is_actsub(spec: SdtmSpec) -> None:
    result = _ts(_counted("COMPLETED", 42), spec)
    assert _one(result, "ACTSUB")["TSVAL"] == "42" and _one(result, "PLANSUB")["TSVALNF"] == "NI"


def test_no_status_reads_the_count_as_planned_and_says_so(spec: SdtmSpec) -> None:
    # seed 002: "18 participants in 1 patient group" and no status (before: PLANSUB NI)
    result = _ts(_counted(None, 18), spec)
    assert _one(result, "PLANSUB")["TSVAL"] == "18" and _one(result, "ACTSUB")["TSVALNF"] == "NI"
    (problem,) = [p for p in result.problems if p.code == "sdtm-write-enrollment-type-assumed"]
    assert "18" in problem.message and "PLANSUB" in problem.message
    assert problem.location is not None and problem.location.path == "/design/enrollment/count"


@pytest.mark.parametrize(("overall", "last_known", "stated"), [
    ("NOT_YET_RECRUITING", None, None), ("RECRUITING", None, None), ("ENROLLING_BY_INVITATION", None, None),
    ("SUSPENDED", None, None), ("WITHDRAWN", None, None), ("ACTIVE_NOT_RECRUITING", None, None),
    ("COMPLETED", None, None), ("TERMINATED", None, None), ("UNKNOWN", "ACTIVE_NOT_RECRUITING", None),
    ("UNKNOWN", None, None), ("AVAILABLE", None, None), (None, None, None),
    ("RECRUITING", None, "ACTUAL"), ("COMPLETED", None, "ESTIMATED"),
])
def test_sdtm_and_fhir_r5_place_the_count_alike(spec: SdtmSpec, resources: Resources, overall: str | None,
                                                last_known: str | None, stated: str | None) -> None:
    study = _counted(overall, 11, stated, last_known)
    result = _ts(study, spec)
    bundle = build_bundle(study, FhirMaps.load(resources, "R5"), resources).bundle
    recruitment = bundle["entry"][0]["resource"]["recruitment"]
    sdtm = {"targetNumber" if code == "PLANSUB" else "actualNumber": int(row["TSVAL"])
            for code in ("PLANSUB", "ACTSUB") if (row := _one(result, code))["TSVAL"] is not None}
    assert sdtm == recruitment == ({"targetNumber": 11} if "targetNumber" in recruitment else {"actualNumber": 11})
