"""The FHIR writer's shortcuts give what the general code they replace gives."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from converters.model import SourceLocation
from converters.targets.bulk import json_line
from converters.targets.fhir.bulk import _encoded, _relink, bulk_part, relinked_line
from converters.targets.fhir.bundle import _location_json, _SourceIndex
from converters.targets.fhir.draft import ID_NAMESPACE, minted_id


@pytest.mark.parametrize("kind, identity", [
    ("Location:location", "mayo clinic|rochester|minnesota|united states"),
    ("Organization:organization", ""),
    ("Practitioner:practitioner", "https://clinicaltrials.gov|NCT01234567|jürgen müller 山田"),
])
def test_minted_id_is_uuid5(kind: str, identity: str) -> None:
    assert minted_id(kind, identity) == str(uuid.uuid5(ID_NAMESPACE, f"{kind}|{identity}"))


@pytest.mark.parametrize("loc", [
    SourceLocation(line=3), SourceLocation(line=3, end_line=9), SourceLocation(pointer="/a/b~1c"),
    SourceLocation(),
])
def test_location_json_is_model_dump(loc: SourceLocation) -> None:
    assert _location_json(loc) == loc.model_dump(exclude_none=True)
    assert list(_location_json(loc)) == list(loc.model_dump(exclude_none=True))


class _FloatLocation(SourceLocation):
    offset: float | None = None


def test_a_trace_is_floatless_only_while_its_locations_hold_no_float_by_type() -> None:
    index = _SourceIndex({"/a": SourceLocation(line=1), "/b": _FloatLocation(offset=1e-7)})
    index.resolve("/a")
    assert index.floatless
    index.resolve("/b")
    assert not index.floatless


@pytest.mark.parametrize("resource", [
    {"resourceType": "X", "reference": "urn:uuid:a", "a": [{"reference": "urn:uuid:b", "display": "urn:uuid:a"}]},
    {"resourceType": "X", "text": '{"reference":"urn:uuid:a"}', "b": {"x": ',"reference":"urn:uuid:a"'}},
    {"resourceType": "X", "reference": "urn:uuid:zz", "c": {"reference": 'q"\\"', "d": {"reference": "urn:uuid:b"}}},
    {"resourceType": "X", "value": 1e-7, "e": [{"reference": "urn:uuid:é"}], "f": {"reference": ["urn:uuid:a"]}},
    {"resourceType": "X", 'a"reference': "urn:uuid:a", "b": {"reference": 'urn:uuid:a"x'}, "c": {"reference": ""}},
    {"resourceType": "X", "reference": {"reference": "urn:uuid:b"}, "d": "\\", "e": {"reference": "urn:uuid:a"}},
])
def test_relinked_line_is_relinked_copy(resource: dict[str, Any]) -> None:
    """The rewrite of the serialised line gives the bytes of the general walk's copy."""
    targets = {"urn:uuid:a": "Organization/a", "urn:uuid:b": "Location/b", "urn:uuid:é": "Group/é"}
    assert relinked_line(resource, _encoded(targets)) == json_line(_relink(resource, targets))


def test_bulk_part_relinks_full_urls_with_escapes() -> None:
    """A full URL whose JSON encoding has escapes takes the general walk, with the same result."""
    url = 'urn:uuid:a"\\'
    bundle = {"resourceType": "Bundle", "id": "b", "entry": [
        {"fullUrl": url, "resource": {"resourceType": "X", "id": "1", "r": {"reference": url}}}]}
    assert bulk_part(bundle, {}, None).lines == {"X": [b'{"resourceType":"X","id":"1","r":{"reference":"X/1"}}\n']}
