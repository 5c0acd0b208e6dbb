"""Fixtures for the SDTM writer tests: the loaded mapping spec, a validating writer, written packages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from converters.model import Study
from converters.resources import Resources
from converters.targets.base import WriterConfig, WriteResult
from converters.targets.sdtm import SdtmWriter
from converters.targets.sdtm.spec import SdtmSpec, load_spec


@pytest.fixture(scope="session")
def spec(resources: Resources) -> SdtmSpec:
    return load_spec(resources)


@pytest.fixture(scope="session")
def writer(resources: Resources) -> SdtmWriter:
    return SdtmWriter(WriterConfig(resources=resources))


@pytest.fixture()
def write(tmp_path: Path, writer: SdtmWriter) -> Callable[[Study], tuple[Path, WriteResult]]:
    """Write one study's package (all formats, validated) into a fresh folder; returns its sdtm/ folder."""
    def _write(study: Study) -> tuple[Path, WriteResult]:
        folder = tmp_path / "study"
        folder.mkdir(exist_ok=True)
        result = writer.write_study(study, folder).checked()
        return folder / "sdtm", result
    return _write
