"""The five seed pages' R4 and R5 bundles equal their hand-reviewed goldens (tests/golden/fhir/)."""

from __future__ import annotations

import json

import pytest

from .goldens import SEED_GOLDENS, expected_outputs

EXPECTED = expected_outputs() if SEED_GOLDENS.is_dir() else {}


@pytest.mark.skipif(not EXPECTED, reason="no seed study goldens (tests/golden/seeds/*.study.json) yet")
@pytest.mark.parametrize("path", sorted(EXPECTED), ids=lambda p: p.name)
def test_bundle_equals_reviewed_golden(path: object) -> None:
    from pathlib import Path

    assert isinstance(path, Path)
    if not path.exists():
        pytest.skip(f"{path.name} not generated and reviewed yet: run python -m tests.writers_fhir.goldens")
    assert json.loads(EXPECTED[path]) == json.loads(path.read_text(encoding="utf-8"))
