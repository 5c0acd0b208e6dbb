"""Validators built once per test session (building one loads the compiled tables)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from converters.targets.fhir.validator import FhirValidator
from tests.conftest import FIXTURES

EXAMPLES = FIXTURES / "fhir" / "examples"


def example_files(version: str) -> list[Path]:
    """Every fixture of one version (official copies and hand-written ones)."""
    return sorted((EXAMPLES / version.lower()).glob("*/*.json"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def validators() -> dict[str, FhirValidator]:
    return {"R4": FhirValidator("R4"), "R5": FhirValidator("R5")}
