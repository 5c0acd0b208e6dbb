"""The seed pages' study goldens (tests/golden/seeds/) are valid, traced and complete.

Whether the reader's output equals each golden is checked with every other golden in tests/test_goldens.py;
regenerate all of them with `.venv/bin/python -m tests.goldens` (see tests/goldens.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters.model import study_to_dict, study_to_json
from converters.readers.registry_page import line_coverage
from converters.resources import Resources
from converters.targets.study.schema import StudySchemaValidator
from tests.conftest import ROOT, SEEDS
from tests.readers_page.helpers import mapped_lines_from_text, read_bytes, resolve

GOLDENS = ROOT / "tests" / "golden" / "seeds"
PAGES = sorted(SEEDS.glob("*.txt"))


def _golden_path(page: Path) -> Path:
    return GOLDENS / f"{page.stem}.study.json"


def test_every_seed_page_has_a_golden() -> None:
    assert len(PAGES) == 5
    assert sorted(p.name for p in GOLDENS.glob("*.study.json")) == sorted(_golden_path(p).name for p in PAGES)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_golden_is_valid_against_the_study_schema(page: Path, resources: Resources) -> None:
    document = json.loads(_golden_path(page).read_text(encoding="utf-8"))
    problems = StudySchemaValidator(resources).validate(document, file=page.name)
    assert not problems, [p.one_line() for p in problems]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_provenance_points_at_values_and_every_line_is_accounted_for(page: Path, resources: Resources) -> None:
    study, _ = read_bytes(page.read_bytes(), resources, page.name)
    assert study is not None
    document = study_to_dict(study)
    for pointer in study.provenance:
        resolve(document, pointer)  # raises if the pointer names no value of study.json
    text = page.read_text(encoding="utf-8")
    assert line_coverage(study) == mapped_lines_from_text(study, text)
    used, total = line_coverage(study)
    assert 0 < used <= total == sum(1 for line in text.split("\n") if line.strip())


def test_reading_is_deterministic(resources: Resources) -> None:
    fresh = Resources(root=ROOT)
    for page in PAGES:
        first, _ = read_bytes(page.read_bytes(), resources, page.name)
        second, _ = read_bytes(page.read_bytes(), fresh, page.name)
        assert first is not None and second is not None
        assert study_to_json(first) == study_to_json(second)
