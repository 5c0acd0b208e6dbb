"""Whether a study's enrolment count is the planned or the actual number: one rule for every writer.

A count the source types (ACTUAL / ESTIMATED) is read as typed. A count of unstated type (a registry page's
"18 participants") is decided by the study's overall status through `mappings/common/enrollment.yaml`, so the
FHIR R5 writer (recruitment.targetNumber / actualNumber) and the SDTM writer (TS PLANSUB / ACTSUB) never
disagree, whatever the input format. Where no status decides, the table's default (planned) is used and
`EnrollmentReading.assumed` says so, for the writers to report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from converters.model.study import Study
from converters.resources import Resources

ENROLLMENT_RULE = "common/enrollment.yaml"

Reading = Literal["planned", "actual"]
_STATED: dict[str, Reading] = {"ESTIMATED": "planned", "ACTUAL": "actual"}


@dataclass(frozen=True)
class EnrollmentRule:
    """The status table of `mappings/common/enrollment.yaml`."""

    statuses: dict[str, Reading]
    use_last_known: frozenset[str]
    default: Reading

    @classmethod
    def load(cls, resources: Resources) -> EnrollmentRule:
        data = resources.mapping(ENROLLMENT_RULE)
        return cls(statuses=dict(data["statuses"]), use_last_known=frozenset(data["use_last_known"]),
                   default=data["default"])


@dataclass(frozen=True)
class EnrollmentReading:
    """A study's count, whether it is the planned or the actual number, and what decided that."""

    count: int
    reading: Reading
    assumed: bool  # True: nothing in the source decided; the table's default was used
    pointers: tuple[str, ...]  # the study.json values the decision rests on (for the trace)
    basis: str  # what decided, in words, for reports ("status COMPLETED", "it states no status")

    @property
    def planned(self) -> bool:
        return self.reading == "planned"


def _status_reading(study: Study, rule: EnrollmentRule) -> tuple[Reading, str, tuple[str, ...]] | None:
    """The reading the study's status gives, with the status used and its pointer; None when none decides."""
    status = study.status
    if status.overall in rule.statuses:
        return rule.statuses[status.overall], status.overall, ("/status/overall",)
    if status.overall in rule.use_last_known and status.last_known in rule.statuses:
        last = status.last_known
        return rule.statuses[last], f"{status.overall}, last known {last}", ("/status/overall", "/status/last_known")
    return None


def read_enrollment(study: Study, rule: EnrollmentRule) -> EnrollmentReading | None:
    """The study's enrolment count read as planned or actual; None when the source states no count."""
    enrollment = study.design.enrollment
    if enrollment is None:
        return None
    count_pointers = ("/design/enrollment/count",)
    if enrollment.type is not None:
        return EnrollmentReading(enrollment.count, _STATED[enrollment.type], assumed=False,
                                 pointers=(*count_pointers, "/design/enrollment/type"),
                                 basis=f"the source types it {enrollment.type}")
    decided = _status_reading(study, rule)
    if decided is None:
        return _default_reading(study, enrollment.count, rule)
    reading, status_used, pointers = decided
    return EnrollmentReading(enrollment.count, reading, assumed=False,
                             pointers=(*count_pointers, *pointers), basis=f"status {status_used}")


def _default_reading(study: Study, count: int, rule: EnrollmentRule) -> EnrollmentReading:
    """No stated type and no status that decides: the table's default, marked as assumed."""
    status = study.status
    stated = [(p, v) for p, v in (("/status/overall", status.overall), ("/status/overall_text", status.overall_text))
              if v]
    why = f"its status {stated[0][1]!r} does not decide" if stated else "it states no status"
    return EnrollmentReading(count, rule.default, assumed=True,
                             pointers=("/design/enrollment/count", *(p for p, _ in stated)), basis=why)
