"""`validate_fhir_file`: what `trialbridge validate FILE.json` runs for a FHIR file. Never raises on bad input."""

from __future__ import annotations

import json
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

from converters.problem_codes import core
from converters.problem_codes import fhir_validation as codes
from converters.problems import Location, Problem, Severity
from converters.targets.fhir.validator.definitions import normalise_version
from converters.targets.fhir.validator.detect import detect_version
from converters.targets.fhir.validator.validator import FhirValidator


class _DuplicateKeys:
    """object_pairs_hook that builds dicts and remembers properties given twice (FHIR JSON forbids it)."""

    def __init__(self) -> None:
        self.duplicates: list[str] = []

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                self.duplicates.append(key)
            out[key] = value
        return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_fhir_json(text: str, file: str) -> tuple[Any, list[Problem]]:
    """The parsed document (None if unusable) and the problems of the JSON text itself."""
    hook = _DuplicateKeys()
    try:
        obj = json.loads(text, object_pairs_hook=hook, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        where = Location(file=file, line=exc.lineno)
        return None, [codes.FHIR_JSON_INVALID(where, reason=f"{exc.msg} at line {exc.lineno} column {exc.colno}")]
    except (ValueError, RecursionError) as exc:
        reason = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        return None, [codes.FHIR_JSON_INVALID(Location(file=file), reason=reason)]
    problems = [
        codes.FHIR_JSON_SHAPE(Location(file=file), element=f"'{key}'",
                              reason="a property appears twice in one object; the last one was used")
        for key in dict.fromkeys(hook.duplicates)
    ]
    return obj, problems


def _read_text(path: Path) -> tuple[str | None, list[Problem]]:
    where = Location(file=str(path))
    if not path.exists():
        return None, [core.INPUT_NOT_FOUND(where)]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [core.INPUT_UNREADABLE(where, reason=exc.strerror or type(exc).__name__)]
    if not raw.strip():
        return None, [core.INPUT_EMPTY(where)]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        return None, [codes.FHIR_JSON_INVALID(where, reason=f"it is not UTF-8 (byte {exc.start})")]


def _errors(problems: list[Problem]) -> int:
    return sum(1 for p in problems if p.severity in (Severity.ERROR, Severity.FATAL))


def validate_fhir_file(
    path: str | Path,
    version: str | None = None,
    *,
    validators: MutableMapping[str, FhirValidator] | None = None,
) -> list[Problem]:
    """Validate a FHIR JSON file (a resource or a bundle) as R4 or R5; `version=None` detects it.

    When the version cannot be detected the file is validated as both and the version with fewer errors
    is kept (R4 on a tie), with an info problem saying so. Malformed input gives problems, never an
    exception. To validate many files, pass the same `validators` dict every time (e.g. `{}`): the
    validators built are kept there by version ('R4', 'R5') and reused.
    """
    cache: MutableMapping[str, FhirValidator] = validators if validators is not None else {}

    def validator(label: str) -> FhirValidator:
        found = cache.get(label)
        if found is None:
            found = cache[label] = FhirValidator(label)
        return found

    file = Path(path)
    name = str(path)
    if version is not None and normalise_version(version) is None:
        return [codes.FHIR_VERSION_UNKNOWN(Location(file=name), version=version)]
    text, problems = _read_text(file)
    if text is None:
        return problems
    lines = ndjson_lines(text)
    if lines is not None:
        return [problem for number, line in lines
                for problem in _validate_text(line, name, version, validator, line=number)]
    return _validate_text(text, name, version, validator)


def ndjson_lines(text: str) -> list[tuple[int, str]] | None:
    """The numbered non-blank lines of NDJSON (FHIR Bulk Data: one resource per line), or None when the text is
    one JSON document (its first line alone is not a whole object)."""
    lines = [(number, line) for number, line in enumerate(text.split("\n"), 1) if line.strip()]
    if len(lines) < 2 or not lines[0][1].lstrip().startswith("{"):
        return None
    try:
        first = json.loads(lines[0][1])
    except ValueError:
        return None
    return lines if isinstance(first, dict) else None


def _validate_text(text: str, name: str, version: str | None, validator: Callable[[str], FhirValidator],
                   line: int | None = None) -> list[Problem]:
    """One JSON document's problems; `line` (an NDJSON line) goes into every problem's location."""
    found = _validate_document(text, name, version, validator)
    return found if line is None else [p.with_location(line=line) for p in found]


def _validate_document(text: str, name: str, version: str | None,
                       validator: Callable[[str], FhirValidator]) -> list[Problem]:
    obj, problems = parse_fhir_json(text, name)
    if obj is None:
        return problems
    label = normalise_version(version) if version is not None else detect_version(obj)
    if label is not None:
        return problems + validator(label).validate(obj, file=name)
    as_r4 = validator("R4").validate(obj, file=name)
    as_r5 = validator("R5").validate(obj, file=name)
    chosen, found, other = ("R5", as_r5, "R4") if _errors(as_r5) < _errors(as_r4) else ("R4", as_r4, "R5")
    why = f"nothing in it is specific to one version; it has fewer errors as {chosen} than as {other}"
    if _errors(as_r4) == _errors(as_r5):
        why = "nothing in it is specific to one version, and it has as many errors as either; R4 is the default"
    note = codes.FHIR_VERSION_GUESSED(Location(file=name), version=chosen, why=why)
    return [*problems, note, *found]
