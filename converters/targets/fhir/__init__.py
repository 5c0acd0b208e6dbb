"""FHIR R4 (4.0.1) and R5 (5.0.0): the writers (ResearchStudy, PlanDefinition, eligibility Group, parties,
sites) and the validator (`validator/`, against the official definitions).

One builder serves both versions (they differ only where the specifications do); see docs/fhir-mapping.md.
"""

from __future__ import annotations

from converters.targets.fhir.bundle import BuiltBundle, build_bundle, conditional_url
from converters.targets.fhir.eligibility import CodedDefinition, CriterionCoder, CriterionItem, TextOnlyCoder
from converters.targets.fhir.maps import FhirMaps, FhirVersion
from converters.targets.fhir.target import FhirTarget
from converters.targets.fhir.writer import FhirWriter, dumps, r4_writer, r5_writer

TARGET = FhirTarget()

__all__ = [
    "TARGET", "BuiltBundle", "CodedDefinition", "CriterionCoder", "CriterionItem", "FhirMaps", "FhirVersion",
    "FhirWriter", "TextOnlyCoder", "build_bundle", "conditional_url", "dumps", "r4_writer", "r5_writer",
]
