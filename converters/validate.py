"""`trialbridge validate PATH...`: decide what each file or folder is, and run the matching validator.

A folder named is walked (`validation_units`), and each thing in it is checked and reported on its own, by what
it holds, never by its name: each output target is asked whether a path is one of its outputs (`Target.claims`:
a folder holding one set of SDTM Trial Design tables, a FHIR resource, bundle or NDJSON of them, a canonical
`study.json` or `study.ndjson`), and the most confident one validates it; a claimed folder's other files and
subfolders are walked too (`Target.covers` says which it reads itself). A file a target writes beside its outputs
that no standard defines (the FHIR trace) and the run report of `convert` are listed as not checked. Anything else
is read as a registry record with the reader that recognises it, which validates it against its own schema
(ct.gov JSON Schema, public.xsd); the study read from it is checked against the study schema. A file found in a
walk that no reader recognises is skipped and listed (one stray README does not fail a folder); named on the
command line, it is unusable input. So `validate out/` checks every study `convert` wrote: study.json, each FHIR
bundle, each set of SDTM tables. This module sits beside the pipeline: it may use the readers, the targets never
do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from converters.loading import load_document
from converters.model import study_to_dict
from converters.problem_codes import core, validation
from converters.problems import Location, Problem
from converters.readers import ReaderConfig, choose_reader, discover_readers, unrecognised_input
from converters.resources import Resources
from converters.targets import PathProbe, Target, ValidateConfig, claiming_target, discover_targets
from converters.targets.study.schema import StudySchemaValidator

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
RUN_REPORT = "run-report"
SKIPPED = "skipped"


@dataclass(frozen=True)
class ValidationUnit:
    """One thing `trialbridge validate` checks and reports on its own: a path named on the command line, or a
    file or set of tables found walking a folder named (`named` False: an unknown file there is skipped)."""

    path: Path
    named: bool = True


def validation_config(resources_root: Path, options: Mapping[str, str] | None = None,
                      max_bytes: int = DEFAULT_MAX_BYTES) -> ValidateConfig:
    """The config of one validate command in one process (a worker pool builds one per worker)."""
    return ValidateConfig(resources=Resources(resources_root), options=dict(options or {}), max_bytes=max_bytes)


def validation_units(paths: Iterable[Path], targets: Mapping[str, Target] | None = None,
                     max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[ValidationUnit]:
    """Each path named, with every folder named walked (sorted, hidden entries skipped, symlinked folders not
    followed): a folder a target claims is one unit, then the entries it does not read; every file is one."""
    known = targets if targets is not None else discover_targets()
    for path in paths:
        if path.is_dir():
            yield from _walk(path, known, max_bytes, named=True)
        else:
            yield ValidationUnit(path)


def _walk(folder: Path, targets: Mapping[str, Target], max_bytes: int, *, named: bool) -> Iterator[ValidationUnit]:
    probe = PathProbe(folder, max_bytes)
    target = claiming_target(probe, targets)
    covered: frozenset[Path] = frozenset()
    if target is not None:
        yield ValidationUnit(folder, named)
        covered = target.covers(probe)
    try:
        children = sorted(folder.iterdir())
    except OSError:
        children = []
        if target is None:
            yield ValidationUnit(folder, named)  # unreadable: validating it says why
    for child in children:
        if child.name.startswith(".") or child in covered:
            continue
        if child.is_dir():
            if not child.is_symlink():
                yield from _walk(child, targets, max_bytes, named=False)
        elif child.is_file():
            yield ValidationUnit(child, named=False)


def validate_unit(config: ValidateConfig, unit: ValidationUnit) -> tuple[str, list[Problem]]:
    """What `trialbridge validate` reports for one unit: what it was taken for and its problems. Config first, so
    a worker pool hands in its own (`pipeline.ordered_map`)."""
    path = unit.path
    if not path.exists():
        return "missing", [core.INPUT_NOT_FOUND(Location(file=str(path)))]
    targets = config.built("targets", discover_targets)
    probe = PathProbe(path, config.max_bytes)
    target = claiming_target(probe, targets)
    if target is not None:
        return target.validated_as, target.validate(probe, config)
    companion = next((kind for t in targets.values() if (kind := t.companion(probe)) is not None), None)
    if companion is None and _is_run_report(probe.json):
        companion = RUN_REPORT
    if companion is not None:
        return companion, [validation.VALIDATE_NOT_CHECKED(Location(file=str(path)), what=companion)]
    kind, problems = validate_record(path, config.resources, max_bytes=config.max_bytes,
                                     validator=config.built("study-schema",
                                                            lambda: StudySchemaValidator(config.resources)))
    if not unit.named and [p.code for p in problems] == [core.INPUT_FORMAT_UNKNOWN.code]:
        return SKIPPED, [validation.VALIDATE_FILE_SKIPPED(Location(file=str(path)), reason=problems[0].message)]
    return kind, problems


def validate_path(path: Path, resources: Resources, *, options: Mapping[str, str] | None = None,
                  max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[str, list[Problem]]:
    """Validate one file or folder as `trialbridge validate` does when it is named and claimed or a file; return
    what it was taken for and the problems found. `options` are target-specific (`fhir_version`: R4 or R5
    instead of detecting it)."""
    config = ValidateConfig(resources=resources, options=dict(options or {}), max_bytes=max_bytes)
    return validate_unit(config, ValidationUnit(path))


def validate_record(path: Path, resources: Resources, *, max_bytes: int,
                    validator: StudySchemaValidator | None = None) -> tuple[str, list[Problem]]:
    """Read a registry record with the reader that recognises it: its problems and its study's schema problems."""
    loaded = load_document(path, max_bytes)
    if isinstance(loaded, Problem):
        return "unknown", [loaded]
    reader = choose_reader(loaded, discover_readers())
    if reader is None:
        return "unknown", [unrecognised_input(loaded, None, resources)]
    problems: list[Problem] = []
    schema = validator or StudySchemaValidator(resources)
    for outcome in reader.read(loaded, ReaderConfig(resources=resources, max_bytes=max_bytes)):
        problems.extend(outcome.problems)
        if outcome.study is not None:
            problems.extend(outcome.study.problems)
            problems.extend(schema.validate(study_to_dict(outcome.study), file=str(path)))
    return reader.name, [p if p.location.file else p.with_location(file=str(path)) for p in problems]


def _is_run_report(data: object) -> bool:
    """`report.json` of `trialbridge convert`: the tool's name, the totals and one entry per input file."""
    if not isinstance(data, dict):
        return False
    tool = data.get("tool")
    return (isinstance(tool, dict) and tool.get("name") == "trialbridge" and isinstance(data.get("totals"), dict)
            and isinstance(data.get("files"), list))
