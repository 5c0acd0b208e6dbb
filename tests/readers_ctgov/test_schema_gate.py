"""The schema check answers exactly as fastjsonschema does, although jsonschema-rs answers first.

jsonschema-rs is only trusted when it accepts a record, so it must never accept what fastjsonschema refuses:
these tests run both over every fixture record, over values at the edges of the schema's types, formats and
patterns, and over seeded mutations of the fixtures.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import fastjsonschema
import jsonschema_rs
import pytest

from converters.readers.ctgov_v2.record import SCHEMA, V2RecordConverter
from converters.resources import Resources
from tests.readers_ctgov.helpers import random_slot, v2_records

RECORDS = v2_records()
ENROLLMENT = ("protocolSection", "designModule", "enrollmentInfo", "count")
MIN_AGE = ("protocolSection", "eligibilityModule", "minimumAge")
FIRST_SUBMITTED = ("protocolSection", "statusModule", "studyFirstSubmitDate")
TITLE = ("protocolSection", "identificationModule", "briefTitle")
EDGES: list[tuple[tuple[str, ...], Any]] = [
    (ENROLLMENT, 3.0), (ENROLLMENT, 3.5), (ENROLLMENT, 10**40), (ENROLLMENT, -(10**40)), (ENROLLMENT, True),
    (ENROLLMENT, float("nan")), (ENROLLMENT, float("inf")), (ENROLLMENT, "3"), (ENROLLMENT, None),
    (MIN_AGE, "18 Years"), (MIN_AGE, "18 Years\n"), (MIN_AGE, "١٨ Years"), (MIN_AGE, "18 years"), (MIN_AGE, "N/A"),
    (FIRST_SUBMITTED, "2000-02-29"), (FIRST_SUBMITTED, "1900-02-29"), (FIRST_SUBMITTED, "2020-02-30"),
    (FIRST_SUBMITTED, "2020-02"), (FIRST_SUBMITTED, "2020-01-01\n"), (FIRST_SUBMITTED, "２０２０-01-01"),
    (FIRST_SUBMITTED, "2020-1-1"), (FIRST_SUBMITTED, 20200101),
    (TITLE, "\ud800 lone surrogate"), (TITLE, "nul \x00 inside"), (TITLE, ["a list"]), (TITLE, {"an": "object"}),
]


@pytest.fixture(scope="module")
def converter(resources: Resources) -> V2RecordConverter:
    return V2RecordConverter(resources)


@pytest.fixture(scope="module")
def validators(resources: Resources) -> tuple[Any, Any]:
    schema = resources.schema(SCHEMA)
    return fastjsonschema.compile(schema), jsonschema_rs.Draft7Validator(schema, validate_formats=True, offline=True)


def _fast_accepts(fast: Any, record: Any) -> bool:
    try:
        fast(record)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _rust_accepts(rust: Any, record: Any) -> bool:
    try:
        return bool(rust.is_valid(record))
    except ValueError:  # a value it cannot take: it has not accepted the record
        return False


def _with(record: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(record)
    node = out
    for step in path[:-1]:
        node = node.setdefault(step, {})
    node[path[-1]] = value
    return out


def _mutations(count: int, seed: int) -> list[Any]:
    rng = random.Random(seed)
    values: list[Any] = ["", "x", 0, -1, 2.5, True, None, [], {}, ["x"], {"a": 1}, "2020-01-01", "2020-13-01",
                         "RECRUITING", "Recruiting", "18 Years", "١٨ Years", 10**30]
    out = []
    for _ in range(count):
        record = copy.deepcopy(rng.choice(RECORDS))
        for _ in range(rng.randint(1, 4)):
            slot = random_slot(record, rng, 0.7)  # a random container, then replace one of its values
            if slot is not None:
                node, key = slot
                node[key] = copy.deepcopy(rng.choice(values))
        out.append(record)
    return out


@pytest.mark.parametrize("index", range(len(RECORDS)))
def test_fixture_records_pass_both(converter: V2RecordConverter, validators: tuple[Any, Any], index: int) -> None:
    fast, rust = validators
    record = RECORDS[index]
    assert _fast_accepts(fast, record) and _rust_accepts(rust, record)
    assert converter.passes_schema(record) and converter.schema_failures(record) == []


@pytest.mark.parametrize(("path", "value"), EDGES, ids=[f"{p[-1]}={v!r}" for p, v in EDGES])
def test_rust_never_accepts_what_fastjsonschema_refuses(converter: V2RecordConverter, validators: tuple[Any, Any],
                                                        path: tuple[str, ...], value: Any) -> None:
    fast, rust = validators
    record = _with(RECORDS[0], path, value)
    if _rust_accepts(rust, record):
        assert _fast_accepts(fast, record)
    assert converter.passes_schema(record) == _fast_accepts(fast, record)


def test_mutated_records_get_fastjsonschemas_answer(converter: V2RecordConverter,
                                                    validators: tuple[Any, Any]) -> None:
    fast, rust = validators
    records = _mutations(300, seed=20240501)
    verdicts = [_fast_accepts(fast, record) for record in records]
    assert any(verdicts) and not all(verdicts), "the mutations should give both answers"
    for record, verdict in zip(records, verdicts, strict=True):
        if _rust_accepts(rust, record):
            assert verdict, json.dumps(record)[:300]
        assert converter.passes_schema(record) == verdict
