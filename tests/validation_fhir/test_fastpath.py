"""The compiled FHIRPath evaluator gives exactly fhirpathpy's outcomes (it is only an optimisation).

Every invariant evaluated while validating the fixtures and their mutated copies is evaluated twice,
through the compiled closures and through fhirpathpy alone, and the outcomes must be equal. The test
also requires that the compiled path really decided most evaluations, so that it cannot pass vacuously.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest
from fhirpathpy.engine.nodes import ResourceNode

from converters.targets.fhir.validator import FhirValidator, fastpath
from converters.targets.fhir.validator.invariants import (
    Engine,
    Invariant,
    Outcome,
    engine_options,
    parse_fhirpath,
    prepare,
    run_fhirpathpy,
)
from tests.validation_fhir.conftest import example_files, load
from tests.validation_fhir.engine_spy import EngineSpy
from tests.validation_fhir.mutations import MUTATIONS


class _Comparing(EngineSpy):
    """Evaluates each invariant both ways and records the pairs."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.pairs: list[tuple[str, Any, Any]] = []
        self.decided = Counter[str]()

    def observe(self, invariant: Invariant, data: Any, fhirpath_type: str | None, resource: Mapping[str, Any] | None,
                root: Mapping[str, Any] | None, variables: Any, outcome: Outcome) -> None:
        if invariant.fast is not None:
            name = f"{invariant.key}: {invariant.expression}"
            fast = _compiled_result(self.engine, invariant, data, fhirpath_type, resource, root)
            if fast is None:
                self.decided["fell back"] += 1
            else:
                self.decided["compiled"] += 1
                self.pairs.append((name, fast, _fhirpathpy_result(self.engine, invariant, data, fhirpath_type,
                                                                   resource, root)))


def _plain(items: Any) -> Any:
    """Results as plain data: the items' JSON values (fhirpathpy wraps them in ResourceNode)."""
    if not isinstance(items, list):
        return ("error", str(items))
    return [item.data if isinstance(item, ResourceNode) else fastpath._data(item) for item in items]


def _compiled_result(engine: Engine, invariant: Invariant, data: Any, fhirpath_type: str | None,
                     resource: Any, root: Any) -> Any:
    assert invariant.fast is not None and engine.fast_model is not None
    focus = [fastpath.node(data, fhirpath_type or "")]
    try:
        return _plain(invariant.fast(focus, fastpath.State(engine.fast_model, engine.variables(resource, root),
                                                             focus)))
    except fastpath.Fallback:
        return None


def _fhirpathpy_result(engine: Engine, invariant: Invariant, data: Any, fhirpath_type: str | None,
                       resource: Any, root: Any) -> Any:
    env = {"resource": resource, "rootResource": root if root is not None else resource}
    try:
        return _plain(run_fhirpathpy(data, fhirpath_type, invariant.parsed, env, engine.model, engine.options))
    except Exception as exc:
        return ("error", type(exc).__name__)


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_compiled_and_fhirpathpy_agree_on_fixtures_and_mutations(version: str) -> None:
    validator = FhirValidator(version)
    comparing = _Comparing(validator._walker.engine)
    validator._walker.engine = comparing  # type: ignore[assignment]
    documents = [load(path) for path in example_files(version)]
    documents += [m.apply() for m in MUTATIONS if m.version == version]
    for document in documents:
        validator.validate(document)
    differences = [(name, fast, slow) for name, fast, slow in comparing.pairs if fast != slow]
    assert differences == []
    assert comparing.decided["compiled"] > 500
    assert comparing.decided["compiled"] > 10 * comparing.decided["fell back"]


@pytest.fixture(scope="module")
def r4_engine() -> Engine:
    return Engine(FhirValidator("R4").definitions.fhirpath_model(), engine_options())


THREE_VALUED = [
    ("start.exists() and end.exists()", {"start": "2020"}),
    ("start.exists() or end.exists()", {}),
    ("start.empty() xor end.empty()", {"start": "2020"}),
    ("start.exists() implies end.exists()", {"start": "2020"}),
    ("(start = '2020') implies end.exists()", {}),
    ("start.startsWith('20').not()", {"start": "2020"}),
    ("start.matches('^20')", {"start": "2020"}),
    ("start.substring(2) = '20'", {"start": "2020"}),
    ("start.substring(1, 2) = '02' and start.contains('02') and start.endsWith('20') and end.contains('x').empty()",
     {"start": "2020"}),
    ("(start & '-01') = '2020-01'", {"start": "2020"}),
    ("start.hasValue() and end.hasValue().not()", {"start": "2020"}),
    ("extension.where(url = 'x').exists()", {"extension": [{"url": "x", "valueString": "y"}]}),
    ("extension.all(url = 'x')", {"extension": [{"url": "x"}, {"url": "y"}]}),
    ("extension.select(url).isDistinct()", {"extension": [{"url": "x"}, {"url": "x"}]}),
    ("extension.count() + 1 > 1", {"extension": [{"url": "x"}]}),
    ("iif(start.exists(), end.exists(), true)", {"start": "2020"}),
    ("id in %resource.id", {"id": "b"}),
    ("%resource.id contains id", {"id": "c"}),
    ("('a' | 'b' | 'a').count() = 2", {}),
    ("extension.repeat(extension).count()", {"extension": [
        {"url": "a", "extension": [{"url": "b", "valueString": "x"}, {"url": "b", "valueString": "x"}]}]}),
    ("extension.ofType(Extension).count() = 1 and start.is(dateTime) and start.is(Element)", {
        "start": "2020", "extension": [{"url": "a", "valueString": "x"}]}),
    ("extension.value.ofType(string).exists() and extension.value.is(uri).not()",
     {"extension": [{"url": "a", "valueString": "x"}]}),
    ("%context.start.exists() and %rootResource != %resource", {"start": "2020"}),
    ("extension.count() >= 1 and extension.count() <= 1 and extension.count() < 2 and ('a' + 'b') > 'aa'",
     {"extension": [{"url": "x"}]}),
    ("('b' in ('a' | 'b')) and (('a' | 'b') contains 'c').not() and ({} contains 'a').not()", {}),
]


@pytest.mark.parametrize(("expression", "data"), THREE_VALUED, ids=[e for e, _ in THREE_VALUED])
def test_compiled_semantics_match_fhirpathpy(r4_engine: Engine, expression: str, data: dict[str, Any]) -> None:
    invariant = prepare("t", {"key": "t-1", "severity": "error", "human": "test", "expression": expression})
    assert invariant.fast is not None
    resource = {"resourceType": "Basic", "id": "b"}
    fast = _compiled_result(r4_engine, invariant, data, "Period", resource, resource)
    assert fast is not None, "the compiled evaluator should decide this one"
    assert fast == _fhirpathpy_result(r4_engine, invariant, data, "Period", resource, resource)


def test_unsupported_constructs_are_left_to_fhirpathpy() -> None:
    with pytest.raises(fastpath.Unsupported):
        fastpath.compile_expression(parse_fhirpath("start.lowBoundary() <= end.highBoundary()"))
    with pytest.raises(fastpath.Unsupported):
        fastpath.compile_expression(parse_fhirpath("%vs-name.exists()"))


def test_values_it_does_not_mirror_fall_back_to_fhirpathpy(r4_engine: Engine) -> None:
    resource = {"resourceType": "Basic", "id": "b"}
    for expression, data in [
        ("%resource.is(Basic)", {}),  # fhirpathpy sees %resource as a System.Object
        ("start = '2020'", {"_start": {"extension": [{"url": "x", "valueString": "y"}]}}),  # a `_` companion
        ("start < end", {"start": "2020", "end": "2021"}),  # dates
    ]:
        invariant = prepare("t", {"key": "t-1", "severity": "error", "human": "test", "expression": expression})
        assert invariant.fast is not None
        assert _compiled_result(r4_engine, invariant, data, "Period", resource, resource) is None, expression
        expected = _fhirpathpy_result(r4_engine, invariant, data, "Period", resource, resource)
        outcome = r4_engine.evaluate(invariant, data, "Period", resource, resource)
        assert outcome == (expected != [False]) or isinstance(outcome, str), expression
