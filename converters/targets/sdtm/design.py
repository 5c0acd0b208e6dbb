"""Trial Arms (TA), Trial Elements (TE) and Trial Visits (TV) from the study's one derived `Schedule`.

The schedule (`converters.model.schedule.derive_schedule`) is the same one the FHIR PlanDefinition is written
from, so both outputs state the same steps. Each schedule step is one element (ETCD is the step key); each arm
the source lists runs through the steps that belong to it, in schedule order, each in the epoch the schedule
gives its step (the PlanDefinition action's code is the same epoch); each visit is one TV record for all arms
(ARMCD empty: nothing in a registry record makes visits depend on the arm). Nothing is added that
the schedule does not state: no branch or transition rules, no planned durations, no study days. The element
rules are the ones the Trial Design Model itself implies (an element ends when the next starts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from converters.model import Study
from converters.model.schedule import Schedule, ScheduleStep
from converters.problem_codes import sdtm_writer as codes
from converters.problems import Location, Problem
from converters.targets.sdtm import text as sdtm_text
from converters.targets.sdtm.spec import SdtmSpec
from converters.targets.sdtm.tables import Row

_NOT_CODE = re.compile(r"[^A-Z0-9]+")
_ETCD_CHARACTERS = re.compile(r"[A-Z][A-Z0-9_]*")  # its length limit is in variables.yaml


@dataclass(frozen=True)
class DesignResult:
    ta: list[Row]
    te: list[Row]
    tv: list[Row]
    problems: list[Problem]


def code_from_label(label: str, max_length: int) -> str:
    """Upper-case letters and digits of a label, other runs as one underscore, cut to `max_length`."""
    code = _NOT_CODE.sub("_", label.upper()).strip("_")
    return code[:max_length].rstrip("_")


def arm_codes(labels: list[str], max_length: int) -> list[str]:
    """ARMCD per arm: from the label, unique (numbered on a clash), at most `max_length` characters."""
    out: list[str] = []
    for i, label in enumerate(labels, start=1):
        base = code_from_label(label, max_length) or f"ARM{i}"
        code, n = base, 1
        while code in out:
            n += 1
            tail = f"_{n}"
            code = base[: max_length - len(tail)].rstrip("_") + tail
        out.append(code)
    return out


def _element_codes(steps: tuple[ScheduleStep, ...], max_length: int, file: str,
                   problems: list[Problem]) -> dict[str, str]:
    out: dict[str, str] = {}
    for step in steps:
        code = step.key
        if len(code) > max_length or not _ETCD_CHARACTERS.fullmatch(code):
            fixed = code_from_label(code, max_length) or f"EL{len(out) + 1}"
            if not fixed[0].isalpha():
                fixed = ("E" + fixed)[:max_length]
            problems.append(codes.SDTM_CODE_ADJUSTED(Location(file=file, path="TE"), variable="ETCD",
                                                     original=code,
                                                     reason=f"at most {max_length} letters, digits or _",
                                                     code=fixed))
            code = fixed
        while code in out.values():
            code = code[:max_length - 1] + str(len(out) % 10)
        out[step.key] = code
    return out


def _in_arm(step: ScheduleStep, label: str) -> bool:
    return not step.arm_labels or label.casefold() in {a.casefold() for a in step.arm_labels}


def _one_line(value: str | None) -> str | None:
    return sdtm_text.clean(value) or None if value else None


def build_design(study: Study, schedule: Schedule, study_id: str, spec: SdtmSpec, file: str) -> DesignResult:
    settings = spec.settings
    problems: list[Problem] = []
    marker = settings.shortened_marker
    etcd = _element_codes(schedule.steps, spec.max_length("TE", "ETCD"), file, problems)
    labels = [arm.label for arm in study.arms]
    armcds = arm_codes(labels, spec.max_length("TA", "ARMCD"))
    arm_names = dict(zip(labels, sdtm_text.shorten_distinct([(x, sdtm_text.clean(x)) for x in labels], marker),
                         strict=True))
    elements = dict(zip([s.key for s in schedule.steps],
                        sdtm_text.shorten_distinct([(s.key, sdtm_text.clean(s.title)) for s in schedule.steps],
                                                   marker),
                        strict=True))

    ta: list[Row] = []
    paths: dict[str, list[str]] = {}  # arm label -> step keys
    for label, armcd in zip(labels, armcds, strict=True):
        order = 0
        for step in schedule.steps:
            if not _in_arm(step, label):
                continue
            if step.epoch is None:
                problems.append(codes.SDTM_DESIGN_INCOMPLETE(
                    Location(file=file, path="TA"),
                    what=f"Step {step.key} ({step.kind}) has no epoch (common/schedule.yaml); left out of TA."))
                continue
            order += 1
            paths.setdefault(label, []).append(step.key)
            ta.append({"STUDYID": study_id, "DOMAIN": "TA", "ARMCD": armcd,
                       "ARM": arm_names[label], "TAETORD": order,
                       "ETCD": etcd[step.key], "ELEMENT": elements[step.key],
                       "TABRANCH": None, "TATRANS": None, "EPOCH": step.epoch.value})
    if schedule.steps and not study.arms:
        problems.append(codes.SDTM_DESIGN_INCOMPLETE(
            Location(file=file, path="TA"),
            what="The source lists no arms, so TA is empty; the elements are in TE only."))
    unplaced = [s.key for s in schedule.steps if study.arms and not any(s.key in p for p in paths.values())]
    if unplaced:
        problems.append(codes.SDTM_DESIGN_INCOMPLETE(
            Location(file=file, path="TA"),
            what=f"Steps {', '.join(unplaced)} belong to no listed arm; they are in TE only."))

    te: list[Row] = []
    order_keys = [s.key for s in schedule.steps]
    for step in schedule.steps:
        element = elements[step.key]
        timing = _one_line(step.timing)
        start = (settings.element_start_with_timing.format(element=element, timing=timing) if timing
                 else settings.element_start.format(element=element))
        arm_paths = [p for p in paths.values() if step.key in p] or [order_keys]
        last = all(p[-1] == step.key for p in arm_paths)
        te.append({"STUDYID": study_id, "DOMAIN": "TE", "ETCD": etcd[step.key], "ELEMENT": element,
                   "TESTRL": sdtm_text.shorten(start, marker),
                   "TEENRL": settings.element_end_last if last else settings.element_end_next, "TEDUR": None})

    tv: list[Row] = []
    titles = {s.key: sdtm_text.clean(s.title) for s in schedule.steps}
    for number, visit in enumerate(schedule.visits, start=1):
        timing = _one_line(visit.timing) or sdtm_text.clean(visit.label)
        start = settings.visit_start.format(timing=timing)
        if visit.anchor and visit.anchor in titles:
            start = settings.visit_start_anchored.format(timing=timing, anchor=titles[visit.anchor])
        tv.append({"STUDYID": study_id, "DOMAIN": "TV", "VISITNUM": number, "VISIT": sdtm_text.clean(visit.label),
                   "VISITDY": None, "ARMCD": None, "ARM": None, "TVSTRL": sdtm_text.shorten(start, marker),
                   "TVENRL": None})
    for note in schedule.notes:
        problems.append(codes.SDTM_DESIGN_INCOMPLETE(Location(file=file, path="TV"), what=note))
    return DesignResult(ta, te, tv, problems)
