"""The study's enrolment count: R4 `Group.quantity` (+ extension), R5 `recruitment.targetNumber / actualNumber`.

R4: `ResearchStudy.enrollment` references a Group that "defines the criteria for and quantity of subjects
participating in the study"; the count goes into that Group's `quantity`. It is the eligibility Group when the
source states criteria, else a Group of the same identity holding only the count, so a study always has one
such Group. R4 has no element for whether the count is planned or actual: the project's `enrollment` extension
keeps the count with its type as the source states it (absent when it does not say).

R5: the count is `recruitment.actualNumber` or `targetNumber`, as `converters.model.enrollment` reads it (the
stated type, else the study's status through `mappings/common/enrollment.yaml`, the rule the SDTM writer's
PLANSUB/ACTSUB follow too).
"""

from __future__ import annotations

from typing import Any

from converters.model import Enrollment
from converters.model.enrollment import read_enrollment
from converters.problem_codes import fhir_writer as kinds
from converters.targets.fhir.context import BuildContext
from converters.targets.fhir.draft import Draft
from converters.targets.fhir.narrative import narrative

_COUNT = "/design/enrollment/count"
# R4 Group elements that come before `quantity` (the order of the R4 Group definition).
_BEFORE_QUANTITY = ("resourceType", "id", "meta", "text", "extension", "identifier", "active", "type", "actual",
                    "code", "name")


def enrollment_extension(ctx: BuildContext, enrollment: Enrollment) -> dict[str, Any]:
    """The `enrollment` extension: the count and, only where the source states it, ACTUAL / ESTIMATED."""
    parts: list[dict[str, Any]] = [{"url": "count", "valueUnsignedInt": enrollment.count}]
    if enrollment.type:
        parts.append({"url": "type", "valueCode": enrollment.type})
    return {"url": ctx.maps.extension("enrollment"), "extension": parts}


def _set_quantity(group: Draft, count: int) -> None:
    """`Group.quantity` in its place in the R4 element order (after `name`), traced to the count."""
    body = group.body
    head = {k: v for k, v in body.items() if k in _BEFORE_QUANTITY}
    group.body = {**head, "quantity": count, **{k: v for k, v in body.items() if k not in head and k != "quantity"}}
    group.note(("quantity",), _COUNT)


def _count_only_group(ctx: BuildContext, count: int) -> Draft:
    """The study's Group when the source states no eligibility: it defines only how many take part."""
    group = ctx.mint("Group", "eligibility", "eligibility", scoped=True)
    group.set("type", "person")
    group.set("actual", False)
    group.set("name", f"Enrollment: {ctx.study_name}")
    group.body["text"] = narrative(group.body["name"], [("Participants", [str(count)])])
    return group


def r4_enrollment_group(ctx: BuildContext, eligibility: Draft | None) -> Draft | None:
    """The Group R4 `ResearchStudy.enrollment` references, with the count in `quantity` when one is stated."""
    enrollment = ctx.study.design.enrollment
    if enrollment is None:
        return eligibility
    group = eligibility if eligibility is not None else _count_only_group(ctx, enrollment.count)
    _set_quantity(group, enrollment.count)
    return group


def write_r4_enrollment(ctx: BuildContext, draft: Draft, eligibility: Draft | None) -> None:
    """R4: `enrollment` -> the Group (count in its quantity); the count and its stated type in the extension."""
    group = r4_enrollment_group(ctx, eligibility)
    if group is not None:
        draft.add("enrollment", group.reference(group.body.get("name")))
    enrollment = ctx.study.design.enrollment
    if enrollment is not None:
        draft.add("extension", enrollment_extension(ctx, enrollment), "/design/enrollment")


def write_r5_recruitment(ctx: BuildContext, draft: Draft, eligibility: Draft | None) -> None:
    """R5: `recruitment` {targetNumber | actualNumber, eligibility}."""
    recruitment: dict[str, Any] = {}
    reading = read_enrollment(ctx.study, ctx.maps.enrollment)
    if reading is not None:
        key = "targetNumber" if reading.planned else "actualNumber"
        recruitment[key] = reading.count
        draft.note(("recruitment", key), *reading.pointers)
        if reading.assumed:
            ctx.report(kinds.ENROLLMENT_TYPE_ASSUMED, "/design/enrollment", count=reading.count,
                       why=reading.basis, reading=reading.reading, element=key)
    if eligibility is not None:
        recruitment["eligibility"] = eligibility.reference(eligibility.body.get("name"))
    if recruitment:
        draft.body["recruitment"] = recruitment
