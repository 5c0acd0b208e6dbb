"""TA, TE and TV from the one derived schedule, only as far as the source states it."""

from __future__ import annotations

from converters.model import Arm, Study
from converters.model.schedule import Epoch, Schedule, ScheduleStep, Visit, derive_schedule
from converters.resources import Resources
from converters.targets.sdtm.design import arm_codes, build_design
from converters.targets.sdtm.spec import SdtmSpec

from .studies import bare_study, randomized_study, seed_001_study

SCREENING = Epoch("SCREENING", "C202487", "Screening Epoch")
TREATMENT = Epoch("TREATMENT", "C101526", "Treatment Epoch")
FOLLOW_UP = Epoch("FOLLOW-UP", "C202578", "Follow-Up Epoch")
STEPS = (  # each step carries its epoch, as derive_schedule gives it (common/schedule.yaml `epochs`)
    ScheduleStep(key="SCRN", kind="screening", title="Screening", epoch=SCREENING),
    ScheduleStep(key="LD", kind="pretreatment", title="Lymphodepletion (fludarabine, cyclophosphamide)",
                 epoch=TREATMENT),
    ScheduleStep(key="INF1", kind="treatment", title="Infusion of CAR-T A", arm_labels=("Cohort A",), epoch=TREATMENT),
    ScheduleStep(key="INF2", kind="treatment", title="Infusion of CAR-T B", arm_labels=("cohort b",),
                 timing="within 14 days after apheresis", epoch=TREATMENT),
    ScheduleStep(key="FU", kind="follow-up", title="Follow-up assessments", epoch=FOLLOW_UP),
)
VISITS = (
    Visit(key="BL", label="Baseline", timing="baseline"),
    Visit(key="M3", label="Month 3", timing="month 3", amount=3, unit="mo", anchor="INF1"),
)


def study_with_cohorts() -> Study:
    return seed_001_study().model_copy(update={"arms": [Arm(label="Cohort A", type="EXPERIMENTAL"),
                                                        Arm(label="Cohort B", type="EXPERIMENTAL")]})


def test_each_arm_runs_through_its_steps_in_schedule_order(spec: SdtmSpec) -> None:
    result = build_design(study_with_cohorts(), Schedule(steps=STEPS, visits=VISITS), "S1", spec, "f")
    paths: dict[object, list[tuple[object, object, object]]] = {}
    for row in result.ta:
        paths.setdefault(row["ARMCD"], []).append((row["TAETORD"], row["ETCD"], row["EPOCH"]))
    assert paths == {
        "COHORT_A": [(1, "SCRN", "SCREENING"), (2, "LD", "TREATMENT"), (3, "INF1", "TREATMENT"),
                     (4, "FU", "FOLLOW-UP")],
        "COHORT_B": [(1, "SCRN", "SCREENING"), (2, "LD", "TREATMENT"), (3, "INF2", "TREATMENT"),
                     (4, "FU", "FOLLOW-UP")],
    }
    assert all(r["TABRANCH"] is None and r["TATRANS"] is None for r in result.ta), "no branch is invented"
    assert {r["ARM"] for r in result.ta} == {"Cohort A", "Cohort B"}


def test_one_element_per_step_with_model_implied_rules(spec: SdtmSpec) -> None:
    result = build_design(study_with_cohorts(), Schedule(steps=STEPS), "S1", spec, "f")
    te = {r["ETCD"]: r for r in result.te}
    assert list(te) == ["SCRN", "LD", "INF1", "INF2", "FU"]
    assert te["LD"]["ELEMENT"] == "Lymphodepletion (fludarabine, cyclophosphamide)"
    assert te["SCRN"]["TESTRL"] == "Start of Screening"
    assert te["INF2"]["TESTRL"] == "Start of Infusion of CAR-T B (within 14 days after apheresis)"
    assert te["SCRN"]["TEENRL"] == "Start of the next Element"
    assert te["FU"]["TEENRL"] == "End of the subject's participation in the study"
    assert all(r["TEDUR"] is None for r in result.te), "no duration the source does not state"


def test_visits_for_all_arms_with_the_stated_timing(spec: SdtmSpec) -> None:
    result = build_design(study_with_cohorts(), Schedule(steps=STEPS, visits=VISITS), "S1", spec, "f")
    assert [(r["VISITNUM"], r["VISIT"], r["TVSTRL"], r["ARMCD"]) for r in result.tv] == [
        (1, "Baseline", "baseline", None), (2, "Month 3", "month 3 after Infusion of CAR-T A", None)]
    assert all(r["VISITDY"] is None for r in result.tv), "no study day is computed from a month"


def test_no_arms_no_ta_but_elements_and_a_note(spec: SdtmSpec) -> None:
    result = build_design(bare_study(), Schedule(steps=STEPS), "S1", spec, "f")
    assert result.ta == [] and len(result.te) == 5
    assert [p.code for p in result.problems] == ["sdtm-write-design-incomplete"]


def test_nothing_stated_nothing_written(spec: SdtmSpec, resources: Resources) -> None:
    study = bare_study()
    result = build_design(study, derive_schedule(study, resources), "S1", spec, "f")
    assert (result.ta, result.te, result.tv) == ([], [], [])


def test_the_same_schedule_as_the_fhir_plan_definition(spec: SdtmSpec, resources: Resources) -> None:
    """TE is the derived schedule's steps, one to one, in order: the PlanDefinition's actions come from it too."""
    study = seed_001_study()
    schedule = derive_schedule(study, resources)
    result = build_design(study, schedule, "S1", spec, "f")
    assert [r["ETCD"] for r in result.te] == [s.key for s in schedule.steps]
    assert [r["ELEMENT"] for r in result.te] == [s.title for s in schedule.steps]
    assert [r["VISIT"] for r in result.tv] == [v.label for v in schedule.visits]
    assert [r["ETCD"] for r in result.ta] == [s.key for s in schedule.steps]


def test_arm_codes_are_short_unique_and_stable(spec: SdtmSpec) -> None:
    labels = ["Drug X 10 mg", "Drug X 10 mg!", "Cohort: relapsed/refractory systemic lupus erythematosus",
              "狼疮队列"]
    max_length = spec.max_length("TA", "ARMCD")
    codes = arm_codes(labels, max_length)
    assert codes == ["DRUG_X_10_MG", "DRUG_X_10_MG_2", "COHORT_RELAPSED_REFR", "ARM4"]
    assert all(len(c) <= 20 for c in codes) and arm_codes(labels, max_length) == codes


def test_randomized_arms_get_their_own_treatment(spec: SdtmSpec, resources: Resources) -> None:
    study = randomized_study()
    result = build_design(study, derive_schedule(study, resources), "S1", spec, "f")
    by_arm: dict[str, list[str]] = {}
    for row in result.ta:
        by_arm.setdefault(str(row["ARMCD"]), []).append(str(row["ELEMENT"]))
    assert by_arm["PLACEBO"][0] == "Placebo" and by_arm["DRUG_X_10_MG"][0] == "Drug X"
