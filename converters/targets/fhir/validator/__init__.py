"""Validate FHIR R4 (4.0.1) and R5 (5.0.0) JSON against the official definitions, offline and fast.

Public API (everything else in this package is internal):

- `FhirValidator(version: str)` — build once per version ('R4' or 'R5'; '4.0.1', '5.0.0' also accepted)
  and reuse. Raises `ValueError` for an unknown version (a programming error).
- `FhirValidator.validate(obj: dict, *, file: str | None = None) -> list[Problem]` — every problem of one
  resource or bundle; an empty list means valid. Never raises for bad data.
- `validate_fhir_file(path, version: str | None = None) -> list[Problem]` — for
  `trialbridge validate FILE.json`: reads and parses the file (malformed JSON is a problem, never an
  exception) and detects the version when none is given.
- `detect_version(obj) -> "R4" | "R5" | None` — what only one version has (see `detect.py`).
- `validate_resource(resource, version)` / `validate_bundle(bundle, version)` — one-off conveniences that
  build a validator per call.

What is checked, from the official packages compiled into `defs/` (see `defs/README.md`):
unknown elements; cardinality (min/max from the StructureDefinitions, choice types counted together);
the JSON shape (arrays, objects, `null`, `_name` companions); primitive values (JSON type, the official
regex, real calendar dates, 32-bit integers); required bindings against the expanded official value sets
(value sets from external terminologies are reported as `fhir-binding-skipped`); the invariants of every
StructureDefinition reached (FHIRPath via fhirpathpy, a few natively; any that cannot be evaluated is
reported as `fhir-invariant-skipped`, never passed); reference target types; and, in bundles, that every
reference resolves inside the bundle. Each problem's `location.path` is the FHIRPath of the element,
e.g. `Bundle.entry[3].resource.ofType(ResearchStudy).status`; codes are in
`converters/problem_codes/fhir_validation.py`.
"""

from converters.targets.fhir.validator.detect import detect_version
from converters.targets.fhir.validator.files import validate_fhir_file
from converters.targets.fhir.validator.validator import FhirValidator, validate_bundle, validate_resource

__all__ = ["FhirValidator", "detect_version", "validate_bundle", "validate_fhir_file", "validate_resource"]
