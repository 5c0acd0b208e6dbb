"""`validate` of a folder of Trial Design tables reports a CORE finding as `convert` does: one policy
(mappings/sdtm/finding-severity.yaml), decided from the tables alone (no study.json beside them). A study that has
not started says so in TS itself: SSTDTC null-flavoured NAV (the value will exist later)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from converters.problems import Problem, Severity, worst_exit_code
from converters.resources import Resources
from converters.targets.sdtm.folders import validate_tdm_folder

from .rule_cases import MSG_V2

SSTDTC = ",SSTDTC,Study Start Date,2012-10-06,,,ISO 8601,"


def _tables_with_start(tmp_path: Path, record: str) -> Path:
    """The clean CDISC pilot tables, with the SSTDTC record of TS replaced."""
    folder = tmp_path / "tables"
    shutil.copytree(MSG_V2, folder)
    ts = folder / "ts.csv"
    text = ts.read_text(encoding="utf-8")
    assert SSTDTC in text
    ts.write_text(text.replace(SSTDTC, record), encoding="utf-8")
    return folder


def _start_findings(problems: list[Problem]) -> list[tuple[str, Severity]]:
    return [(p.code, p.severity) for p in problems if "CORE-000505" in p.message]


@pytest.mark.parametrize(("record", "expected"), [
    # not started: no actual start date can exist yet
    (",SSTDTC,Study Start Date,,NAV,,,", ("sdtm-study-not-started", Severity.WARNING)),
    # the source does not state it (a started study whose record lacks the date)
    (",SSTDTC,Study Start Date,,NI,,,", ("sdtm-write-required-value-absent", Severity.WARNING)),
    # no value and no reason: an error in the tables
    (",SSTDTC,Study Start Date,,,,,", ("sdtm-core-rule", Severity.ERROR)),
    # a value that is not a date: an error in the tables
    (",SSTDTC,Study Start Date,2012-10-36,,,ISO 8601,", ("sdtm-core-rule", Severity.ERROR)),
])
def test_a_start_date_finding_gets_the_verdict_convert_gives(tmp_path: Path, resources: Resources, record: str,
                                                            expected: tuple[str, Severity]) -> None:
    problems = validate_tdm_folder(_tables_with_start(tmp_path, record), resources)
    assert _start_findings(problems) == [expected]
    assert worst_exit_code(problems) == (1 if expected[1] is Severity.ERROR else 0)


def test_the_policy_file_sets_the_severity(tmp_path: Path, resources: Resources) -> None:
    """Stewards change the verdict in the mapping file, for both commands at once; no code changes."""
    root = tmp_path / "data"
    shutil.copytree(resources.mappings_dir, root / "mappings")
    shutil.copytree(resources.schemas_dir, root / "schemas")
    policy = root / "mappings" / "sdtm" / "finding-severity.yaml"
    stated = "  null_flavors: [NAV]\n  severity: warning\n"
    text = policy.read_text(encoding="utf-8")
    assert stated in text
    policy.write_text(text.replace(stated, stated.replace("warning", "error")), encoding="utf-8")
    problems = validate_tdm_folder(_tables_with_start(tmp_path, ",SSTDTC,Study Start Date,,NAV,,,"), Resources(root))
    assert _start_findings(problems) == [("sdtm-study-not-started", Severity.ERROR)]
