"""docs/cdisc-core-rules.md is generated from the runner's own plan and must match the committed page."""

from __future__ import annotations

from pathlib import Path

from converters.targets.sdtm.core_rules import CoreRuleRunner
from converters.targets.sdtm.core_rules.rules_doc import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "cdisc-core-rules.md"


def test_the_committed_rules_page_matches_the_runner() -> None:
    expected = render(CoreRuleRunner())
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/cdisc-core-rules.md is stale: run "
        "`python -m converters.targets.sdtm.core_rules.rules_doc > docs/cdisc-core-rules.md`"
    )


def test_the_page_lists_every_runnable_rule_and_every_rule_in_the_file() -> None:
    runner = CoreRuleRunner()
    page = DOC.read_text(encoding="utf-8")
    for rule in runner.rules:
        assert f"| {rule.core_id} |" in page
    runnable = [p.rule.core_id for p in runner.plan() if p.reason is None]
    section = page.split("## Rules that run")[1].split("\n## ")[0]
    assert [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| CORE-")] == runnable
