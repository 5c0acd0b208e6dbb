"""The `fhir-r4` and `fhir-r5` writers: one bundle per study in `<study>/fhir-r4/bundle.json` (or r5).

Beside each bundle, `bundle.trace.json` maps every output element to the study.json value and the source
location it came from. Each bundle written comes back with a check (`WriteResult.checks`) that validates it, as
built in memory, with the target's validator (`converters.targets.fhir.validator`, loaded on first use); the
pipeline runs it after writing unless validation is turned off.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, Protocol

from converters import jsonio
from converters.model import Study
from converters.problem_codes import core
from converters.problem_codes import fhir_writer as kinds
from converters.problems import Location, Problem
from converters.targets.base import WriterConfig, WriteResult
from converters.targets.bulk import BulkFiles
from converters.targets.fhir.bulk import BulkPart, bulk_part
from converters.targets.fhir.bundle import BuiltBundle, BundleType, build_bundle
from converters.targets.fhir.maps import FhirMaps, FhirVersion

BUNDLE_FILE = "bundle.json"
TRACE_FILE = "bundle.trace.json"
BULK_TRACE_FILE = "trace.ndjson"  # the bulk layout: one study's trace per line
BUNDLE_TYPES: tuple[BundleType, ...] = ("collection", "transaction")


class Validator(Protocol):
    def validate(self, obj: dict[str, Any], *, file: str | None = None) -> list[Problem]: ...


def dumps(document: dict[str, Any]) -> str:
    """The one serialisation of every FHIR output (`converters.jsonio`), as text."""
    return jsonio.dumps_text(document)


def load_validator(version: FhirVersion) -> Validator | str:
    """The project's FHIR validator for this version, or the reason it cannot be loaded."""
    try:
        from converters.targets.fhir.validator import FhirValidator
    except ImportError as exc:
        return f"converters.targets.fhir.validator is not importable ({exc})"
    try:
        validator: Validator = FhirValidator(version)
    except (OSError, ValueError, KeyError) as exc:
        return f"its definitions could not be loaded ({type(exc).__name__}: {exc})"
    return validator


class FhirWriter:
    """Writes one FHIR version; `options['bundle']` picks collection (default) or transaction."""

    def __init__(self, config: WriterConfig, version: FhirVersion) -> None:
        self.version = version
        self.target = f"fhir-{version.lower()}"
        self.config = config
        self.maps = FhirMaps.load(config.resources, version)
        self._validator: Validator | str | None = None
        requested = config.options.get("bundle", "collection")
        self.bundle_type: BundleType = "transaction" if requested == "transaction" else "collection"
        self._option_problem = requested not in BUNDLE_TYPES
        self.bulk = config.options.get("layout") == "bulk"  # NDJSON per resource type (see `bulk`)
        self._bulk_files: BulkFiles | None = None

    def validator(self) -> Validator | str:
        if self._validator is None:
            self._validator = load_validator(self.version)
        return self._validator

    def build(self, study: Study) -> BuiltBundle:
        return build_bundle(study, self.maps, self.config.resources, self.bundle_type)

    def write_study(self, study: Study, study_dir: Path) -> WriteResult:
        built = self.build(study)
        result = WriteResult(problems=list(built.problems))
        where = Location(file=study.source.file, record=study.registry_id() or study.source.record)
        if self._option_problem:
            result.problems.append(kinds.BUNDLE_OPTION_INVALID(where, value=self.config.options.get("bundle")))
        if self.bulk:
            result.shared.append(bulk_part(built.bundle, built.trace, study.registry_id()))
            # the bundle is checked as built; its problems name the study's source (there is no bundle file)
            result.checks.append(partial(self.validate, built.bundle, study.source.file, where))
            return result
        folder = study_dir / self.target
        bundle_path = folder / BUNDLE_FILE
        try:
            folder.mkdir(parents=True, exist_ok=True)
            bundle_path.write_bytes(jsonio.dumps(built.bundle))
            trace_dumps = jsonio.dumps_floatless if built.trace_floatless else jsonio.dumps
            (folder / TRACE_FILE).write_bytes(trace_dumps(built.trace))
        except OSError as exc:
            result.problems.append(core.OUTPUT_WRITE_FAILED(where, what=str(folder), reason=str(exc)))
            return result
        result.files += [bundle_path, folder / TRACE_FILE]
        result.checks.append(partial(self.validate, built.bundle, str(bundle_path), where))
        return result

    def validate(self, bundle: dict[str, Any], file: str, where: Location) -> list[Problem]:
        """The validator's problems with a bundle, or why it could not be validated."""
        validator = self.validator()
        if isinstance(validator, str):
            return [kinds.VALIDATOR_UNAVAILABLE(where, version=self.version, reason=validator)]
        return validator.validate(bundle, file=file)

    def collect(self, payload: object, out_dir: Path) -> WriteResult:
        """Append a study's resources to `<target>/<Type>.ndjson` and its trace to `<target>/trace.ndjson`."""
        if not isinstance(payload, BulkPart):
            return WriteResult()
        if self._bulk_files is None:
            self._bulk_files = BulkFiles(out_dir / self.target)
        result = WriteResult()
        for resource_type, lines in payload.lines.items():
            appended = self._bulk_files.append(f"{resource_type}.ndjson", lines)
            result.files += appended.files
            result.problems += appended.problems
        appended = self._bulk_files.append(BULK_TRACE_FILE, [payload.trace])
        result.files += appended.files
        result.problems += appended.problems
        return result

    def finish(self, out_dir: Path) -> WriteResult:
        if self._bulk_files is not None:
            self._bulk_files.close()
        return WriteResult()


def r4_writer(config: WriterConfig) -> FhirWriter:
    return FhirWriter(config, "R4")


def r5_writer(config: WriterConfig) -> FhirWriter:
    return FhirWriter(config, "R5")
