"""derive_schedule: steps only where the text states them, in protocol order, with their sources."""

from __future__ import annotations

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
from converters.model.schedule import derive_schedule
from converters.resources import Resources

from .studies import bare_study, cell_therapy_study


def test_cell_therapy_schedule_steps_in_protocol_order(resources: Resources) -> None:
    schedule = derive_schedule(cell_therapy_study(), resources)
    # screening and apheresis are named only in eligibility criteria: no step (issue 10)
    assert [s.key for s in schedule.steps] == ["LD", "INF", "FU"]
    ld = schedule.step("LD")
    assert ld is not None and ld.title == "Lymphodepletion (fludarabine, cyclophosphamide)"
    assert ld.description and "fludarabine and cyclophosphamide" in ld.description
    inf = schedule.step("INF")
    assert inf is not None
    assert inf.dose_levels == ("1×10^5 cells/Kg", "3×10^5 cells/Kg", "1×10^6 cells/Kg")
    assert inf.frequency == "single infusion"
    assert inf.follows == ("LD",)  # "following completion of lymphodepleting ... chemotherapy"
    assert inf.arm_labels == ("Treatment group",)
    assert all(s.timing is None for s in schedule.steps)  # no step timing is stated in this study


def test_visits_are_the_stated_time_points_in_time_order(resources: Resources) -> None:
    schedule = derive_schedule(cell_therapy_study(), resources)
    assert [(v.key, v.label) for v in schedule.visits] == [
        ("BL", "Baseline"), ("M1", "Month 1"), ("W12", "Week 12"), ("M3", "Month 3"), ("M6", "Month 6")]
    month3 = next(v for v in schedule.visits if v.key == "M3")
    assert (month3.amount, month3.unit, month3.anchor) == (3, "mo", "INF")  # "... after CAR-T cell infusion"
    week12 = next(v for v in schedule.visits if v.key == "W12")
    assert week12.anchor is None  # "Baseline, 12 weeks" does not say from what
    # "Within 1 years" and "Up to 2 years" are windows, not time points
    assert not any(v.unit == "a" for v in schedule.visits)
    assert any("Up to 2 years" in note for note in schedule.notes)


def test_every_source_pointer_exists_in_study_json(resources: Resources) -> None:
    study = cell_therapy_study()
    document = study_to_dict(study)
    schedule = derive_schedule(study, resources)
    pointers = [p for s in schedule.steps for p in s.sources] + [p for v in schedule.visits for p in v.sources]
    assert pointers
    for pointer in pointers:
        assert resolve_pointer(document, pointer) is not None, pointer


def test_nothing_is_invented_for_a_study_without_schedule_text(resources: Resources) -> None:
    assert derive_schedule(bare_study(), resources).steps == ()
    study = bare_study().model_copy(update={
        "arms": [Arm(label="A", description="Tablets daily.")],
        "interventions": [Intervention(name="Metformin", type="DRUG", dosing=["500 mg"])],
        "outcomes": [Outcome(kind=OutcomeKind.PRIMARY, measure="HbA1c", time_frame="Week 24")],
    })
    schedule = derive_schedule(study, resources)
    assert [s.key for s in schedule.steps] == ["TRT", "FU"]
    assert schedule.steps[0].title == "Metformin" and schedule.steps[0].follows == ()
    assert [v.label for v in schedule.visits] == ["Week 24"]
    assert schedule.visits[0].anchor is None


def test_several_interventions_get_numbered_stable_keys(resources: Resources) -> None:
    study = bare_study().model_copy(update={"interventions": [
        Intervention(name="Drug A"), Intervention(name="CAR-T", description="single infusion"),
        Intervention(name="Drug B"), Intervention(name="Fludarabine", dosing=["30 mg/m2/day"])]})
    schedule = derive_schedule(study, resources)
    # no "lymphodepletion" wording: fludarabine stays an ordinary treatment step
    assert [(s.key, s.title) for s in schedule.steps] == [
        ("TRT1", "Drug A"), ("INF", "Infusion of CAR-T"), ("TRT2", "Drug B"), ("TRT3", "Fludarabine")]
    assert derive_schedule(study, resources) == schedule


def _with_criteria(*texts: str) -> Study:
    return bare_study().model_copy(update={"eligibility": Eligibility(criteria=[
        CriteriaSection(category="inclusion", items=[Criterion(text=t) for t in texts])])})


def test_a_criterion_that_names_a_step_is_not_a_step(resources: Resources) -> None:
    # seed 002: a requirement on the participant, with an alternative; nothing says a leukapheresis takes place
    study = _with_criteria("Met the standards of leukapheresis or intravenous blood collection, No contraindication"
                           " for cell collection;", "Have good intravenous access (for apheresis);",
                           "Screening for chronic conditions is not required.")
    assert derive_schedule(study, resources).steps == ()


def test_a_criterion_that_counts_time_from_a_step_is_not_a_step_either(resources: Resources) -> None:
    # seed 000: "within 7 days prior to leukapheresis", "at screening" are eligibility windows, not what the
    # study does (issue 10; this test asserted SCRN and APH steps from them before)
    study = _with_criteria("Have received corticosteroids within 7 days prior to leukapheresis;",
                           "Active or latent tuberculosis at screening;")
    assert derive_schedule(study, resources).steps == ()


def _with_frames(*frames: str) -> Study:
    return bare_study().model_copy(update={"outcomes": [
        Outcome(kind=OutcomeKind.SECONDARY, measure=f"Measure {i}", time_frame=f) for i, f in enumerate(frames)]})


def test_a_range_or_a_window_is_not_a_visit(resources: Resources) -> None:
    # seed 000: "month 2 - month 12" is a range, "in month 1" a window, "per 3 days" a frequency
    schedule = derive_schedule(_with_frames(
        "Within 1 years after TCR-T cell infusion(per 3 days in month 1, per month in month 2 - month 12)",
        "1-2 months", "weeks 2-12", "every 41-56 days", "up to Week 52"), resources)
    assert schedule.visits == ()
    assert len(schedule.notes) == 5


def test_the_time_points_of_a_change_are_visits(resources: Resources) -> None:
    schedule = derive_schedule(_with_frames("Change from Baseline to Week 12", "From Week 44 to Week 52",
                                            "Within 1 years after infusion(month 1, month 3)"), resources)
    assert [v.label for v in schedule.visits] == ["Baseline", "Month 1", "Week 12", "Month 3", "Week 44",
                                                  "Week 52"]  # in time order
