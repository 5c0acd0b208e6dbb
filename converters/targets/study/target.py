"""The `study` target: writes `study.json` (and `study.ndjson`, one study a line, in the bulk layout); claims JSON
documents, or NDJSON lines, that have the study's `schema_version` and `source`, and validates each against the
study schema."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path

from converters.problem_codes import core
from converters.problems import Location, Problem
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
        """A JSON object with the study's own top-level keys (or NDJSON whose first line is one); below a FHIR
        claim, as a resource stays FHIR."""
        data = probe.json if probe.json is not None else probe.first_line_json
        return 0.9 if _is_study(data) else 0.0

    def covers(self, probe: PathProbe) -> frozenset[Path]:
        return frozenset()

    def companion(self, probe: PathProbe) -> str | None:
        return None

    def validate(self, probe: PathProbe, config: ValidateConfig) -> list[Problem]:
        validator = config.built("study-schema", lambda: StudySchemaValidator(config.resources))
        file = str(probe.path)
        data = probe.json
        if isinstance(data, dict):
            return validator.validate(data, file=file)
        problems: list[Problem] = []
        try:
            for number, line in _ndjson_lines(probe.path, config.max_bytes):
                problems += _line_problems(validator, line, Location(file=file, line=number))
        except OSError as exc:
            problems.append(core.INPUT_UNREADABLE(Location(file=file), reason=exc.strerror or str(exc)))
        return problems


def _line_problems(validator: StudySchemaValidator, line: bytes, where: Location) -> list[Problem]:
    """One NDJSON line of studies: not JSON, not an object, or the study's schema problems (with the line)."""
    try:
        document = json.loads(line)
    except (ValueError, RecursionError) as exc:
        reason = f"the line is not JSON ({exc})" if isinstance(exc, ValueError) else "it is nested too deeply"
        return [core.STUDY_SCHEMA_INVALID(where, path="/", reason=reason)]
    if not isinstance(document, dict):
        return [core.STUDY_SCHEMA_INVALID(where, path="/", reason="the line is not a JSON object")]
    return [p.with_location(line=where.line) for p in validator.validate(document, file=where.file)]


def _is_study(data: object) -> bool:
    return isinstance(data, dict) and "schema_version" in data and "source" in data


def _ndjson_lines(path: Path, max_bytes: int) -> Iterator[tuple[int, bytes]]:
    """The numbered non-blank lines of an NDJSON file, read one at a time (a bulk file is never held whole)."""
    with path.open("rb") as handle:
        for number, line in enumerate(iter(lambda: handle.readline(max_bytes), b""), start=1):
            if line.strip():
                yield number, line
