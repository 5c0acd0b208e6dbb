"""The `fhir-r4` and `fhir-r5` targets: one bundle per study (see `writer`); `trialbridge validate` takes any
JSON document with a `resourceType` for FHIR and validates it as R4 or R5 (`validator`, loaded on first use)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from converters.problems import Problem
from converters.targets.base import PathProbe, ValidateConfig, WriterFactory
from converters.targets.fhir.writer import BUNDLE_TYPES, r4_writer, r5_writer


class FhirTarget:
    name = "fhir"
    validated_as = "fhir"

    def __init__(self) -> None:
        self.writers: Mapping[str, WriterFactory] = {"fhir-r4": r4_writer, "fhir-r5": r5_writer}

    def usage_errors(self, options: Mapping[str, str]) -> list[str]:
        if options.get("bundle", "collection") not in BUNDLE_TYPES:
            return ["--bundle must be collection or transaction"]
        return []

    def claims(self, probe: PathProbe) -> float:
        data = probe.json if probe.json is not None else probe.first_line_json  # a resource, or NDJSON of them
        return 1.0 if isinstance(data, dict) and "resourceType" in data else 0.0

    def covers(self, probe: PathProbe) -> frozenset[Path]:
        return frozenset()

    def companion(self, probe: PathProbe) -> str | None:
        """The trace beside a bundle (`bundle.trace.json`, or `trace.ndjson` of the bulk layout, one study's per
        line): its element paths and source, no resourceType. No standard defines it, so it is not validated."""
        data = probe.json if probe.json is not None else probe.first_line_json
        is_trace = (isinstance(data, dict) and "resourceType" not in data and isinstance(data.get("source"), dict)
                    and isinstance(data.get("elements"), list))
        return "fhir-trace" if is_trace else None

    def validate(self, probe: PathProbe, config: ValidateConfig) -> list[Problem]:
        """The file as R4 or R5 (`options['fhir_version']`, else detected from its content); the validators built
        are kept for the next file."""
        from converters.targets.fhir.validator import FhirValidator, validate_fhir_file

        validators: dict[str, FhirValidator] = config.built("fhir-validators", dict)
        return validate_fhir_file(probe.path, config.options.get("fhir_version"), validators=validators)
