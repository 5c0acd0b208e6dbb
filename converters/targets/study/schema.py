"""The canonical study's JSON Schema: generated from the model, committed, and checked on every write.

`schemas/study.schema.json` is what users and other tools validate against; a test fails when the
committed file and the model differ (regenerate with `python -m converters.targets.study.schema`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from converters import jsonio
from converters.model import Study
from converters.problem_codes import core
from converters.problems import Location, Problem
from converters.resources import Resources, compiled_schema, rust_accepts

if TYPE_CHECKING:
    import jsonschema

SCHEMA_ID = "https://trialbridge.dev/schemas/study.schema.json"


def generate_study_schema() -> dict[str, Any]:
    """The JSON Schema of `study.json`, from the pydantic model."""
    schema = Study.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def render_study_schema() -> str:
    return jsonio.dumps_text(generate_study_schema())


class StudySchemaValidator:
    """Validates study documents against the committed schema; built once per run.

    jsonschema-rs (compiled once per process, hundreds of times faster) answers whether a document is valid. Only
    one it does not accept goes to the pure-Python jsonschema, which names each problem as before (and may find
    none: Rust is never laxer, sometimes stricter; see `rust_accepts`).
    """

    def __init__(self, resources: Resources) -> None:
        self._schema = resources.schema("study.schema.json")
        self._fast = compiled_schema(self._schema)
        self._slow: jsonschema.Draft202012Validator | None = None

    def validate(self, document: dict[str, Any], file: str | None = None) -> list[Problem]:
        if rust_accepts(self._fast, document):
            return []
        return self._problems(document, file)

    def _problems(self, document: dict[str, Any], file: str | None) -> list[Problem]:
        """Every schema error, named as the pure-Python jsonschema names it (loaded only for an invalid study)."""
        import jsonschema

        if self._slow is None:
            self._slow = jsonschema.Draft202012Validator(self._schema)
        problems = []
        for top in sorted(self._slow.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]):
            # an optional field is `anyOf: [{...}, {type: null}]`: name the error inside the branch that fits best
            branches = [e for e in top.context or () if not (e.validator == "type" and e.validator_value == "null")]
            err = jsonschema.exceptions.best_match(branches) or top if branches else top
            path = "/" + "/".join(str(p) for p in err.absolute_path)
            problems.append(core.STUDY_SCHEMA_INVALID(Location(file=file, path=path), path=path, reason=err.message))
        return problems


if __name__ == "__main__":
    print(render_study_schema(), end="")
