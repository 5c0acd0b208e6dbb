"""The `study` target: writes `study.json`; claims JSON documents that have the study's `schema_version` and
`source`, and validates them against the study schema."""

from __future__ import annotations

from collections.abc import Mapping

from converters.problems import Problem
from converters.targets.base import PathProbe, ValidateConfig, WriterFactory
from converters.targets.study.schema import StudySchemaValidator
from converters.targets.study.writer import study_writer


class StudyTarget:
    name = "study"
    validated_as = "study"

    def __init__(self) -> None:
        self.writers: Mapping[str, WriterFactory] = {"study": study_writer}

    def usage_errors(self, options: Mapping[str, str]) -> list[str]:
        return []

    def claims(self, probe: PathProbe) -> float:
        """A JSON object with the study's own top-level keys; below a FHIR claim, as a resource stays FHIR."""
        data = probe.json
        return 0.9 if isinstance(data, dict) and "schema_version" in data and "source" in data else 0.0

    def validate(self, probe: PathProbe, config: ValidateConfig) -> list[Problem]:
        data = probe.json
        assert isinstance(data, dict), "validate is only called for a path this target claims"
        return StudySchemaValidator(config.resources).validate(data, file=str(probe.path))
