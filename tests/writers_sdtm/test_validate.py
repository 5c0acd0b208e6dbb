"""The writer's reading of CORE rule findings (the policy of mappings/sdtm/finding-severity.yaml, which `validate`
shares): a finding on a TS record with a null flavour and no value is a warning about the source, the study not
started when the start date is NAV; decided from the runner's structured finding (domain, row), not from the
problem's wording."""

from __future__ import annotations

from typing import Any

import pytest

from converters.model.schedule import derive_schedule
from converters.problems import Problem, Severity
from converters.resources import Resources
from converters.targets.sdtm.checks import OutputValidators
from converters.targets.sdtm.core_rules import CoreRuleRunner, Finding
from converters.targets.sdtm.spec import SdtmSpec
from converters.targets.sdtm.writer import tables_only

from .studies import seed_001_study

Tables = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def validators(resources: Resources) -> OutputValidators:
    return OutputValidators(resources)


def seed_001_tables(spec: SdtmSpec, resources: Resources) -> Tables:
    study = seed_001_study()
    return {name: [dict(r) for r in rows]
            for name, rows in tables_only(study, derive_schedule(study, resources), spec).items()}


def sstdtc_row(tables: Tables) -> int:
    return next(i for i, r in enumerate(tables["TS"], start=1) if r["TSPARMCD"] == "SSTDTC")


def test_a_finding_on_the_start_of_a_study_not_started_is_a_warning_naming_the_rule(
        validators: OutputValidators, spec: SdtmSpec, resources: Resources) -> None:
    tables = seed_001_tables(spec, resources)
    row = sstdtc_row(tables)
    assert tables["TS"][row - 1]["TSVAL"] is None and tables["TS"][row - 1]["TSVALNF"] == "NAV"
    problems = validators.core_rules(tables, {"TS": "csv/ts.csv"}, "sdtm")
    not_started = [p for p in problems if p.code == "sdtm-study-not-started"]
    assert len(not_started) == 1 and not_started[0].severity is Severity.WARNING
    assert not_started[0].message.startswith(
        f"CORE-000505 fires on TS row {row}: SSTDTC has no value yet (NAV) because the study has not started")
    assert not_started[0].location.file == "csv/ts.csv" and not_started[0].location.record == f"TS row {row}"
    assert not [p for p in problems if p.code in ("sdtm-core-rule", "sdtm-write-required-value-absent")]


def test_a_finding_on_a_value_the_source_does_not_state_is_a_warning_naming_the_rule(
        validators: OutputValidators, spec: SdtmSpec, resources: Resources) -> None:
    tables = seed_001_tables(spec, resources)
    row = sstdtc_row(tables)
    tables["TS"][row - 1]["TSVALNF"] = "NI"  # a start date the record does not give, whatever the status
    problems = validators.core_rules(tables, {"TS": "csv/ts.csv"}, "sdtm")
    absent = [p for p in problems if p.code == "sdtm-write-required-value-absent"]
    assert len(absent) == 1 and absent[0].severity is Severity.WARNING
    assert absent[0].message.startswith(f"CORE-000505 fires on TS row {row}: SSTDTC is null-flavoured (NI)")
    assert not [p for p in problems if p.code in ("sdtm-core-rule", "sdtm-study-not-started")]


def test_a_finding_on_a_record_with_no_value_and_no_null_flavour_stays_an_error(
        validators: OutputValidators, spec: SdtmSpec, resources: Resources) -> None:
    tables = seed_001_tables(spec, resources)
    row = sstdtc_row(tables)
    for flavour in (None, "SOON"):  # no reason given, or one that is not an ISO 21090 null flavour
        tables["TS"][row - 1]["TSVALNF"] = flavour
        problems = validators.core_rules(tables, {"TS": "csv/ts.csv"}, "sdtm")
        errors = [p for p in problems if p.severity is Severity.ERROR]
        assert [(p.code, p.location.record) for p in errors] == [("sdtm-core-rule", f"TS row {row}")], flavour


def test_a_finding_on_a_stated_value_stays_an_error(
        validators: OutputValidators, spec: SdtmSpec, resources: Resources) -> None:
    tables = seed_001_tables(spec, resources)
    row = sstdtc_row(tables)
    tables["TS"][row - 1] |= {"TSVAL": "2012-13-06", "TSVALNF": None}
    problems = validators.core_rules(tables, {"TS": "csv/ts.csv"}, "sdtm")
    assert not [p for p in problems if p.code in ("sdtm-write-required-value-absent", "sdtm-study-not-started")]
    errors = [p for p in problems if p.code == "sdtm-core-rule"]
    assert [(p.message.split(" ", 1)[0], p.location.record) for p in errors] == [("CORE-000505", f"TS row {row}")]
    assert errors[0].severity is Severity.ERROR


def test_the_runner_hands_each_finding_with_its_default_problem(spec: SdtmSpec, resources: Resources) -> None:
    tables = seed_001_tables(spec, resources)
    report = CoreRuleRunner(resources).run(tables, file="sdtm")
    seen: list[tuple[Finding, Problem]] = []

    def keep(finding: Finding, problem: Problem) -> Problem:
        seen.append((finding, problem))
        return problem

    assert report.problems(keep) == report.problems()
    assert [(f.rule_id, f.domain, f.row) for f, _ in seen] == [("CORE-000505", "TS", sstdtc_row(tables))]
    assert all(p.code == "sdtm-core-rule" and p.message.startswith(f.rule_id) for f, p in seen)


def test_define_check_of_a_built_tree_reports_what_the_bytes_report(validators: OutputValidators) -> None:
    """A valid built tree spares the re-parse; an invalid one is reported from its bytes, with the line."""
    from lxml import etree

    root = etree.fromstring(b'<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"><Study/></ODM>')
    content = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    error = validators.define_error(content)
    assert error is not None and error.startswith("line ")
    assert validators.define_error(content, root) == error
