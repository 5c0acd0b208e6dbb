"""Fixtures for the FHIR writer tests: maps per version and a builder of bundles."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from converters.model import Study
from converters.resources import Resources
from converters.targets.fhir import BuiltBundle, FhirMaps, build_bundle


@pytest.fixture(scope="session")
def fhir_maps(resources: Resources) -> dict[str, FhirMaps]:
    return {v: FhirMaps.load(resources, v) for v in ("R4", "R5")}  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def build(resources: Resources, fhir_maps: dict[str, FhirMaps]) -> Callable[..., BuiltBundle]:
    def _build(study: Study, version: str = "R4", bundle_type: str = "collection") -> BuiltBundle:
        return build_bundle(study, fhir_maps[version], resources, bundle_type)  # type: ignore[arg-type]

    return _build
