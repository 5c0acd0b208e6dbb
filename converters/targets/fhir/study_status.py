"""ResearchStudy titles, status and dates (R4 4.0.1 and R5 5.0.0).

Where the versions only put a fact elsewhere (the other titles: R5 `label`, R4 the other-title extension; the
dates: R5 `progressStatus`, R4 the milestone extension) the builders ask `ctx.maps.place`
(mappings/fhir/versions.yaml). The status itself differs in meaning, so it stays two functions: R4 `status` is
the study's progress (a lossy code, or none), R5 `status` is the publication status of the record and the
progress goes into `progressStatus`.
"""

from __future__ import annotations

from typing import Any

from converters.model import PartialDate
from converters.problem_codes import fhir_writer as kinds
from converters.targets.fhir.concepts import Concept, concept, hl7_coding
from converters.targets.fhir.context import BuildContext
from converters.targets.fhir.draft import Draft


def write_titles(ctx: BuildContext, draft: Draft) -> None:
    titles = ctx.study.titles
    main = titles.brief or titles.official
    if main:
        draft.set("title", main.strip(), "/titles/brief" if titles.brief else "/titles/official")
    others = []
    if titles.official and titles.brief:
        others.append(("official", titles.official, "/titles/official"))
    if titles.acronym:
        others.append(("acronym", titles.acronym, "/titles/acronym"))
    where = ctx.maps.place("ResearchStudy", "other-title")
    for code, value, pointer in others:
        label: str = ctx.maps.values["title_types"][code]
        coding = hl7_coding(ctx, "title-type", code)
        if where.path:
            draft.add(where.element, {"type": concept(label, coding), "value": value.strip()}, pointer)
        elif where.extension:  # the project's extension: sub-extensions type (a Coding) and value
            draft.add("extension", {"url": ctx.maps.extension(where.extension), "extension": [
                {"url": "type", "valueCoding": {**coding, "display": label}},
                {"url": "value", "valueString": value.strip()},
            ]}, pointer)


def registry_status_concept(ctx: BuildContext) -> Concept:
    """The registry's overall status as the source states it (CT.gov token and label, or its own words)."""
    status = ctx.study.status
    if status.overall:
        text = ctx.maps.display("Status", status.overall) or status.overall
        if status.overall == "UNKNOWN" and status.last_known:
            text += f" (last known status: {ctx.maps.display('Status', status.last_known) or status.last_known})"
        return concept(text, ctx.maps.ctgov_coding("Status", status.overall))
    if status.overall_text:
        return concept(status.overall_text)
    return concept("Not stated in the source")


def _status_pointers(ctx: BuildContext) -> list[str]:
    """The study values a written status comes from."""
    status = ctx.study.status
    return [p for p, v in (("/status/overall", status.overall), ("/status/last_known", status.last_known),
                           ("/status/overall_text", status.overall_text)) if v]


def write_status(ctx: BuildContext, draft: Draft) -> None:
    # Not data: R4 `status` is the study's progress, R5 `status` the record's publication status.
    if ctx.maps.r4:
        _status_r4(ctx, draft)
    else:
        _status_r5(ctx, draft)


def _status_r4(ctx: BuildContext, draft: Draft) -> None:
    status = ctx.study.status
    table = ctx.maps.values["overall_status"]
    code: str | None = None
    exact = False
    source = status.overall
    if source and source in table:
        row = table[source]
        code, exact = row["r4"], row["exact"]
        if row.get("use_last_known") and status.last_known in table:
            code = table[status.last_known]["r4"]
    pointers = _status_pointers(ctx)
    if code is None:
        _status_absent_r4(ctx, draft, pointers)
    else:
        if not exact:
            ctx.report(kinds.STATUS_LOSSY, "/status/overall", status=source, code=code)
        draft.set("status", code, *pointers)
    draft.add("extension", {"url": ctx.maps.extension("registry-status"),
                            "valueCodeableConcept": registry_status_concept(ctx)}, *pointers)


def _status_absent_r4(ctx: BuildContext, draft: Draft, pointers: list[str]) -> None:
    """R4 `status` is 1..1 but the source states none: the element is given only its data-absent-reason
    extension (`_status`), FHIR's form for a required primitive with no value, rather than an invented code."""
    status = ctx.study.status
    reason: str = ctx.maps.values["status_absent_reason_r4"]
    stated = status.overall or status.overall_text
    detail = f"status {stated!r}" if stated else "none given"
    ctx.report(kinds.STATUS_ABSENT, "/status/overall", detail=detail, reason=reason)
    draft.set("_status", {"extension": [{"url": ctx.maps.hl7_extension("data-absent-reason"), "valueCode": reason}]},
              *pointers)


def _milestone_coding(ctx: BuildContext, milestone: dict[str, str]) -> dict[str, str]:
    return {"system": ctx.maps.project_system("milestone"), "code": milestone["code"],
            "display": milestone["display"]}


def write_dates(ctx: BuildContext, draft: Draft) -> None:
    """`period` (start to completion), then each date as a milestone where the version puts milestones."""
    status = ctx.study.status
    period: dict[str, str] = {}
    if status.start:
        period["start"] = status.start.value
    if status.completion:
        period["end"] = status.completion.value
    if period:
        draft.body["period"] = period
        if status.start:
            draft.note(("period", "start"), "/status/start")
        if status.completion:
            draft.note(("period", "end"), "/status/completion")
    where = ctx.maps.place("ResearchStudy", "milestone")
    milestones: dict[str, dict[str, str]] = ctx.maps.values["milestones"]
    for field_name, milestone in milestones.items():
        date: PartialDate | None = getattr(status, field_name)
        if date is None:
            continue
        pointer = f"/status/{field_name}"
        if where.path:  # a progressStatus entry: state, actual (where stated), the date as a period's end or start
            entry: dict[str, Any] = {"state": concept(milestone["display"], _milestone_coding(ctx, milestone))}
            if date.type:
                entry["actual"] = date.type == "ACTUAL"
            entry["period"] = {"end" if "completion" in field_name else "start": date.value}
            draft.add(where.element, entry, pointer)
        elif where.extension:  # the project's extension: sub-extensions milestone, date and type (where stated)
            parts: list[dict[str, Any]] = [{"url": "milestone", "valueCoding": _milestone_coding(ctx, milestone)},
                                           {"url": "date", "valueDateTime": date.value}]
            if date.type:
                parts.append({"url": "type", "valueCode": date.type})
            draft.add("extension", {"url": ctx.maps.extension(where.extension), "extension": parts}, pointer)


def _status_r5(ctx: BuildContext, draft: Draft) -> None:
    status = ctx.study.status
    draft.set("status", ctx.maps.values["r5_record_status"])
    pointers = _status_pointers(ctx)
    state = registry_status_concept(ctx)
    row = ctx.maps.values["overall_status"].get(status.overall or "")
    if row and row["r5"]:
        state["coding"].insert(0, hl7_coding(ctx, "research-study-status", row["r5"]))
    if status.overall or status.overall_text:
        draft.add("progressStatus", {"state": state}, *pointers)
    start, end = status.start, status.completion
    if start or end:
        overall = ctx.maps.values["overall_study_state"]
        entry: dict[str, Any] = {"state": concept(overall["text"],
                                                  hl7_coding(ctx, "research-study-status", overall["code"]))}
        types = {d.type for d in (start, end) if d is not None}
        if len(types) == 1 and None not in types:
            entry["actual"] = types == {"ACTUAL"}
        entry["period"] = {k: d.value for k, d in (("start", start), ("end", end)) if d is not None}
        draft.add("progressStatus", entry, *[p for p, d in (("/status/start", start), ("/status/completion", end))
                                              if d is not None])
