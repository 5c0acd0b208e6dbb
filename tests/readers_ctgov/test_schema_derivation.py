"""The committed API v2 record schema is exactly what the derivation tool makes from the official spec."""

from __future__ import annotations

import importlib.util
import json
from types import ModuleType

import fastjsonschema
import jsonschema
import pytest

from tests.conftest import ROOT
from tests.readers_ctgov.helpers import CTGOV, v2_records

SPEC = CTGOV / "openapi" / "ctg-oas-v2.yaml"
COMMITTED = ROOT / "schemas" / "ctgov" / "study.schema.json"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("derive_ctgov_schema", ROOT / "tools" / "derive_ctgov_schema.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_schema_is_regenerated_identically() -> None:
    regenerated = _tool().render(SPEC.read_text(encoding="utf-8"))
    assert COMMITTED.read_text(encoding="utf-8") == regenerated, (
        "schemas/ctgov/study.schema.json is stale: run "
        "`python tools/derive_ctgov_schema.py fixtures/ctgov/openapi/ctg-oas-v2.yaml > schemas/ctgov/study.schema.json`"
    )


def test_schema_is_valid_draft7_and_names_its_source() -> None:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    assert "2.0.5" in schema["description"]
    assert "#/components/" not in COMMITTED.read_text(encoding="utf-8"), "every reference was rewritten"


def test_every_fixture_record_conforms_and_a_broken_one_does_not() -> None:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    validate = fastjsonschema.compile(schema)
    records = v2_records()
    for record in records:
        validate(record)
    broken = json.loads(json.dumps(records[0]))
    broken["protocolSection"]["designModule"]["phases"] = ["PHASE7"]
    with pytest.raises(fastjsonschema.JsonSchemaException):
        validate(broken)
    broken = json.loads(json.dumps(records[0]))
    broken["protocolSection"]["statusModule"]["studyFirstSubmitDate"] = "July 29, 2015"
    with pytest.raises(fastjsonschema.JsonSchemaException):
        validate(broken)


def test_derivation_rules() -> None:
    tool = _tool()
    spec = """
openapi: 3.0.3
info: {version: "9.9"}
components:
  schemas:
    Study: {type: object, properties: {a: {$ref: "#/components/schemas/A"}, n: {type: integer, format: int64}}}
    A: {type: string, format: date, enum: [x]}
    Unused: {type: string}
"""
    derived = tool.derive(spec)
    assert set(derived["definitions"]) == {"Study", "A"}, "only what a study record reaches"
    assert derived["definitions"]["Study"]["properties"]["a"] == {"$ref": "#/definitions/A"}
    assert derived["definitions"]["Study"]["properties"]["n"] == {"type": "integer"}, "OpenAPI-only format dropped"
    assert derived["definitions"]["A"]["format"] == "date"
