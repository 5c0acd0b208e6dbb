"""The FHIR writer's shortcuts give what the general code they replace gives."""

from __future__ import annotations

import uuid

import pytest

from converters.model import SourceLocation
from converters.targets.fhir.bundle import _location_json
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
