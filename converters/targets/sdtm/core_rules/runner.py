"""Run the CDISC CORE rules on a set of SDTM Trial Design tables and report each rule's outcome.

Every rule in the rule file gets exactly one result: passed, failed (with findings), skipped (with the
reason: not published, not for the configured standard, out of scope for these datasets, a variable or
dataset it reads is absent, it needs CDISC Library metadata, ...) or error (the runner could not evaluate
it). A rule that cannot run is never reported as passed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from converters.problem_codes.sdtm_rules import (
    SDTM_CORE_RULE,
    SDTM_CORE_RULE_ERROR,
    SDTM_CORE_RULE_SKIPPED,
    SDTM_CORE_RULES_SUMMARY,
)
from converters.problems import Location, Problem
from converters.resources import MappingError, Resources
from converters.targets.sdtm.core_rules.operations import (
    OPERATIONS,
    ROW_NUMBER,
    MissingDomainError,
    NeedsLibraryError,
    OperationContext,
    UnsupportedOperationError,
    apply_operations,
    match_datasets,
)
from converters.targets.sdtm.core_rules.operators import (
    OPERATORS,
    MissingVariableError,
    RuleEvaluationError,
    UnsupportedOperatorError,
    evaluate_check,
    resolve_name,
)
from converters.targets.sdtm.core_rules.rules import (
    CoreRule,
    RuleFileError,
    iter_conditions,
    load_core_rules,
)
from converters.targets.sdtm.tables import (
    TDM_DOMAINS,
    Frame,
    TdmTables,
    column_order,
    frame_from_columns,
    number_text,
)

CONFIG_MAPPING = "sdtm/core-rule-runner.yaml"
VARIABLES_MAPPING = "sdtm/variables.yaml"  # the SDTMIG dataset metadata the SDTM writer writes from
NUMERIC_TYPES = ("integer", "float")
RECORD_DATA = "Record Data"
SUPPORTED_SENSITIVITIES = ("Record", "Dataset")


class RuleStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"


class SkipReason(StrEnum):
    """Why a rule did not run. The first three mean the rule does not apply; the others that it could not run."""

    NOT_PUBLISHED = "not published"
    OTHER_STANDARD = "not for this standard"
    OUT_OF_SCOPE = "out of scope"
    RULE_TYPE = "rule type not supported"
    NOT_EXECUTABLE = "not executable"
    OPERATOR = "operator not implemented"
    OPERATION = "operation needs metadata"
    NEEDS_LIBRARY = "needs CDISC Library metadata"
    NO_DATASET = "dataset absent"
    MISSING_DOMAIN = "other dataset absent"
    MISSING_VARIABLE = "variable absent"


NOT_APPLICABLE = frozenset({SkipReason.NOT_PUBLISHED, SkipReason.OTHER_STANDARD, SkipReason.OUT_OF_SCOPE})


@dataclass(frozen=True)
class Finding:
    """One record (or, for a dataset-level rule, one dataset) a rule found in breach."""

    rule_id: str
    domain: str
    row: int | None
    usubjid: str | None
    seq: int | None
    values: tuple[tuple[str, str], ...]
    message: str


FindingReporter = Callable[[Finding, Problem], Problem]
"""How a caller reports one finding: given the finding and its default `sdtm-core-rule` problem."""


@dataclass(frozen=True)
class DatasetOutcome:
    """What one rule did on one dataset."""

    domain: str
    status: RuleStatus
    findings: tuple[Finding, ...] = ()
    reason: SkipReason | None = None
    detail: str = ""


@dataclass(frozen=True)
class RulePlan:
    """Whether a rule can run on given domains, decided from the rule file and the configuration alone."""

    rule: CoreRule
    domains: tuple[str, ...]
    reason: SkipReason | None = None
    detail: str = ""


@dataclass(frozen=True)
class RuleResult:
    """One rule's outcome on a set of tables: its status, why it was skipped, and per-dataset details."""

    rule: CoreRule
    status: RuleStatus
    reason: SkipReason | None = None
    detail: str = ""
    outcomes: tuple[DatasetOutcome, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for o in self.outcomes for f in o.findings)

    @property
    def applies(self) -> bool:
        """The rule applies to these tables (it ran, or it should have run but could not)."""
        return self.reason not in NOT_APPLICABLE


@dataclass(frozen=True)
class RuleRunReport:
    """Results for every rule in the rule file, in file order, with the problems they make."""

    standard: str
    version: str
    results: tuple[RuleResult, ...]
    file: str | None = None
    files: Mapping[str, str] | None = None

    def result(self, core_id: str) -> RuleResult:
        for result in self.results:
            if result.rule.core_id == core_id:
                return result
        raise KeyError(core_id)

    def with_status(self, *statuses: RuleStatus) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if r.status in statuses)

    def counts(self) -> dict[str, int]:
        """Rules per status, and the rules that do not apply per reason."""
        counts = Counter(r.status.value for r in self.results if r.applies)
        counts.update(f"n/a: {r.reason}" for r in self.results if not r.applies)
        return dict(sorted(counts.items()))

    def problems(self, report_finding: FindingReporter | None = None) -> list[Problem]:
        """Findings as errors, rules that could not run as info, evaluation errors as warnings, one summary.

        `report_finding(finding, problem)` lets a caller that knows more about the tables than the rules do
        report a finding differently (the SDTM writer: a rule firing on a value it left out because the source
        lacks it); it decides from the structured `Finding` and gets the default problem to keep or replace.
        """
        problems: list[Problem] = []
        for result in self.results:
            if result.status is RuleStatus.PASSED or (result.status is RuleStatus.SKIPPED and not result.applies):
                continue  # nothing to report but in the summary
            refs = _references(result.rule, self.standard, self.version)
            for finding in result.findings:
                problem = SDTM_CORE_RULE(
                    self._location(finding.domain, finding.row),
                    rule_id=finding.rule_id, references=refs, message=finding.message,
                    values=_values_text(finding.values),
                )
                problems.append(report_finding(finding, problem) if report_finding else problem)
            for outcome in result.outcomes:
                if outcome.status is RuleStatus.ERROR:
                    problems.append(
                        SDTM_CORE_RULE_ERROR(
                            self._location(outcome.domain, None), rule_id=result.rule.core_id,
                            dataset=outcome.domain, reason=outcome.detail,
                        )
                    )
            if result.status is RuleStatus.SKIPPED and result.applies:
                problems.append(
                    SDTM_CORE_RULE_SKIPPED(
                        Location(file=self.file), rule_id=result.rule.core_id, references=refs,
                        reason=f"{result.reason}: {result.detail}" if result.detail else str(result.reason),
                    )
                )
        problems.append(self._summary())
        return problems

    def _location(self, domain: str, row: int | None) -> Location:
        file = (self.files or {}).get(domain, self.file)
        record = domain if row is None else f"{domain} row {row}"
        return Location(file=file, record=record)

    def _summary(self) -> Problem:
        applying = [r for r in self.results if r.applies]
        status = Counter(r.status for r in applying)
        not_applying = Counter(str(r.reason) for r in self.results if not r.applies)
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(not_applying.items())) or "none"
        return SDTM_CORE_RULES_SUMMARY(
            Location(file=self.file), standard=f"{self.standard} {self.version}",
            ran=status[RuleStatus.PASSED] + status[RuleStatus.FAILED], passed=status[RuleStatus.PASSED],
            failed=status[RuleStatus.FAILED], skipped=status[RuleStatus.SKIPPED], errors=status[RuleStatus.ERROR],
            not_selected=sum(not_applying.values()), total=len(self.results), why=why,
        )


def _references(rule: CoreRule, standard: str, version: str) -> str:
    ids = rule.conformance_ids(standard, version)
    return f" ({', '.join(ids)})" if ids else ""


def _values_text(values: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in values) or "no values"


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, set | frozenset | list | tuple):
        return "[" + ", ".join(sorted(_display(v) for v in value)) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return number_text(value)
    return str(value)


class CoreRuleRunner:
    """Loads the CORE rule file once and runs its rules on sets of Trial Design tables.

    `standard`/`version` override the configured standard (SDTMIG 3.4 by default).
    """

    def __init__(
        self, resources: Resources | None = None, *, standard: str | None = None, version: str | None = None
    ) -> None:
        self.resources = resources or Resources()
        config = self.resources.mapping(CONFIG_MAPPING)
        self.standard: str = standard or str(config["standard"]["name"])
        self.version: str = version or str(config["standard"]["version"])
        datasets = self.resources.mapping(VARIABLES_MAPPING)["datasets"]
        # Rule scopes name SDTM classes, and CSV carries no types: both come from the datasets' SDTMIG
        # metadata, the same the writer writes from. Those datasets are also the domains known to be standard.
        self.dataset_classes: dict[str, str] = {str(name): str(body["class"]) for name, body in datasets.items()}
        self.numeric_variables: frozenset[str] = frozenset(
            str(v["name"]) for body in datasets.values() for v in body["variables"] if v["type"] in NUMERIC_TYPES
        )
        self.standard_domains: frozenset[str] = frozenset(self.dataset_classes)
        self.unsupported_rule_types: dict[str, str] = dict(config["unsupported_rule_types"])
        self.unsupported_operations: dict[str, str] = dict(config["unsupported_operations"])
        self.rules_path = self.resources.schemas_dir / str(config["rules_file"])
        self.rules_source: dict[str, str] = {str(k): str(v) for k, v in config["rules_source"].items()}
        try:
            self.rules: tuple[CoreRule, ...] = load_core_rules(self.rules_path)
        except RuleFileError as exc:
            raise MappingError(str(exc)) from exc
        # Per-runner cache of compiled things: each rule's plan for a set of domains (a pure function of the
        # rule file and the configuration above, asked again for every package otherwise).
        self._plans: dict[tuple[int, tuple[str, ...]], RulePlan] = {}  # (id(rule), domains) -> plan

    # --- static plan ------------------------------------------------------------------------------------

    def in_scope(self, rule: CoreRule, domain: str) -> bool:
        """Does the rule's Scope (classes and domains) include this dataset?"""
        scope = rule.scope
        if scope.include_domains and "ALL" not in scope.include_domains and domain not in scope.include_domains:
            return False
        if domain in scope.exclude_domains or "ALL" in scope.exclude_domains:
            return False
        cls = self.dataset_classes.get(domain)
        if scope.include_classes and "ALL" not in scope.include_classes and cls not in scope.include_classes:
            return False
        return not (cls is not None and cls in scope.exclude_classes)

    def plan_rule(self, rule: CoreRule, domains: Iterable[str] = TDM_DOMAINS) -> RulePlan:
        """Can this rule run on these domains at all? (Data-dependent reasons come only from `run`.)"""
        label = f"{self.standard} {self.version}"
        if not rule.is_published:
            return RulePlan(rule, (), SkipReason.NOT_PUBLISHED, f"status {rule.publication}")
        if not rule.lists_standard(self.standard, self.version):
            written_for = ", ".join(rule.standard_labels())
            return RulePlan(rule, (), SkipReason.OTHER_STANDARD, f"written for {written_for}, not {label}")
        return self.capability(rule, domains)

    def capability(self, rule: CoreRule, domains: Iterable[str] = TDM_DOMAINS) -> RulePlan:
        """Could the runner execute this rule on these domains, whatever its status and standards?"""
        in_scope = tuple(d for d in domains if self.in_scope(rule, d))
        if not in_scope:
            return RulePlan(rule, (), SkipReason.OUT_OF_SCOPE, _scope_text(rule))
        if rule.rule_type != RECORD_DATA:
            why = self.unsupported_rule_types.get(rule.rule_type, "not implemented")
            return RulePlan(rule, in_scope, SkipReason.RULE_TYPE, f"{rule.rule_type}: {why}")
        if rule.sensitivity not in SUPPORTED_SENSITIVITIES:
            return RulePlan(rule, in_scope, SkipReason.RULE_TYPE, f"sensitivity {rule.sensitivity!r} not supported")
        if rule.executability.lower() == "not executable":
            return RulePlan(rule, in_scope, SkipReason.NOT_EXECUTABLE, "the rule file marks it Not Executable")
        if any(not c.get("operator") for c in iter_conditions(rule.check)):
            return RulePlan(rule, in_scope, SkipReason.NOT_EXECUTABLE, "a condition without an operator (a draft)")
        operators = sorted({str(c.get("operator")) for c in iter_conditions(rule.check)} - set(OPERATORS))
        if operators:
            return RulePlan(rule, in_scope, SkipReason.OPERATOR, ", ".join(operators))
        for operation in rule.operations:
            name = str(operation.get("operator", ""))
            if name not in OPERATIONS:
                why = self.unsupported_operations.get(name, "not implemented by trialbridge's rule runner")
                return RulePlan(rule, in_scope, SkipReason.OPERATION, f"{name}: {why}")
        return RulePlan(rule, in_scope)

    def plan(self, domains: Iterable[str] = TDM_DOMAINS) -> tuple[RulePlan, ...]:
        wanted = tuple(domains)
        return tuple(self.plan_rule(rule, wanted) for rule in self.rules)

    # --- running ------------------------------------------------------------------------------------------

    def frames(self, tables: TdmTables) -> dict[str, Frame]:
        """Typed frames for the rule checks; CSV-style text in numeric variables becomes numbers."""
        return {domain.upper(): self._frame(domain.upper(), {n: [r.get(n) for r in rows] for n in column_order(rows)},
                                            len(rows))
                for domain, rows in sorted(tables.items())}

    def column_frames(self, tables: Mapping[str, Mapping[str, Sequence[Any]]]) -> dict[str, Frame]:
        """`frames` of tables given by column (domain -> variable -> values; a table without rows has none)."""
        return {domain.upper(): self._frame(domain.upper(), data, len(next(iter(data.values()))) if data else 0)
                for domain, data in sorted(tables.items())}

    def _frame(self, domain: str, data: Mapping[str, Sequence[Any]], length: int) -> Frame:
        columns = {name: self._numbers(values) if name in self.numeric_variables else values
                   for name, values in data.items()}
        return frame_from_columns(domain, columns, length)

    @staticmethod
    def _numbers(values: Sequence[Any]) -> Sequence[Any]:
        """A numeric variable's values with number text read as numbers (other text left as the file says)."""
        if not any(isinstance(v, str) for v in values):
            return values
        return [_number(v) if isinstance(v, str) else v for v in values]

    def run(
        self, tables: TdmTables, *, file: str | None = None, files: Mapping[str, str] | None = None
    ) -> RuleRunReport:
        """Run every rule on the tables. `file`/`files` (domain -> path) only label where problems are."""
        return self.run_frames(self.frames(tables), file=file, files=files)

    def run_frames(
        self, frames: Mapping[str, Frame], *, file: str | None = None, files: Mapping[str, str] | None = None
    ) -> RuleRunReport:
        """`run` on typed frames (`frames` or `column_frames`)."""
        ctx = OperationContext(frames, self.standard_domains, self.unsupported_operations)
        universe = tuple(dict.fromkeys((*TDM_DOMAINS, *frames)))
        results = tuple(self._run_rule(rule, universe, frames, ctx) for rule in self.rules)
        return RuleRunReport(self.standard, self.version, results, file, dict(files or {}))

    def _plan_for(self, rule: CoreRule, universe: tuple[str, ...]) -> RulePlan:
        """`plan_rule`, made once per rule and set of domains (the plan holds its rule: a hit is that rule)."""
        key = (id(rule), universe)
        plan = self._plans.get(key)
        if plan is None or plan.rule is not rule:
            plan = self._plans[key] = self.plan_rule(rule, universe)
        return plan

    def _run_rule(
        self, rule: CoreRule, universe: tuple[str, ...], frames: Mapping[str, Frame], ctx: OperationContext
    ) -> RuleResult:
        plan = self._plan_for(rule, universe)
        if plan.reason is not None:
            return RuleResult(rule, RuleStatus.SKIPPED, plan.reason, plan.detail)
        present = [d for d in plan.domains if d in frames]
        if not present:
            return RuleResult(rule, RuleStatus.SKIPPED, SkipReason.NO_DATASET, f"no {'/'.join(plan.domains)} table")
        outcomes = tuple(self._run_on(rule, frames[d], ctx) for d in present)
        return _aggregate(rule, outcomes)

    def _run_on(self, rule: CoreRule, frame: Frame, ctx: OperationContext) -> DatasetOutcome:
        domain = frame.domain
        try:
            work = frame
            if rule.match_datasets:
                referenced = [resolve_name(v, domain) for v in _comparator_names(rule)]
                work = match_datasets(work, rule.match_datasets, referenced, ctx)
            work = apply_operations(work, rule.operations, ctx)
            mask = evaluate_check(rule.check, work)
        except MissingVariableError as exc:
            return _skipped(domain, SkipReason.MISSING_VARIABLE, f"{', '.join(exc.names)} not in {domain}")
        except MissingDomainError as exc:
            return _skipped(domain, SkipReason.MISSING_DOMAIN, f"needs the {exc.domain} table")
        except NeedsLibraryError as exc:
            return _skipped(domain, SkipReason.NEEDS_LIBRARY, str(exc))
        except (UnsupportedOperatorError, UnsupportedOperationError) as exc:
            return _skipped(domain, SkipReason.OPERATOR, str(exc))
        except RuleEvaluationError as exc:
            return DatasetOutcome(domain, RuleStatus.ERROR, (), None, str(exc))
        findings = self._findings(rule, work, mask)
        return DatasetOutcome(domain, RuleStatus.FAILED if findings else RuleStatus.PASSED, findings)

    def _findings(self, rule: CoreRule, frame: Frame, mask: Sequence[bool]) -> tuple[Finding, ...]:
        hits = [i for i, hit in enumerate(mask) if hit]
        if not hits:
            return ()
        dataset_level = rule.sensitivity == "Dataset"
        if dataset_level:
            hits = hits[:1]
        names = _output_names(rule, frame.domain)
        seq_name = f"{frame.domain}SEQ"
        findings = []
        data = frame.data
        for i in hits:
            values = tuple(
                (name, _display(data[name][i]) if frame.has(name) else "Not in dataset") for name in names
            )
            number = data[ROW_NUMBER][i] if ROW_NUMBER in data else i + 1
            seq = data[seq_name][i] if seq_name in data else None
            usubjid = data["USUBJID"][i] if "USUBJID" in data else None
            findings.append(
                Finding(
                    rule_id=rule.core_id, domain=frame.domain,
                    row=None if dataset_level else int(number) if isinstance(number, int) else i + 1,
                    usubjid=None if dataset_level or usubjid in (None, "") else str(usubjid),
                    seq=seq if not dataset_level and isinstance(seq, int) else None,
                    values=values, message=rule.message.replace("--", frame.domain),
                )
            )
        return tuple(findings)


def _number(value: str) -> Any:
    if not value.strip():
        return value
    try:
        number = float(value)
    except ValueError:
        return value  # not a number: left as text, so the rules see what the file says
    return int(number) if number.is_integer() else number


def _skipped(domain: str, reason: SkipReason, detail: str) -> DatasetOutcome:
    return DatasetOutcome(domain, RuleStatus.SKIPPED, (), reason, detail)


def _aggregate(rule: CoreRule, outcomes: tuple[DatasetOutcome, ...]) -> RuleResult:
    """A rule failed if it failed anywhere; else errored; else passed if it ran anywhere; else skipped."""
    statuses = {o.status for o in outcomes}
    for status in (RuleStatus.FAILED, RuleStatus.ERROR, RuleStatus.PASSED):
        if status in statuses:
            return RuleResult(rule, status, None, "", outcomes)
    reasons = [o.reason for o in outcomes if o.reason is not None]
    reason = reasons[0] if reasons else SkipReason.NO_DATASET
    detail = "; ".join(dict.fromkeys(o.detail for o in outcomes if o.detail))
    return RuleResult(rule, RuleStatus.SKIPPED, reason, detail, outcomes)


def _output_names(rule: CoreRule, domain: str) -> list[str]:
    """The rule's Output Variables, else the variables its conditions test (as the reference engine does)."""
    if rule.output_variables:
        names = [resolve_name(v, domain) for v in rule.output_variables]
    else:
        names = [
            resolve_name(str(c["name"]), domain)
            for c in iter_conditions(rule.check)
            if c.get("operator") != "not_exists" and isinstance(c.get("name"), str)
        ]
    return sorted(dict.fromkeys(names))


def _comparator_names(rule: CoreRule) -> list[str]:
    names = [str(c["name"]) for c in iter_conditions(rule.check) if isinstance(c.get("name"), str)]
    names += [str(c["value"]) for c in iter_conditions(rule.check) if isinstance(c.get("value"), str)]
    return names


def _scope_text(rule: CoreRule) -> str:
    parts = []
    scope = rule.scope
    if scope.include_classes:
        parts.append("classes " + ", ".join(scope.include_classes))
    if scope.include_domains:
        parts.append("domains " + ", ".join(scope.include_domains))
    if scope.exclude_domains:
        parts.append("not " + ", ".join(scope.exclude_domains))
    return "scope: " + "; ".join(parts) if parts else "no Trial Design dataset in scope"
