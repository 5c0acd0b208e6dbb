"""Every output of every golden case equals its hand-reviewed golden under tests/golden/ (see tests/goldens.py).

A missing golden fails (it is never skipped): a golden is made by `.venv/bin/python -m tests.goldens` and then
reviewed by hand. A golden that no case makes any more fails too, so a removed case cannot leave a stale file.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tests.goldens import GOLDEN_ROOT, REGENERATE, golden_files, produce_all

PRODUCED = produce_all()


def _label(path: Path) -> str:
    return path.relative_to(GOLDEN_ROOT).as_posix()


def test_the_golden_cases_cover_seeds_ctgov_json_and_xml() -> None:
    labels = [_label(p) for p in PRODUCED]
    assert sum(1 for label in labels if label.startswith("seeds/")) == 5
    ctgov = {label.split("/")[1] for label in labels if label.startswith("ctgov/")}
    assert len(ctgov) >= 8


@pytest.mark.parametrize("path", sorted(PRODUCED), ids=_label)
def test_output_equals_its_reviewed_golden(path: Path) -> None:
    assert path.exists(), f"no golden {_label(path)}: run `{REGENERATE}`, review the file by hand, commit it"
    expected = path.read_text(encoding="utf-8")
    produced = PRODUCED[path].decode("utf-8")
    if produced != expected:
        diff = difflib.unified_diff(expected.splitlines(), produced.splitlines(), fromfile=f"golden/{_label(path)}",
                                    tofile="output now", lineterm="", n=2)
        pytest.fail(f"output differs from its golden (after checking by hand: `{REGENERATE}`):\n"
                    + "\n".join(list(diff)[:200]))


def test_no_golden_is_stale() -> None:
    stale = [_label(p) for p in golden_files() if p not in PRODUCED]
    assert not stale, f"goldens that no case makes (run `{REGENERATE}` to remove them): {stale}"
