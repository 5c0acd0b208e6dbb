"""Derive the JSON Schema of one ClinicalTrials.gov API v2 study record from the official OpenAPI spec.

    python tools/derive_ctgov_schema.py fixtures/ctgov/openapi/ctg-oas-v2.yaml > schemas/ctgov/study.schema.json

The OpenAPI 3.0 `components.schemas` section already is (almost) JSON Schema. The steps, all mechanical:

1. keep only the component schemas reachable from `Study` (the search/statistics schemas are not records);
2. rewrite `$ref: #/components/schemas/X` to `#/definitions/X` (JSON Schema draft-07, which both
   fastjsonschema and jsonschema implement fully);
3. keep the validation keywords (type, properties, items, enum, required, additionalProperties, pattern,
   minLength, maxLength, minimum, maximum, anyOf) and `description`/`title`;
4. keep `format: date` (a JSON Schema format); drop the OpenAPI-only numeric formats (int32, int64, float,
   double), which JSON Schema does not define;
5. nothing is added or tightened: where the spec allows unknown properties, so does the schema.

A test regenerates the schema from the copy of the spec in `fixtures/ctgov/openapi/` and fails on a difference.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

SCHEMA_ID = "https://trialbridge.dev/schemas/ctgov/study.schema.json"
ROOT_SCHEMA = "Study"
_KEEP = (
    "title", "description", "type", "properties", "items", "enum", "required", "additionalProperties",
    "pattern", "minLength", "maxLength", "minimum", "maximum", "anyOf", "format",
)
_JSON_SCHEMA_FORMATS = {"date", "date-time", "email", "uri"}
_REF_PREFIX = "#/components/schemas/"


def _refs(node: Any) -> list[str]:
    """Names of the component schemas a schema fragment refers to."""
    found: list[str] = []
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
            found.append(ref[len(_REF_PREFIX):])
        for value in node.values():
            found.extend(_refs(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_refs(value))
    return found


def reachable(components: dict[str, Any], root: str) -> list[str]:
    """Component names reachable from `root`, sorted for a stable output."""
    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in components:
            raise KeyError(f"the spec refers to a missing schema {name!r}")
        seen.add(name)
        todo.extend(_refs(components[name]))
    return sorted(seen)


def convert(node: Any) -> Any:
    """One OpenAPI schema object as a JSON Schema draft-07 object (see the module docstring)."""
    if isinstance(node, list):
        return [convert(value) for value in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith(_REF_PREFIX):
            raise ValueError(f"unsupported reference {ref!r}")
        return {"$ref": "#/definitions/" + ref[len(_REF_PREFIX):]}
    out: dict[str, Any] = {}
    for key in _KEEP:
        if key not in node:
            continue
        value = node[key]
        if key == "format" and value not in _JSON_SCHEMA_FORMATS:
            continue
        if key == "properties":
            out[key] = {name: convert(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "anyOf"):
            out[key] = convert(value)
        else:
            out[key] = value
    return out


def derive(spec_text: str) -> dict[str, Any]:
    """The study-record JSON Schema for an OpenAPI spec given as YAML text."""
    spec = yaml.safe_load(spec_text)
    components: dict[str, Any] = spec["components"]["schemas"]
    version = str(spec.get("info", {}).get("version", "unknown"))
    digest = hashlib.sha256(spec_text.encode("utf-8")).hexdigest()
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "ClinicalTrials.gov API v2 study record",
        "description": (
            f"Derived from the ClinicalTrials.gov REST API OpenAPI spec version {version} "
            f"(ctg-oas-v2.yaml, sha256 {digest}) by tools/derive_ctgov_schema.py. Do not edit by hand."
        ),
        "allOf": [{"$ref": f"#/definitions/{ROOT_SCHEMA}"}],
        "definitions": {name: convert(components[name]) for name in reachable(components, ROOT_SCHEMA)},
    }


def render(spec_text: str) -> str:
    return json.dumps(derive(spec_text), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: derive_ctgov_schema.py CTG-OAS-V2.YAML > schemas/ctgov/study.schema.json\n")
        return 2
    sys.stdout.write(render(Path(argv[1]).read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
