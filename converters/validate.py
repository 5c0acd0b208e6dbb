"""`trialbridge validate PATH`: decide what a file or folder is, and run the matching validator.

Each output target is asked whether the path is one of its outputs (`Target.claims`: a folder of SDTM Trial
Design tables, a FHIR resource or bundle, a canonical `study.json`), and the most confident one validates it.
Anything no target claims is read as a registry record with the reader that recognises it, which validates
it against its own schema (ct.gov JSON Schema, public.xsd); the study read from it is checked against the
study schema. This module sits beside the pipeline: it may use the readers, the targets never do.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from converters.loading import load_document
from converters.model import study_to_dict
from converters.problem_codes import core
from converters.problems import Location, Problem
from converters.readers import ReaderConfig, choose_reader, discover_readers, unrecognised_input
from converters.resources import Resources
from converters.targets import PathProbe, ValidateConfig, claiming_target, discover_targets
from converters.targets.study.schema import StudySchemaValidator


def validate_path(path: Path, resources: Resources, *, options: Mapping[str, str] | None = None,
                  max_bytes: int = 100 * 1024 * 1024) -> tuple[str, list[Problem]]:
    """Validate one file or folder; return what it was taken for and the problems found.

    `options` are target-specific (`fhir_version`: R4 or R5 instead of detecting it)."""
    probe = PathProbe(path, max_bytes)
    target = claiming_target(probe, discover_targets())
    if target is not None:
        config = ValidateConfig(resources=resources, options=dict(options or {}), max_bytes=max_bytes)
        return target.validated_as, target.validate(probe, config)
    return validate_record(path, resources, max_bytes=max_bytes)


def validate_named(resources: Resources, path: Path, *, options: Mapping[str, str] | None = None
                   ) -> tuple[str, list[Problem]]:
    """What `trialbridge validate` reports for one path named: `missing` when it does not exist, else as
    `validate_path`. Resources first, so a worker pool can hand in its own (`pipeline.ordered_map`)."""
    if not path.exists():
        return "missing", [core.INPUT_NOT_FOUND(Location(file=str(path)))]
    return validate_path(path, resources, options=options)


def validate_record(path: Path, resources: Resources, *, max_bytes: int) -> tuple[str, list[Problem]]:
    """Read a registry record with the reader that recognises it: its problems and its study's schema problems."""
    loaded = load_document(path, max_bytes)
    if isinstance(loaded, Problem):
        return "unknown", [loaded]
    reader = choose_reader(loaded, discover_readers())
    if reader is None:
        return "unknown", [unrecognised_input(loaded, None, resources)]
    problems: list[Problem] = []
    validator = StudySchemaValidator(resources)
    for outcome in reader.read(loaded, ReaderConfig(resources=resources, max_bytes=max_bytes)):
        problems.extend(outcome.problems)
        if outcome.study is not None:
            problems.extend(outcome.study.problems)
            problems.extend(validator.validate(study_to_dict(outcome.study), file=str(path)))
    return reader.name, [p if p.location.file else p.with_location(file=str(path)) for p in problems]
