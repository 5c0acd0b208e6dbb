"""Each CORE rule that can run on Trial Design tables fires on a broken table and stays quiet on clean ones."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import pytest

from converters.problems import Severity
from converters.resources import MappingError, Resources
from converters.targets.sdtm.core_rules import CoreRuleRunner, RuleRunReport, RuleStatus, SkipReason, TdmTables

from .rule_cases import BROKEN_CASES, CLEAN_VARIANTS, Case, clean_variant


@cache
def default_runner() -> CoreRuleRunner:
    return CoreRuleRunner()


@pytest.fixture(scope="module")
def runner() -> CoreRuleRunner:
    return default_runner()


def runnable_rule_ids() -> list[str]:
    """Rules the runner's own plan says can run on Trial Design datasets (SDTMIG 3.4, Published, in scope)."""
    return [p.rule.core_id for p in default_runner().plan() if p.reason is None]


def failures(report: RuleRunReport) -> dict[str, set[tuple[str, int | None]]]:
    return {
        r.rule.core_id: {(f.domain, f.row) for f in r.findings}
        for r in report.results
        if r.status is RuleStatus.FAILED
    }


@cache
def _case_expectations() -> dict[str, set[str]]:
    cover: dict[str, set[str]] = {}
    for case in BROKEN_CASES:
        _, expected = case.build()
        for rule_id in expected:
            cover.setdefault(rule_id, set()).add(case.name)
    return cover


def test_the_default_plan_runs_the_published_sdtmig_34_rules_for_trial_design(runner: CoreRuleRunner) -> None:
    plans = runner.plan()
    runnable = [p for p in plans if p.reason is None]
    sdtmig34 = [p for p in plans if p.rule.is_published and p.rule.lists_standard("SDTMIG", "3.4")]
    assert len(plans) == len(runner.rules) > 100
    assert all(p.rule.is_published for p in runnable)
    assert {p.rule.core_id for p in runnable} <= {p.rule.core_id for p in sdtmig34}
    out_of_scope = {p.rule.core_id for p in sdtmig34 if p.reason is SkipReason.OUT_OF_SCOPE}
    # SE, IE and SV rules, and a Findings/Interventions/Events rule: none reads a Trial Design dataset.
    assert out_of_scope == {"CORE-000020", "CORE-000228", "CORE-000784", "CORE-000376"}
    assert len(runnable) + len(out_of_scope) == len(sdtmig34)


def test_every_runnable_rule_has_a_broken_case() -> None:
    covered = _case_expectations()
    missing = [rule_id for rule_id in runnable_rule_ids() if rule_id not in covered]
    assert not missing, f"runnable rules without a broken-table case: {missing}"


def test_every_broken_case_names_only_runnable_rules() -> None:
    runnable = set(runnable_rule_ids())
    for rule_id, cases in _case_expectations().items():
        assert rule_id in runnable, (rule_id, cases)


@pytest.mark.parametrize("variant", sorted(CLEAN_VARIANTS))
def test_no_rule_fails_or_errors_on_clean_tables(runner: CoreRuleRunner, variant: str) -> None:
    report = runner.run(clean_variant(variant))
    assert failures(report) == {}
    assert not report.with_status(RuleStatus.ERROR)
    assert not [p for p in report.problems() if p.severity in (Severity.ERROR, Severity.WARNING, Severity.FATAL)]


@pytest.mark.parametrize("rule_id", runnable_rule_ids())
def test_each_runnable_rule_runs_and_passes_on_some_clean_tables(runner: CoreRuleRunner, rule_id: str) -> None:
    statuses = {name: runner.run(clean_variant(name)).result(rule_id).status for name in CLEAN_VARIANTS}
    assert RuleStatus.PASSED in statuses.values(), statuses


@pytest.mark.parametrize("case", BROKEN_CASES, ids=[c.name for c in BROKEN_CASES])
def test_broken_tables_fail_exactly_the_expected_rules_and_records(runner: CoreRuleRunner, case: Case) -> None:
    tables, expected = case.build()
    report = runner.run(tables)
    assert failures(report) == expected
    assert not report.with_status(RuleStatus.ERROR)


@pytest.mark.parametrize("case", BROKEN_CASES, ids=[c.name for c in BROKEN_CASES])
def test_findings_become_error_problems_naming_the_rule(runner: CoreRuleRunner, case: Case) -> None:
    tables, expected = case.build()
    problems = runner.run(tables, files={"TS": "out/ts.csv"}).problems()
    errors = [p for p in problems if p.code == "sdtm-core-rule"]
    assert {p.severity for p in errors} == {Severity.ERROR}
    assert len(errors) == sum(len(rows) for rows in expected.values())
    for rule_id, rows in expected.items():
        mine = [p for p in errors if p.message.startswith(rule_id)]
        records = {p.location.record for p in mine}
        assert records == {d if r is None else f"{d} row {r}" for d, r in rows}
        message = runner_rule_message(rule_id)
        assert all(message in p.message for p in mine)
    assert all(p.location.file == "out/ts.csv" for p in errors if p.location.record.startswith("TS"))  # type: ignore[union-attr]


def runner_rule_message(rule_id: str) -> str:
    rule = next(r for r in default_runner().rules if r.core_id == rule_id)
    return rule.message


def test_a_failing_record_reports_its_values_and_sequence(runner: CoreRuleRunner) -> None:
    tables, _ = next(c for c in BROKEN_CASES if c.name == "ts-agemax-not-iso-duration").build()
    finding = runner.run(tables).result("CORE-000294").findings[0]
    assert finding.domain == "TS"
    assert finding.seq == 1  # TSSEQ of the record
    assert finding.usubjid is None
    assert dict(finding.values) == {"TSPARMCD": "AGEMAX", "TSVAL": "65 years"}


def test_a_rule_whose_variable_is_absent_is_skipped_never_passed(runner: CoreRuleRunner) -> None:
    tables = clean_variant("msg-v2")
    for row in tables["TS"]:
        del row["TSVAL1"]
    result = runner.run(tables).result("CORE-000151")
    assert result.status is RuleStatus.SKIPPED
    assert result.reason is SkipReason.MISSING_VARIABLE
    assert "TSVAL1" in result.detail


def test_a_rule_on_a_dataset_that_is_not_given_is_skipped(runner: CoreRuleRunner) -> None:
    tables = clean_variant("msg-v2")
    del tables["TE"]
    report = runner.run(tables)
    assert report.result("CORE-000027").reason is SkipReason.NO_DATASET
    # TA's ETCD must exist in TE: without TE the rule cannot be checked, which is not a pass.
    assert report.result("CORE-000173").status is RuleStatus.SKIPPED
    assert report.result("CORE-000173").reason is SkipReason.MISSING_DOMAIN


def test_skipped_applicable_rules_become_info_problems_and_a_summary(runner: CoreRuleRunner) -> None:
    tables = clean_variant("msg-v2")
    problems = runner.run(tables, file="study-1").problems()
    skipped = [p for p in problems if p.code == "sdtm-core-rule-skipped"]
    assert {p.severity for p in skipped} == {Severity.INFO}
    assert any(p.message.startswith("CORE-000249") for p in skipped)  # needs VISITNUM/VISITDY outside TV
    summary = [p for p in problems if p.code == "sdtm-core-rules-summary"]
    assert len(summary) == 1 and summary[0].location.file == "study-1"
    assert "SDTMIG 3.4: 25 ran (25 passed, 0 failed), 1 could not run" in summary[0].message


def test_results_cover_every_rule_in_file_order(runner: CoreRuleRunner) -> None:
    report = runner.run(clean_variant("msg-v2"))
    assert [r.rule.core_id for r in report.results] == [r.core_id for r in runner.rules]
    not_published = [r for r in report.results if not r.rule.is_published]
    assert not_published and all(r.reason is SkipReason.NOT_PUBLISHED for r in not_published)


def test_the_same_tables_give_the_same_problems(runner: CoreRuleRunner) -> None:
    case = next(c for c in BROKEN_CASES if c.name == "ts-value-code-not-one-to-one")
    first = runner.run(case.build()[0]).problems()
    second = runner.run(case.build()[0]).problems()
    assert first == second


def test_another_standard_selects_other_rules() -> None:
    send = CoreRuleRunner(standard="SENDIG", version="3.1")
    runnable = {p.rule.core_id for p in send.plan() if p.reason is None}
    assert "CORE-000509" in runnable  # AGE or AGETXT, not both: a SEND-only rule with record counts
    assert "CORE-000534" in runnable and "CORE-000294" not in runnable
    tables: TdmTables = clean_variant("msg-v2")
    assert send.run(tables).result("CORE-000509").status is RuleStatus.FAILED  # neither AGE nor AGETXT


def test_the_runner_needs_only_the_shipped_data_folders(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    for folder in ("mappings", "schemas"):
        shutil.copytree(repo / folder, tmp_path / folder)
    runner = CoreRuleRunner(Resources(root=tmp_path))
    assert runner.rules_path.is_relative_to(tmp_path)
    assert runner.run(clean_variant("msg-v2")).result("CORE-000041").status is RuleStatus.PASSED
    (runner.rules_path).write_text("- core_id: X\n  rule: {Core: {Id: X}}\n", encoding="utf-8")
    with pytest.raises(MappingError, match="Check"):
        CoreRuleRunner(Resources(root=tmp_path))


def test_classes_and_numeric_variables_are_the_sdtmig_metadata_the_writer_writes_from(
        runner: CoreRuleRunner) -> None:
    assert runner.dataset_classes == dict.fromkeys(("TS", "TA", "TE", "TV", "TI"), "TRIAL DESIGN")
    assert runner.numeric_variables == {"TSSEQ", "TAETORD", "VISITNUM", "VISITDY"}
    assert runner.standard_domains == {"TS", "TA", "TE", "TV", "TI"}
