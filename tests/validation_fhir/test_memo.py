"""The engine's reuse of earlier results gives exactly the outcome of evaluating each invariant afresh.

Two shortcuts are covered: invariants that only test members' presence (`absence.presence_members`) are
evaluated once per type and presence pattern, and focus-free subexpressions (`%resource.type`,
`%rootResource.contained.id`) once per resource (`fastpath.Variables`). Each outcome the validator uses is
compared with a fresh evaluation (fresh variables, no kept patterns), over the fixtures, the mutations and
copies of the fixtures with members set to null, to empty arrays and given `_` companions.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from converters.targets.fhir.validator import FhirValidator
from converters.targets.fhir.validator.absence import focus_free, presence_members
from converters.targets.fhir.validator.invariants import Engine, Invariant, Outcome, parse_fhirpath, prepare
from tests.validation_fhir.conftest import example_files, load
from tests.validation_fhir.engine_spy import EngineSpy
from tests.validation_fhir.mutations import MUTATIONS


class _Comparing(EngineSpy):
    """Every outcome is also computed from scratch, and the differences are kept."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.differences: list[tuple[str, Any, Outcome, Outcome]] = []
        self.by_pattern = Counter[str]()
        self.fresh: dict[str, Invariant] = {}

    def observe(self, invariant: Invariant, data: Any, fhirpath_type: str | None, resource: Mapping[str, Any] | None,
                root: Mapping[str, Any] | None, variables: Any, outcome: Outcome) -> None:
        fresh = self.fresh.get(invariant.id)
        if fresh is None:
            fresh = self.fresh[invariant.id] = prepare(invariant.id, {"key": invariant.key,
                                                                      "expression": invariant.expression})
        fresh.absent.clear()  # nothing kept from an earlier node: evaluated from scratch
        fresh.patterns.clear()
        direct = self.engine.evaluate(fresh, data, fhirpath_type, resource, root, None)
        if _plain(direct) != _plain(outcome):
            self.differences.append((invariant.key, data, outcome, direct))
        if invariant.presence is not None and isinstance(data, dict):
            self.by_pattern[invariant.key] += 1


def _plain(outcome: Outcome) -> Outcome:
    """An outcome without the object addresses fhirpathpy's error messages may quote."""
    return re.sub(r"0x[0-9a-f]+", "0x", outcome) if isinstance(outcome, str) else outcome


def _variants(node: Any) -> Iterator[None]:
    """Change each member of each object in turn (null, [], a `_` companion), yielding after each change."""
    if isinstance(node, list):
        for item in node:
            yield from _variants(item)
        return
    if not isinstance(node, dict):
        return
    for key in list(node):
        if key == "resourceType":
            continue
        original = node[key]
        for replacement in (None, []):
            node[key] = replacement
            yield
        node[key] = original
        if not key.startswith("_") and "_" + key not in node and not isinstance(original, dict | list):
            node["_" + key] = {"extension": [{"url": "x", "valueString": "y"}]}
            yield
            del node["_" + key]
        yield from _variants(original)


def _documents(version: str) -> Iterator[dict[str, Any]]:
    for path in example_files(version):
        document = load(path)
        yield document
        changed = copy.deepcopy(document)
        for count, _ in enumerate(_variants(changed)):
            if count % 89 == 0:  # a sample keeps the test short; every kind of change still occurs
                yield copy.deepcopy(changed)
    for mutation in MUTATIONS:
        if mutation.version == version:
            yield mutation.apply()


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_reused_results_equal_fresh_evaluations(version: str) -> None:
    validator = FhirValidator(version)
    comparing = _Comparing(validator._walker.engine)
    validator._walker.engine = comparing  # type: ignore[assignment]
    for document in _documents(version):
        validator.validate(document)
    assert comparing.differences == []
    assert sum(comparing.by_pattern.values()) > 200


@pytest.mark.parametrize(("expression", "members"), [
    ("code.exists().not() implies display.exists().not()", {"code", "display"}),
    ("resource.exists() or request.exists() or response.exists()", {"resource", "request", "response"}),
    ("value.empty() or system.exists()", {"value", "system"}),
    ("a.exists() and b.exists().where($this)", {"a", "b"}),
    ("true", set()),
    ("(identifier.count() + name.count()) > 0", None),  # a count depends on more than presence
    ("text.`div`.exists()", None),  # a path below the focus
    ("hasValue() or a.exists()", None),  # a function of the focus itself
    ("type = 'x' implies a.exists()", None),  # a value
    ("a.exists() = (%resource.type = 'b')", None),  # a variable
    ("a.exists(b)", None),  # a criterion
])
def test_presence_members(expression: str, members: set[str] | None) -> None:
    found = presence_members(parse_fhirpath(expression))
    assert (None if found is None else set(found)) == members


def test_a_presence_pattern_reused_gives_each_node_its_own_outcome() -> None:
    """cod-1 (R5: no display without a code) on Codings of every presence pattern, twice over."""
    validator = FhirValidator("R5")
    nodes: list[dict[str, Any]] = [
        {"code": "a", "display": "A"}, {"display": "A"}, {"code": None, "display": "A"}, {"code": [], "display": "A"},
        {"code": "a"}, {"_code": {"id": "x"}, "display": "A"}, {"system": "s"}, {"display": None}, {"display": []},
    ]
    resource = {"resourceType": "Basic", "id": "b"}
    engine = validator._walker.engine
    invariant = validator._walker.invariant("cod-1")
    assert invariant.presence == {"code", "display"}
    first = [engine.evaluate(invariant, node, "Coding", resource, resource) for node in nodes]
    again = [engine.evaluate(invariant, node, "Coding", resource, resource) for node in nodes]
    fresh = prepare("cod-1", {"key": "cod-1", "expression": invariant.expression})
    assert first == again == [engine._evaluate(fresh, node, "Coding", resource, resource, None) for node in nodes]
    assert first[1] is False and first[0] is True


@pytest.mark.parametrize(("expression", "free"), [
    ("%resource.type = 'batch' or %resource.type = 'transaction'", True),
    ("%rootResource.contained.id.trace('ids')", True),
    ("%resource.entry.where(fullUrl.exists())", True),  # the criterion reads the entries, not the focus
    ("('a' | 'b')", True),
    ("reference.substring(1)", False),  # a member of the focus
    ("%resource.entry.where(fullUrl = %context.id)", False),  # %context is the focus
    ("$this", False),
    ("hasValue()", False),
])
def test_focus_free(expression: str, free: bool) -> None:
    assert focus_free(parse_fhirpath(expression)["children"][0]) is free
