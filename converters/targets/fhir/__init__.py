"""FHIR R4 (4.0.1) and R5 (5.0.0) writers: ResearchStudy, PlanDefinition, eligibility Group, parties, sites.

One builder serves both versions (they differ only where the specifications do); see docs/fhir-mapping.md.
"""

from converters.targets.fhir.bundle import BuiltBundle, build_bundle, conditional_url
from converters.targets.fhir.eligibility import CodedDefinition, CriterionCoder, CriterionItem, TextOnlyCoder
from converters.targets.fhir.maps import FhirMaps, FhirVersion
from converters.targets.fhir.writer import FhirWriter, dumps, r4_writer, r5_writer

WRITERS = {"fhir-r4": r4_writer, "fhir-r5": r5_writer}

__all__ = [
    "WRITERS", "BuiltBundle", "CodedDefinition", "CriterionCoder", "CriterionItem", "FhirMaps", "FhirVersion",
    "FhirWriter", "TextOnlyCoder", "build_bundle", "conditional_url", "dumps", "r4_writer", "r5_writer",
]
