"""Issue 10 item 6: schedule steps come only from what the study says it does, and TA and the PlanDefinition put
every step in the same CDISC epoch.

A step comes from the descriptions, arms, interventions or outcome time frames, never from an eligibility
criterion (a window such as "within 7 days prior to leukapheresis" says who may take part, not what the study
does). Time frames that count from an infusion ("after TCR-T cell infusion") state that infusion.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from converters.model import (
    Arm,
    CriteriaSection,
    Criterion,
    Eligibility,
    Intervention,
    Outcome,
    OutcomeKind,
    Study,
    resolve_pointer,
    study_to_dict,
)
from converters.model.schedule import Schedule, derive_schedule
from converters.resources import Resources
from converters.targets.fhir import BuiltBundle
from converters.targets.sdtm.design import build_design
from converters.targets.sdtm.spec import SdtmSpec, load_spec

from .fixture_studies import all_studies, seed_studies
from .helpers import resources_of
from .studies import bare_study

Build = Callable[..., BuiltBundle]


@pytest.fixture(scope="module")
def spec(resources: Resources) -> SdtmSpec:
    return load_spec(resources)


def _study(*, exclusions: tuple[str, ...] = (), inclusions: tuple[str, ...] = (), description: str | None = None,
           frames: tuple[str, ...] = (), interventions: tuple[Intervention, ...] = ()) -> Study:
    return bare_study().model_copy(update={
        "detailed_description": description,
        "arms": [Arm(label="Treatment group", type="EXPERIMENTAL")],
        "interventions": list(interventions),
        "outcomes": [Outcome(kind=OutcomeKind.SECONDARY, measure=f"Measure {i + 1}", time_frame=f)
                     for i, f in enumerate(frames)],
        "eligibility": Eligibility(criteria=[
            CriteriaSection(category="inclusion", items=[Criterion(text=t) for t in inclusions]),
            CriteriaSection(category="exclusion", items=[Criterion(text=t) for t in exclusions])]),
    })


def _keys(schedule: Schedule) -> list[str]:
    return [s.key for s in schedule.steps]


def _plan(build: Build, study: Study, version: str = "R4") -> dict[str, Any] | None:
    plans = resources_of(build(study, version).bundle, "PlanDefinition")
    return plans[0] if plans else None


# --- eligibility criteria are no source of steps ------------------------------------------------------


def test_an_exclusion_window_before_leukapheresis_is_no_leukapheresis_step(
        resources: Resources, build: Build, spec: SdtmSpec) -> None:
    # seed 000, exclusion 23: the only mention of leukapheresis on the page
    study = _study(
        exclusions=("Have received therapeutic dose of corticosteroids within 7 days prior to leukapheresis or "
                    "within 72 hours prior to infusion;", "Long-acting growth factors within 14 days before "
                    "apheresis (such as pegfilgrastim);"),
        interventions=(Intervention(name="CAR-T cells", description="A single infusion of CAR-T cells."),))
    schedule = derive_schedule(study, resources)
    assert schedule.step("APH") is None
    assert _keys(schedule) == ["INF"]
    plan = _plan(build, study)
    assert plan is not None and [a["id"] for a in plan["action"]] == ["INF"]
    design = build_design(study, schedule, "S1", spec, "f")
    assert [r["ETCD"] for r in design.te] == ["INF"]


def test_no_screening_step_from_criteria(resources: Resources, build: Build) -> None:
    study = _study(inclusions=("Refractory SLE needs to meet the following criteria at screening: SLEDAI >= 6;",
                               "Diagnosed at least 24 weeks prior to screening;"),
                   exclusions=("Active or latent tuberculosis at screening;",
                               "Use of other investigational products within 30 days before screening;"),
                   frames=("Week 12",))
    schedule = derive_schedule(study, resources)
    assert schedule.step("SCRN") is None and _keys(schedule) == ["FU"]
    plan = _plan(build, study)
    assert plan is not None and "SCRN" not in [a["id"] for a in plan["action"]]


@pytest.mark.parametrize(("where", "pointer"), [
    ({"description": "Subjects are evaluated during a screening period of no more than 21 days."},
     "/detailed_description"),
    ({"frames": ("From screening to week 12",)}, "/outcomes/0/time_frame"),
])
def test_screening_where_the_study_states_it(resources: Resources, where: dict[str, Any], pointer: str) -> None:
    schedule = derive_schedule(_study(exclusions=("Active tuberculosis at screening;",), **where), resources)
    scrn = schedule.step("SCRN")
    assert scrn is not None and scrn.sources == (pointer,)  # the criterion is not among its sources
    assert scrn.description is None  # a time frame never describes a step


def test_no_step_of_any_fixture_study_is_sourced_from_eligibility(resources: Resources) -> None:
    checked = 0
    for label, study in all_studies(resources):
        for step in derive_schedule(study, resources).steps:
            assert not any(p.startswith("/eligibility") for p in step.sources), (label, step.key, step.sources)
            checked += 1
    assert checked > 100


# --- outcome time frames that count from an infusion state it ------------------------------------------


@pytest.mark.parametrize(("frame", "title"), [
    ("Within 1 years after TCR-T cell infusion(month 1, month 3, month 6)", "TCR-T cell infusion"),
    ("Day 28 following CAR-T infusion", "CAR-T infusion"),
    ("30 minutes post-infusion", "Infusion"),
    ("Month 3 after the infusion of CAR-T cells", "Infusion of CAR-T cells"),
])
def test_time_frames_after_an_infusion_give_an_infusion_step(resources: Resources, frame: str, title: str) -> None:
    study = _study(frames=(frame, "Baseline", frame))  # no intervention is listed (seed 000)
    schedule = derive_schedule(study, resources)
    assert _keys(schedule) == ["INF", "FU"]
    inf = schedule.step("INF")
    assert inf is not None and inf.kind == "treatment" and inf.title == title
    assert inf.sources == ("/outcomes/0/time_frame", "/outcomes/2/time_frame")  # traced to the frames that say it
    document = study_to_dict(study)
    assert all(frame in str(resolve_pointer(document, p)) for p in inf.sources)


def test_visits_after_the_stated_infusion_count_from_it(resources: Resources, build: Build, spec: SdtmSpec) -> None:
    study = _study(frames=("Within 1 years after TCR-T cell infusion(month 1, month 3)",))
    schedule = derive_schedule(study, resources)
    assert [(v.key, v.anchor) for v in schedule.visits] == [("M1", "INF"), ("M3", "INF")]
    tv = build_design(study, schedule, "S1", spec, "f").tv
    assert [r["TVSTRL"] for r in tv] == ["month 1 after TCR-T cell infusion", "month 3 after TCR-T cell infusion"]
    plan = _plan(build, study, "R5")
    assert plan is not None
    visits = plan["action"][1]["action"]
    assert visits[0]["relatedAction"][0]["targetId"] == "INF"


def test_an_infusion_time_frame_names_its_intervention(resources: Resources) -> None:
    study = _study(frames=("Day 1, 30 minutes after SGN-LIV1A infusion",),
                   interventions=(Intervention(name="Capecitabine", description="Tablets twice daily."),
                                  Intervention(name="SGN-LIV1A", description="Given on day 1 of each cycle.")))
    schedule = derive_schedule(study, resources)
    assert [(s.key, s.title) for s in schedule.steps] == [
        ("TRT", "Capecitabine"), ("INF", "Infusion of SGN-LIV1A"), ("FU", "Follow-up assessments")]
    inf = schedule.step("INF")
    assert inf is not None and "/outcomes/0/time_frame" in inf.sources


def test_the_infusion_time_frames_join_the_one_infusion_step(resources: Resources) -> None:
    study = _study(frames=("day 15 post intravenous CAR T cell infusion",),
                   interventions=(Intervention(name="chimeric antigen receptor T cell",
                                               description="Single intravenous infusion."),))
    schedule = derive_schedule(study, resources)
    assert _keys(schedule) == ["INF", "FU"]
    inf = schedule.step("INF")
    assert inf is not None and inf.sources[-1] == "/outcomes/0/time_frame"


def test_an_infusion_that_is_no_single_step_is_reported_not_guessed(resources: Resources) -> None:
    study = _study(frames=("30 minutes post-infusion",),
                   interventions=(Intervention(name="Drug A"), Intervention(name="Drug B")))
    schedule = derive_schedule(study, resources)
    assert [(s.key, s.title) for s in schedule.steps] == [
        ("TRT1", "Drug A"), ("TRT2", "Drug B"), ("FU", "Follow-up assessments")]
    assert any("counts from an infusion ('infusion')" in note for note in schedule.notes)


# --- the seed pages ----------------------------------------------------------------------------------

SEED_STEPS = {
    # the criteria say "at screening", "prior to leukapheresis"; the time frames all count from the TCR-T infusion
    "seed/000_c854247f1f7c700a": ["INF", "FU"],
    # "within 5 half-lives before apheresis", "within 30 days before screening" are exclusion windows
    "seed/001_f387f9769c9c7516": ["LD", "INF"],
    # "Met the standards of leukapheresis" and "the first year after CAR-T infusion" are criteria; no intervention
    "seed/002_4eafcaff3cb592d5": [],
    # "anti-Smith at screening" is an inclusion criterion
    "seed/003_6601ee6bc5388ce6": ["LD", "INF"],
    # "at the screening visit", "prior to screening" are criteria
    "seed/004_0d37fe9dc878cb93": ["TRT"],
}


def test_seed_pages_get_only_the_steps_they_state(resources: Resources) -> None:
    seeds = dict(seed_studies())
    assert set(seeds) == set(SEED_STEPS)
    got = {label: _keys(derive_schedule(study, resources)) for label, study in seeds.items()}
    assert got == SEED_STEPS
    inf = derive_schedule(seeds["seed/000_c854247f1f7c700a"], resources).step("INF")
    assert inf is not None and inf.title == "TCR-T cell infusion"
    assert inf.sources == tuple(f"/outcomes/{i}/time_frame" for i in range(7))


# --- one epoch per step, in TA and in the PlanDefinition ------------------------------------------------


def _action_epochs(plan: dict[str, Any], r4: bool) -> dict[str, tuple[str, str]]:
    """Action id -> (code text, coding code) of each top-level action."""
    out: dict[str, tuple[str, str]] = {}
    for action in plan["action"]:
        concept = action["code"][0] if r4 else action["code"]
        (coding,) = concept["coding"]
        out[action["id"]] = (concept["text"], coding["code"])
    return out


def test_ta_epoch_equals_the_plan_definition_grouping_for_every_step(
        resources: Resources, build: Build, spec: SdtmSpec) -> None:
    """Property over every hand-built, seed and ClinicalTrials.gov fixture study."""
    epochs = spec.terminology.codelists["EPOCH"]
    compared = 0
    for label, study in all_studies(resources):
        schedule = derive_schedule(study, resources)
        design = build_design(study, schedule, "S1", spec, "f")
        etcd = {te["ETCD"]: step.key for te, step in zip(design.te, schedule.steps, strict=True)}
        plans = {v: _plan(build, study, v) for v in ("R4", "R5")}
        if not schedule.steps:
            assert plans == {"R4": None, "R5": None}, label
            continue
        actions = {v: _action_epochs(plan, v == "R4") for v, plan in plans.items() if plan is not None}
        assert actions["R4"] == actions["R5"], label
        assert list(actions["R4"]) == [s.key for s in schedule.steps], label
        for text, code in actions["R4"].values():
            term = epochs.terms.get(text)
            assert term is not None and term.code == code, (label, text, code)  # a CDISC EPOCH term, coded
        for row in design.ta:
            assert actions["R4"][etcd[str(row["ETCD"])]][0] == row["EPOCH"], (label, row)
            compared += 1
    assert compared > 100


def test_apheresis_and_lymphodepletion_are_in_the_treatment_epoch_in_both_outputs(
        resources: Resources, build: Build, spec: SdtmSpec) -> None:
    study = _study(description="Participants undergo leukapheresis. Lymphodepletion with fludarabine and "
                               "cyclophosphamide is followed by a single infusion of CAR-T cells.",
                   interventions=(Intervention(name="CAR-T cells", arm_group_labels=["Treatment group"]),),
                   frames=("Month 3 after CAR-T infusion",))
    schedule = derive_schedule(study, resources)
    assert _keys(schedule) == ["APH", "LD", "INF", "FU"]
    ta = {r["ETCD"]: r["EPOCH"] for r in build_design(study, schedule, "S1", spec, "f").ta}
    assert ta == {"APH": "TREATMENT", "LD": "TREATMENT", "INF": "TREATMENT", "FU": "FOLLOW-UP"}
    plan = _plan(build, study)
    assert plan is not None
    assert {k: v[0] for k, v in _action_epochs(plan, True).items()} == ta
