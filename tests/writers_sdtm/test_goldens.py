"""The SDTM goldens (tests/golden/sdtm/<stem>/): the writer's CSV tables and define.xml, reviewed by hand.

Seed goldens exist once the registry-page reader has written tests/golden/seeds/<stem>.study.json; until then
only the hand-built studies have goldens, and a seed without its SDTM golden is skipped with the command that
makes it (review it by hand before committing it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .goldens import SDTM_GOLDENS, expected_outputs

EXPECTED = expected_outputs()


@pytest.mark.parametrize("path", sorted(EXPECTED), ids=lambda p: p.relative_to(SDTM_GOLDENS).as_posix())
def test_output_matches_the_reviewed_golden(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"no golden yet: run `.venv/bin/python -m tests.writers_sdtm.goldens`, review {path.parent.name}")
    assert EXPECTED[path].decode("utf-8") == path.read_text(encoding="utf-8")


def test_every_golden_has_a_study() -> None:
    stale = [p for p in SDTM_GOLDENS.rglob("*") if p.is_file() and p.suffix != ".md" and p not in EXPECTED]
    assert not stale, f"goldens without a study: {stale}"
