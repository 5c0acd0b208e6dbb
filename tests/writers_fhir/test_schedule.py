"""derive_schedule: steps only where the text states them, in protocol order, with their sources."""

from __future__ import annotations

from converters.model import Arm, Intervention, Outcome, OutcomeKind, study_to_dict
from converters.model.schedule import derive_schedule
from converters.resources import Resources

from .helpers import at_pointer
from .studies import bare_study, cell_therapy_study


def test_cell_therapy_schedule_steps_in_protocol_order(resources: Resources) -> None:
    schedule = derive_schedule(cell_therapy_study(), resources)
    assert [s.key for s in schedule.steps] == ["SCRN", "APH", "LD", "INF", "FU"]
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
        assert at_pointer(document, pointer) is not None, pointer


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
