"""The study's schedule as the source states it, derived once from the canonical `Study`.

Both the FHIR PlanDefinition (actions) and the SDTM trial design tables (TA/TE/TV) are written from this one
derivation, so the two outputs cannot disagree. Nothing is invented: a step exists only when the source
text states it, and each step names the study fields (JSON pointers into study.json) it was derived from.
The keyword rules live in `mappings/common/schedule.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScheduleStep:
    """One step of the schedule (an SDTM element / a PlanDefinition action)."""

    key: str  # stable short code, unique in the schedule (e.g. SCRN, LD, INF, FU); used for ETCD / action ids
    kind: str  # screening | pretreatment | treatment | follow-up
    title: str  # short name (ELEMENT / action.title)
    description: str | None = None  # statement from the source, as written
    timing: str | None = None  # timing as written (e.g. "within 14 days before infusion"); None if unstated
    dose_levels: tuple[str, ...] = ()  # dose statements as written
    arm_labels: tuple[str, ...] = ()  # arms the step belongs to; empty = all arms
    sources: tuple[str, ...] = ()  # JSON pointers into study.json this step is derived from


@dataclass(frozen=True)
class Visit:
    """A planned assessment time point (an SDTM visit / a PlanDefinition follow-up action)."""

    key: str
    label: str  # e.g. "Month 3"
    timing: str  # as written in the source (an outcome time frame)
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schedule:
    steps: tuple[ScheduleStep, ...] = ()  # in the order the source gives them
    visits: tuple[Visit, ...] = ()
    notes: tuple[str, ...] = field(default=())  # what could not be placed, for the writers' reports
