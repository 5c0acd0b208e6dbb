"""Shared test fixtures: paths and a Resources object over the source tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters.resources import Resources

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SEEDS = FIXTURES / "seeds"


@pytest.fixture(scope="session")
def resources() -> Resources:
    return Resources(root=ROOT)


@pytest.fixture(scope="session")
def seed_pages() -> list[Path]:
    return sorted(SEEDS.glob("*.txt"))
