"""An invariant reused for nodes lacking what it reads gives exactly the outcome of evaluating it (`absence.py`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from converters.targets.fhir.validator import FhirValidator
from converters.targets.fhir.validator.absence import focus_members
from converters.targets.fhir.validator.invariants import Engine, Invariant, Outcome, parse_fhirpath
from tests.validation_fhir.conftest import example_files, load
from tests.validation_fhir.engine_spy import EngineSpy
from tests.validation_fhir.mutations import MUTATIONS


class _Comparing(EngineSpy):
    """Every outcome is also computed without the reuse, and the pairs are kept."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.differences: list[tuple[str, Outcome, Outcome]] = []
        self.reused = Counter[str]()

    def observe(self, invariant: Invariant, data: Any, fhirpath_type: str | None, resource: Mapping[str, Any] | None,
                root: Mapping[str, Any] | None, variables: Any, outcome: Outcome) -> None:
        if invariant.members is not None and isinstance(data, dict):
            direct = self.engine._evaluate(invariant, data, fhirpath_type, resource, root, variables)
            if direct != outcome:
                self.differences.append((invariant.key, outcome, direct))
            if not any(k.lstrip("_").startswith(tuple(invariant.members)) for k in data):
                self.reused[invariant.key] += 1


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_reused_outcomes_equal_evaluated_ones(version: str) -> None:
    validator = FhirValidator(version)
    comparing = _Comparing(validator._walker.engine)
    validator._walker.engine = comparing  # type: ignore[assignment]
    documents = [load(path) for path in example_files(version)]
    documents += [m.apply() for m in MUTATIONS if m.version == version]
    for document in documents:
        validator.validate(document)
    assert comparing.differences == []
    assert sum(comparing.reused.values()) > 200 and {"dom-2", "dom-4", "dom-5"} <= set(comparing.reused)


@pytest.mark.parametrize(("expression", "members"), [
    ("contained.contained.empty()", {"contained"}),
    ("value.empty() or system.exists()", {"value", "system"}),
    ("entry.where(fullUrl.exists()).select(fullUrl).isDistinct() or type = 'history'", {"entry", "type"}),
    ("a[b.count()].exists()", {"a", "b"}),
    ("(%ucum = 'x') or code.empty()", {"code"}),
    ("true", set()),
    ("hasValue() or x.exists()", None),  # a function of the focus itself
    ("iif(a.exists(), b, c)", None),
    ("contained.where(id = %resource.id).empty()", None),  # a variable
    ("%context.x.exists()", None),
])
def test_focus_members(expression: str, members: set[str] | None) -> None:
    found = focus_members(parse_fhirpath(expression))
    assert (None if found is None else set(found)) == members


def test_a_broken_invariant_reused_is_reported_every_time() -> None:
    """org-1 (identifier or name) fails on an Organization lacking both: the reused outcome is a failure too."""
    validator = FhirValidator("R4")
    bare = {"resourceType": "Organization", "id": "o"}
    for _ in range(3):
        keys = [p.message.split(":")[0] for p in validator.validate(bare) if p.code == "fhir-invariant"]
        assert any("org-1" in k for k in keys), keys
    assert not [p for p in validator.validate({**bare, "name": "N"}) if "org-1" in p.message]
