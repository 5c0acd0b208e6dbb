"""The one policy for reporting a CDISC CORE rule finding, shared by `convert` (the SDTM writer's checks) and
`trialbridge validate` (tables read back), so that the same tables never get two verdicts.

The policy is data (`mappings/sdtm/finding-severity.yaml`): a finding is the rule's error, unless it fires on a TS
record that holds no value but a null flavour. Then the study has not started (the parameter is one whose actual
value exists only once it has, null-flavoured NAV: `sdtm-study-not-started`), or the source does not state the
value (`sdtm-write-required-value-absent`); each with the severity the policy gives. Only the finding (domain and
row in the tables the rules ran on) and those tables decide, never the wording of a problem.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from converters.problem_codes import sdtm_rules, sdtm_writer
from converters.problems import Problem, Severity
from converters.resources import Resources

if TYPE_CHECKING:  # the rule engine is imported when the first check runs, not by every run's start-up
    from converters.targets.sdtm.core_rules import Finding, FindingReporter

POLICY_MAPPING = "sdtm/finding-severity.yaml"


@dataclass(frozen=True)
class FindingPolicy:
    """`mappings/sdtm/finding-severity.yaml`, read once: which records say their value is absent, and how a
    finding on one is reported."""

    null_flavors: frozenset[str]
    not_started_parameters: frozenset[str]
    not_started_flavors: frozenset[str]
    not_started_severity: Severity
    absent_severity: Severity

    @classmethod
    def load(cls, resources: Resources) -> FindingPolicy:
        data = resources.mapping(POLICY_MAPPING)
        not_started = data["not_started"]
        return cls(
            null_flavors=frozenset(data["null_flavors"]),
            not_started_parameters=frozenset(not_started["parameters"]),
            not_started_flavors=frozenset(not_started["null_flavors"]),
            not_started_severity=Severity(not_started["severity"]),
            absent_severity=Severity(data["absent_in_source"]["severity"]),
        )


@dataclass(frozen=True)
class TsColumns:
    """The TS table the rules ran on, by column (variable -> values); a record is read by its row number."""

    columns: Mapping[str, Sequence[Any]]
    length: int

    @classmethod
    def of_rows(cls, rows: Sequence[Mapping[str, Any]]) -> TsColumns:
        names = dict.fromkeys(name for row in rows for name in row)
        return cls({name: [row.get(name) for row in rows] for name in names}, len(rows))

    @classmethod
    def of_columns(cls, columns: Mapping[str, Sequence[Any]]) -> TsColumns:
        return cls(columns, len(next(iter(columns.values()))) if columns else 0)

    def cell(self, row: int, name: str) -> Any:
        """The value of `name` in record `row` (1-based), None when the table has no such variable."""
        values = self.columns.get(name)
        return values[row - 1] if values is not None else None


def report_finding(policy: FindingPolicy, ts: TsColumns, finding: Finding, problem: Problem) -> Problem:
    """How one finding is reported (see the module docstring); `problem` is the rule's own, kept otherwise."""
    row = finding.row
    if finding.domain != "TS" or row is None or not 1 <= row <= ts.length:
        return problem
    null_flavor = ts.cell(row, "TSVALNF")
    if ts.cell(row, "TSVAL") not in (None, "") or null_flavor not in policy.null_flavors:
        return problem
    parameter = str(ts.cell(row, "TSPARMCD"))
    details = {"rule_id": finding.rule_id, "record": f"TS row {row}", "parameter": parameter,
               "null_flavor": str(null_flavor), "message": problem.message}
    if parameter in policy.not_started_parameters and null_flavor in policy.not_started_flavors:
        return sdtm_rules.SDTM_STUDY_NOT_STARTED.at(policy.not_started_severity, problem.location, **details)
    return sdtm_writer.SDTM_REQUIRED_VALUE_ABSENT.at(policy.absent_severity, problem.location, **details)


def finding_reporter(policy: FindingPolicy, ts: TsColumns) -> FindingReporter:
    """`report_finding` for one set of tables, in the form the rule report takes (`RuleReport.problems`)."""
    def report(finding: Finding, problem: Problem) -> Problem:
        return report_finding(policy, ts, finding, problem)
    return report
