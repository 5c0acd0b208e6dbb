"""The problem catalogue: unique codes, templates that render, and docs/problems.md up to date."""

from __future__ import annotations

import re
import string

from converters.problem_codes import all_kinds, render_markdown
from converters.problems import ExitCode, Problem, Severity, worst_exit_code
from tests.conftest import ROOT


def test_codes_are_unique_and_kebab_case() -> None:
    codes = [k.code for k in all_kinds()]
    assert len(codes) == len(set(codes)), "duplicate problem codes"
    for code in codes:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code), code


def test_every_template_renders_with_its_own_fields() -> None:
    for kind in all_kinds():
        fields = {name for _, name, _, _ in string.Formatter().parse(kind.template) if name}
        problem = kind(None, **{name: "X" for name in fields})
        assert problem.code == kind.code and problem.message


def test_docs_problems_md_is_generated_from_the_catalogue() -> None:
    committed = (ROOT / "docs" / "problems.md").read_text(encoding="utf-8")
    assert committed == render_markdown(all_kinds()), (
        "docs/problems.md is stale: run `python -m converters.problem_codes > docs/problems.md`"
    )


def test_exit_code_follows_the_worst_severity() -> None:
    def p(sev: Severity) -> Problem:
        return Problem(severity=sev, code="c", message="m")

    assert worst_exit_code([]) is ExitCode.OK
    assert worst_exit_code([p(Severity.WARNING), p(Severity.INFO)]) is ExitCode.OK
    assert worst_exit_code([p(Severity.WARNING), p(Severity.ERROR)]) is ExitCode.DATA_ERRORS
    assert worst_exit_code([p(Severity.ERROR), p(Severity.FATAL)]) is ExitCode.UNUSABLE_INPUT
