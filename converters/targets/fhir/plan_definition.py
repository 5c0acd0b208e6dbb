"""PlanDefinition (type clinical-protocol) from the study's schedule, as the source states it.

One action per schedule step, in schedule order, coded with the step's CDISC epoch (the same epoch SDTM TA
writes for it); dose levels become sub-actions of their step; the follow-up step has one sub-action per visit.
Ordering (`relatedAction` "after") and offsets from a step are written only where the schedule found them
stated; nothing else is timed. R4 refers to actions by element `id`
(relatedAction.actionId); R5 by `targetId`, which its invariant pld-4 checks against the actions' `id`, so R5
actions carry both `id` and `linkId`. These and the other differences between the versions (action description
string or markdown, one action code or a list) are looked up in `ctx.maps.place` (mappings/fhir/versions.yaml).
"""

from __future__ import annotations

from typing import Any

from converters.model import TextFormat
from converters.model.schedule import Epoch, Schedule, ScheduleStep, Visit
from converters.model.text import as_commonmark
from converters.problem_codes import fhir_writer as kinds
from converters.targets.fhir.context import BuildContext
from converters.targets.fhir.draft import Draft, ElementPath
from converters.targets.fhir.narrative import narrative
from converters.targets.fhir.research_study import provenance_artifacts


def _action_code(ctx: BuildContext, epoch: Epoch) -> dict[str, Any]:
    """The step's CDISC epoch (NCI Thesaurus code and decode; text = the EPOCH value TA writes)."""
    concept: dict[str, Any] = {"text": epoch.value}
    system = ctx.maps.source_code_system("ncit")
    if system:
        concept = {"coding": [{"system": system, "code": epoch.code, "display": epoch.decode}], **concept}
    return concept


def _relation(ctx: BuildContext, target: str, relationship: str, offset: dict[str, Any] | None = None
              ) -> dict[str, Any]:
    out: dict[str, Any] = {ctx.maps.place("PlanDefinition", "related-action-target").name: target,
                           "relationship": relationship}
    if offset:
        out["offsetDuration"] = offset
    return out


def _new_action(ctx: BuildContext, action_id: str) -> dict[str, Any]:
    action = {"id": action_id}
    link = ctx.maps.place("PlanDefinition", "action-link-id")
    if link.path:
        action[link.name] = action_id
    return action


def _action_description(ctx: BuildContext, text: str) -> str:
    """action.description from the schedule's plain text: R4 types it `string`, R5 `markdown`."""
    markdown = ctx.maps.place("PlanDefinition", "action-description").type == "markdown"
    return as_commonmark(text, TextFormat.PLAIN) if markdown else text


def _step_action(ctx: BuildContext, step: ScheduleStep, trace: list[tuple[ElementPath, str]]) -> dict[str, Any]:
    action = _new_action(ctx, step.key)
    if step.arm_labels:
        action["extension"] = [{"url": ctx.maps.extension("schedule-arm"), "valueString": label}
                               for label in step.arm_labels]
    action["title"] = step.title
    if step.description:
        action["description"] = _action_description(ctx, step.description)
    if step.epoch:
        code = _action_code(ctx, step.epoch)
        action["code"] = [code] if ctx.maps.place("PlanDefinition", "action-code").many else code
    if step.follows:
        action["relatedAction"] = [_relation(ctx, key, "after") for key in step.follows]
    if step.timing or step.frequency:
        action["timingTiming"] = {"code": {"text": "; ".join(t for t in (step.timing, step.frequency) if t)}}
    for source in step.sources:
        trace.append(((), source))
    subs = []
    for n, dose in enumerate(step.dose_levels, start=1):
        sub = _new_action(ctx, f"{step.key}-DOSE{n}")
        sub.update({"title": f"Dose level {n}", "description": _action_description(ctx, dose)})
        subs.append(sub)
    if subs:
        action["action"] = subs
    return action


def _visit_action(ctx: BuildContext, visit: Visit, parent: str) -> dict[str, Any]:
    action = _new_action(ctx, f"{parent}-{visit.key}")
    action["title"] = visit.label
    action["description"] = _action_description(ctx, f"Time point as stated: {visit.timing}")
    if visit.anchor and visit.amount is not None and visit.unit:
        names = {spec["code"]: spec["unit"] for spec in ctx.maps.values["age_units"].values()}
        unit = names.get(visit.unit, visit.unit)
        offset = {"value": visit.amount, "unit": unit.rstrip("s") if visit.amount == 1 else unit,
                  "system": ctx.maps.hl7_system("ucum"), "code": visit.unit}
        action["relatedAction"] = [_relation(ctx, visit.anchor, "after-start", offset)]
    return action


def build_plan_definition(ctx: BuildContext, schedule: Schedule) -> Draft | None:
    """The protocol PlanDefinition, or None when the source states no step at all."""
    for note in schedule.notes:
        ctx.report(kinds.SCHEDULE_NOTE, "/outcomes", note=note)
    if not schedule.steps:
        return None
    draft = ctx.mint("PlanDefinition", "schedule", "schedule", scoped=True)
    draft.set("title", f"Schedule: {ctx.study_name}")
    spec = ctx.maps.values["plan_definition"]
    plan_type = spec["type"]
    draft.set("type", {"coding": [{"system": ctx.maps.hl7_system("plan-definition-type"), "code": plan_type["code"],
                                   "display": plan_type["display"]}], "text": plan_type["text"]})
    draft.set("status", spec["status"])
    draft.set("description", as_commonmark(spec["description"], TextFormat.PLAIN))
    for artifact, pointers in provenance_artifacts(ctx):
        draft.add("relatedArtifact", artifact, *pointers)
    for step in schedule.steps:
        trace: list[tuple[ElementPath, str]] = []
        action = _step_action(ctx, step, trace)
        if step.kind == "follow-up" and schedule.visits:
            action.setdefault("action", []).extend(_visit_action(ctx, v, step.key) for v in schedule.visits)
        index = draft.add("action", action)
        for path, source in trace:
            draft.note(("action", index, *path), source)
        if step.kind == "follow-up":
            for n, visit in enumerate(schedule.visits):
                draft.note(("action", index, "action", n), *visit.sources)
    rows = [("Steps", [s.title for s in schedule.steps])]
    titles = {s.key: s.title for s in schedule.steps}
    lists = [(s.title, [*(f"Dose level: {d}" for d in s.dose_levels),
                        *([f"Frequency: {s.frequency}"] if s.frequency else []),
                        *([f"After: {', '.join(titles.get(k, k) for k in s.follows)}"] if s.follows else [])])
             for s in schedule.steps]
    lists.append(("Time points", [f"{v.label} ({v.timing})" for v in schedule.visits]))
    draft.body["text"] = narrative(draft.body["title"], rows, lists)
    return draft
