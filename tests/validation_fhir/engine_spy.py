"""A stand-in for the validator's invariant engine that passes every call on and lets a test look at each
evaluation (`observe`), for tests that compare the engine's shortcuts with a plain evaluation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from converters.targets.fhir.validator.invariants import Engine, Invariant, Outcome


class EngineSpy:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def variables(self, resource: Mapping[str, Any] | None, root: Mapping[str, Any] | None) -> Any:
        return self.engine.variables(resource, root)

    def evaluate(self, invariant: Invariant, data: Any, fhirpath_type: str | None,
                 resource: Mapping[str, Any] | None, root: Mapping[str, Any] | None,
                 variables: Any = None) -> Outcome:
        outcome = self.engine.evaluate(invariant, data, fhirpath_type, resource, root, variables)
        self.observe(invariant, data, fhirpath_type, resource, root, variables, outcome)
        return outcome

    def observe(self, invariant: Invariant, data: Any, fhirpath_type: str | None, resource: Mapping[str, Any] | None,
                root: Mapping[str, Any] | None, variables: Any, outcome: Outcome) -> None:
        """What the test does with one evaluation (the engine's outcome is already returned as it was)."""
