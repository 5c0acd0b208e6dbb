"""`trialbridge validate PATH`: decide what a file or folder is, and run the matching validator.

- a folder of SDTM trial design tables (ts/ta/te/tv/ti as CSV, Dataset-JSON or XPT) -> CDISC checks;
- a FHIR resource or Bundle (JSON with `resourceType`) -> the FHIR validator (R4 or R5);
- a canonical `study.json` -> schemas/study.schema.json;
- anything else -> read it as a registry record with the matching reader, which validates it against its
  own schema (ct.gov JSON Schema, public.xsd) and reports what it finds.
"""

from __future__ import annotations

import json
from pathlib import Path

from converters.model import study_to_dict
from converters.problems import Problem
from converters.readers import ReaderConfig, choose_reader, discover_readers, unrecognised_input
from converters.resources import Resources
from converters.validation.study_schema import StudySchemaValidator

_TDM_STEMS = {"ts", "ta", "te", "tv", "ti"}
_TDM_SUFFIXES = {".csv", ".json", ".xpt"}


def is_tdm_folder(path: Path) -> bool:
    """A folder holding TDM tables, directly or in format sub-folders (`sdtm/csv/ts.csv`)."""
    return path.is_dir() and any(
        p.stem.lower() in _TDM_STEMS and p.suffix.lower() in _TDM_SUFFIXES for p in path.rglob("*")
    )


def _peek_json(path: Path, limit: int) -> object | None:
    try:
        if path.stat().st_size > limit:
            return None
        data: object = json.loads(path.read_bytes())
        return data
    except (OSError, ValueError, RecursionError):
        return None


def validate_path(path: Path, resources: Resources, *, fhir_version: str | None = None,
                  max_bytes: int = 100 * 1024 * 1024) -> tuple[str, list[Problem]]:
    """Validate one file or folder; return what it was taken for and the problems found."""
    from converters.loading import load_document

    if is_tdm_folder(path):
        from converters.validation.sdtm import validate_tdm_folder

        return "sdtm-tdm", validate_tdm_folder(path, resources)
    data = _peek_json(path, max_bytes) if path.is_file() else None
    if isinstance(data, dict) and "resourceType" in data:
        from converters.validation.fhir import validate_fhir_file

        return "fhir", validate_fhir_file(path, fhir_version)
    if isinstance(data, dict) and "schema_version" in data and "source" in data:
        return "study", StudySchemaValidator(resources).validate(data, file=str(path))
    loaded = load_document(path, max_bytes)
    if isinstance(loaded, Problem):
        return "unknown", [loaded]
    reader = choose_reader(loaded, discover_readers())
    if reader is None:
        return "unknown", [unrecognised_input(loaded, None)]
    problems: list[Problem] = []
    validator = StudySchemaValidator(resources)
    for outcome in reader.read(loaded, ReaderConfig(resources=resources, max_bytes=max_bytes)):
        problems.extend(outcome.problems)
        if outcome.study is not None:
            problems.extend(outcome.study.problems)
            problems.extend(validator.validate(study_to_dict(outcome.study), file=str(path)))
    return reader.name, [p if p.location.file else p.with_location(file=str(path)) for p in problems]

