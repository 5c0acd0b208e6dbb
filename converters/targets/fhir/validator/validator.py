"""`FhirValidator`: validation of FHIR JSON against the official definitions of one FHIR version."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from converters.problem_codes import fhir_validation as codes
from converters.problems import Location, Problem
from converters.targets.fhir.validator.definitions import DEFS_DIR, Definitions, load_table, normalise_version
from converters.targets.fhir.validator.invariants import Engine, engine_options
from converters.targets.fhir.validator.walker import Collector, Walker


class FhirValidator:
    """Checks FHIR JSON resources and bundles against the official R4 4.0.1 or R5 5.0.0 definitions.

    Build one per version and reuse it: construction loads the compiled tables (tens of milliseconds);
    specs, primitive checkers and parsed invariants are then made the first time they are needed and
    kept on this instance. An instance is not shared between threads.
    """

    def __init__(self, version: str, *, defs_dir: Path | None = None) -> None:
        label = normalise_version(version)
        if label is None:
            raise ValueError(f"unknown FHIR version {version!r}; use 'R4' or 'R5'")
        self.version = label
        self.definitions = Definitions(load_table(label, defs_dir or DEFS_DIR))
        self._walker = Walker(self.definitions, Engine(self.definitions.fhirpath_model(), engine_options()))

    @property
    def fhir_version(self) -> str:
        """The exact FHIR version, e.g. '4.0.1'."""
        return self.definitions.version

    def validate(self, obj: Any, *, file: str | None = None) -> list[Problem]:
        """Every problem of one resource or bundle (an empty list when it is valid).

        Problems are values, in document order; nothing is raised for bad data. `file` is copied into
        each problem's location.
        """
        collector = Collector(file)
        if not isinstance(obj, Mapping):
            return [
                codes.FHIR_NOT_A_RESOURCE(
                    Location(file=file), what="document", reason=f"it is a JSON {type(obj).__name__}, not an object"
                )
            ]
        try:
            self._walker.resource(obj, "", collector)
        except RecursionError:
            collector.problems.append(
                codes.FHIR_JSON_SHAPE(Location(file=file), element="document", reason="it is nested too deeply")
            )
        return collector.problems


def validate_resource(resource: Mapping[str, Any], version: str) -> list[Problem]:
    """Validate one resource (a one-off: build a `FhirValidator` to validate many)."""
    return FhirValidator(version).validate(resource)


def validate_bundle(bundle: Mapping[str, Any], version: str) -> list[Problem]:
    """Validate a Bundle, its entries and the resolution of its references (a one-off, like above)."""
    if bundle.get("resourceType") != "Bundle":
        return [
            codes.FHIR_NOT_A_RESOURCE(
                Location(path=str(bundle.get("resourceType", "$this"))),
                what="document", reason="a Bundle was expected",
            )
        ]
    return FhirValidator(version).validate(bundle)
