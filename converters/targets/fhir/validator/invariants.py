"""The invariants (FHIRPath constraints) of the official StructureDefinitions, ready to evaluate.

Most invariants run on fhirpathpy's parse of the official expression, parsed once per validator: through
`fastpath.py`, which compiles the common subset of FHIRPath into closures that give fhirpathpy's own
results 10-50 times faster, and through fhirpathpy itself for everything else. A few cannot run there
as written, and are handled as follows (each keyed by the invariant's key *and* its exact official
expression, so a changed definition falls back to the engine rather than to a stale rewrite):

- ele-1 (`hasValue() or (children().count() > id.count())`, on every element) is checked by the walk
  itself: evaluating it through the engine on every element would cost more than the rest of validation.
- ext-1 (`extension.exists() != value.exists()`) is evaluated directly in Python for the same reason.
- txt-1 / txt-2 (`htmlChecks()`): see `narrative.py`.
- R5 per-1 and rng-2 use `lowBoundary()`, `highBoundary()` and `comparable()`, which fhirpathpy lacks;
  R4 rng-2 compares two Quantities, which fhirpathpy cannot do; R4 per-1 compares two dateTimes, which
  fhirpathpy does as text (wrong across time zones). They are evaluated in Python with the FHIRPath
  meaning of those comparisons (see the functions below for the exact reading).
- `as(T)` is rewritten to `ofType(T)` (R4 dom-3 applies `as()` to collections, which FHIRPath forbids and
  fhirpathpy rejects); on a single item the two mean the same.
- `hasValue()` is given to fhirpathpy as a user function (true for one primitive value).

Anything else the engine cannot evaluate is reported as `fhir-invariant-skipped`, never as passed.

An invariant is broken only when its expression evaluates to `false`. An empty result is FHIRPath's
"unknown" and is not a failure: R4 wrote several invariants for engines that return `false` where
FHIRPath returns empty (R4 ref-1 `reference.startsWith('#').not() or ...` on a Reference that has only a
display; R5 rewrote it as `reference.exists() implies ...`), and the official examples, which HL7
validates when it publishes the specification, only pass under this reading. A non-empty result that is
not a single boolean counts as true.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode, TypeInfo
from fhirpathpy.parser import parse as fhirpathpy_parse

from converters.problems import Severity
from converters.targets.fhir.validator import absence, fastpath, narrative

#: A native check returns True (met), False (broken) or a reason why it could not be evaluated.
Outcome = bool | str
NativeCheck = Callable[[Any], Outcome]

_AS_CALL = re.compile(r"(?<![A-Za-z0-9_])as\(")


def rewrite_expression(expression: str) -> str:
    """The expression fhirpathpy is given: `as(T)` -> `ofType(T)` (see the module docstring)."""
    return _AS_CALL.sub("ofType(", expression)


# --- native checks ---------------------------------------------------------------------------------


def check_ext_1(node: Any) -> Outcome:
    """ext-1: an extension has either nested extensions or a value[x], not both."""
    if not isinstance(node, Mapping):
        return True
    has_value = any(key.startswith(("value", "_value")) for key in node)
    return ("extension" in node) != has_value


def check_txt_1(node: Any) -> Outcome:
    return not isinstance(node, str) or narrative.narrative_problems(node)[0] is None


def check_txt_2(node: Any) -> Outcome:
    return not isinstance(node, str) or narrative.narrative_problems(node)[1] is None


_DATE_PARTS = re.compile(
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d+))?)?)?)?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?$"
)


def _tz(text: str | None) -> timezone | None:
    if not text:
        return None
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6])))


def date_boundaries(text: str) -> tuple[datetime, datetime] | None:
    """FHIRPath lowBoundary()/highBoundary() of a date, dateTime or instant: first and last instant it covers.

    A value without a time zone is compared as local time (its boundaries carry no zone), rather than
    spread over every zone on Earth as the FHIRPath text allows; that reading is what per-1 means for the
    dates registries give. Returns None for text that is not a date.
    """
    match = _DATE_PARTS.match(text)
    if match is None:
        return None
    parts = match.groupdict()
    year = int(parts["y"])
    try:
        if parts["m"] is None:
            low = datetime(year, 1, 1)
            high = datetime(year + 1, 1, 1)
        elif parts["d"] is None:
            month = int(parts["m"])
            low = datetime(year, month, 1)
            high = datetime(year + month // 12, month % 12 + 1, 1)
        elif parts["H"] is None:
            low = datetime(year, int(parts["m"]), int(parts["d"]))
            high = low + timedelta(days=1)
        else:
            low = datetime(year, int(parts["m"]), int(parts["d"]), int(parts["H"]), int(parts["M"]),
                           int(parts["S"] or 0), int((parts["f"] or "0")[:6].ljust(6, "0")))
            step = timedelta(seconds=1) if parts["S"] is not None and parts["f"] is None else (
                timedelta(minutes=1) if parts["S"] is None else timedelta(microseconds=1))
            high = low + step
    except ValueError:
        return None
    tz = _tz(parts["tz"])
    if tz is not None:
        low, high = low.replace(tzinfo=tz), high.replace(tzinfo=tz)
    return low, high - timedelta(microseconds=1)


def _comparable_instants(a: datetime, b: datetime) -> tuple[datetime, datetime]:
    if (a.tzinfo is None) != (b.tzinfo is None):
        return a.replace(tzinfo=None), b.replace(tzinfo=None)
    return a, b


def check_per_1(node: Any) -> Outcome:
    """per-1: the start is not after the end (R5: `start.lowBoundary() <= end.highBoundary()`).

    R4 writes `start <= end`; FHIRPath compares two dateTimes of different precision only as far as both
    go and gives no result when they agree that far, which this boundary comparison also gives (no
    failure), so one check serves both versions.
    """
    if not isinstance(node, Mapping):
        return True
    start, end = node.get("start"), node.get("end")
    if not isinstance(start, str) or not isinstance(end, str):
        return True
    start_b, end_b = date_boundaries(start), date_boundaries(end)
    if start_b is None or end_b is None:
        return True  # a bad date is reported as a format problem
    low, high = _comparable_instants(start_b[0], end_b[1])
    return low <= high


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _half_step(value: Decimal) -> Decimal:
    exponent = value.as_tuple().exponent
    return Decimal(5).scaleb(int(exponent) - 1) if isinstance(exponent, int) else Decimal(0)


def _unit(quantity: Mapping[str, Any]) -> tuple[str, str]:
    if quantity.get("code") is not None:
        return str(quantity.get("system", "")), str(quantity["code"])
    return "", str(quantity.get("unit", ""))


def _range_sides(node: Any) -> tuple[Decimal, Decimal, bool] | None:
    """(low value, high value, same unit) of a Range whose low and high both have values."""
    if not isinstance(node, Mapping):
        return None
    low, high = node.get("low"), node.get("high")
    if not isinstance(low, Mapping) or not isinstance(high, Mapping):
        return None
    low_v, high_v = _decimal(low.get("value")), _decimal(high.get("value"))
    if low_v is None or high_v is None:
        return None
    return low_v, high_v, _unit(low) == _unit(high)


def _check_rng_2(node: Any, *, unlike_units: Outcome, boundaries: bool) -> Outcome:
    """rng-2 of both versions: the low value is not above the high one.

    R4 (`low <= high`) compares Quantities: exact values, and different units cannot be compared offline
    (`unlike_units` is then the reason). R5 (`low.lowBoundary() <= high.highBoundary()`, `boundaries`)
    widens each value by half its last decimal place, and states that incomparable units meet the
    invariant (`unlike_units` is True).
    """
    sides = _range_sides(node)
    if sides is None:
        return True
    low, high, same_unit = sides
    if not same_unit:
        return unlike_units
    if boundaries:
        return low - _half_step(low) <= high + _half_step(high)
    return low <= high


def check_rng_2_r4(node: Any) -> Outcome:
    """R4 rng-2: `low <= high` (Quantity comparison: only quantities in the same unit compare)."""
    reason = "low and high are in different units, which cannot be compared offline"
    return _check_rng_2(node, unlike_units=reason, boundaries=False)


def check_rng_2_r5(node: Any) -> Outcome:
    """R5 rng-2: comparable units imply `low.lowBoundary() <= high.highBoundary()` (decimal precision)."""
    return _check_rng_2(node, unlike_units=True, boundaries=True)


def check_ratrng_2_r5(node: Any) -> Outcome:
    """R5 ratrng-2 as written: `lowNumerator.hasValue().not() or ...`.

    The numerators are Quantities, and `hasValue()` is false for anything but a primitive, so the first
    branch is always true and so is the invariant; fhirpathpy cannot evaluate the rest (it lacks
    `lowBoundary()`), which changes nothing about the result.
    """
    return True


_HTML = "htmlChecks()"

#: Native implementations, keyed by (key, exact official expression).
NATIVE_CHECKS: dict[tuple[str, str], NativeCheck] = {
    ("ext-1", "extension.exists() != value.exists()"): check_ext_1,
    ("txt-1", _HTML): check_txt_1,
    ("txt-2", _HTML): check_txt_2,
    (
        "per-1",
        "start.hasValue().not() or end.hasValue().not() or (start.lowBoundary() <= end.highBoundary())",
    ): check_per_1,
    ("per-1", "start.hasValue().not() or end.hasValue().not() or (start <= end)"): check_per_1,
    ("rng-2", "low.empty() or high.empty() or (low <= high)"): check_rng_2_r4,
    (
        "ratrng-2",
        "lowNumerator.hasValue().not() or highNumerator.hasValue().not()  or "
        "(lowNumerator.lowBoundary() <= highNumerator.highBoundary())",
    ): check_ratrng_2_r5,
    (
        "rng-2",
        "low.value.empty() or high.value.empty() or low.lowBoundary().comparable(high.highBoundary()).not() "
        "or (low.lowBoundary() <= high.highBoundary())",
    ): check_rng_2_r5,
}

#: Checked inside the walk (see `walker.py`), not here.
WALKER_CHECKS = frozenset({("ele-1", "hasValue() or (children().count() > id.count())")})


# --- the engine ------------------------------------------------------------------------------------


def parse_fhirpath(expression: str) -> dict[str, Any]:
    """fhirpathpy's parse tree of an expression (fhirpathpy itself is untyped)."""
    tree: dict[str, Any] = fhirpathpy_parse(expression)  # type: ignore[no-untyped-call]
    return tree


def run_fhirpathpy(
    data: Any, fhirpath_type: str | None, parsed: dict[str, Any], env: dict[str, Any], model: dict[str, Any],
    options: dict[str, Any],
) -> Any:
    """Evaluate a parse tree with fhirpathpy on one node typed `fhirpath_type`; raises what fhirpathpy raises.

    fhirpathpy keeps the type model of `is`/`ofType` in a class attribute (`TypeInfo.model`) that only its
    `is()`/`as()` set, so `ofType()` would otherwise see whichever model an earlier call left there (or none,
    losing subtypes). It is set here to this evaluation's model, as `is()` itself does.
    """
    TypeInfo.model = model  # type: ignore[assignment]  # fhirpathpy declares it None
    node = ResourceNode.create_node(data, fhirpath_type)  # type: ignore[no-untyped-call]
    return fhirpathpy.apply_parsed_path(node, parsed, env, model, options)  # type: ignore[no-untyped-call]


def _has_value(inputs: list[Any]) -> bool:
    """FHIRPath `hasValue()`: the input is a single primitive that has a value."""
    return len(inputs) == 1 and inputs[0] is not None and not isinstance(inputs[0], Mapping | list)


def _ignore_trace(_label: Any, _value: Any) -> None:
    return None


def engine_options() -> dict[str, Any]:
    return {
        "userInvocationTable": {"hasValue": {"fn": _has_value, "arity": {0: []}}},
        "traceFn": _ignore_trace,
        "returnRawData": True,
    }


def to_boolean(result: Any) -> bool:
    """False only for a single `false` (see the module docstring: empty is unknown, not a failure)."""
    if isinstance(result, list):
        if len(result) == 1:
            item = result[0].data if isinstance(result[0], ResourceNode) else result[0]
            if isinstance(item, bool):
                return item
        return True
    return result is not False


@dataclass(slots=True, eq=False)
class Invariant:
    """One invariant, prepared: natively, through the engine, in the walk, or not at all (skip_reason)."""

    id: str
    key: str
    severity: Severity
    human: str
    expression: str
    native: NativeCheck | None = None
    parsed: Any = None
    fast: fastpath.Fn | None = None
    in_walker: bool = False
    skip_reason: str | None = None
    members: frozenset[str] | None = None  # what it reads of its focus (`absence.py`); None: more than that
    presence: frozenset[str] | None = None  # members it only tests with exists()/empty(), when that is all it reads
    # Per-validator cache: type path -> (the JSON keys of `presence` there, outcome per presence pattern of them)
    patterns: dict[str, tuple[tuple[str, ...], dict[tuple[int, ...], Outcome]]] = field(default_factory=dict)
    # Per-validator cache: type path -> (the JSON keys of `members` there, the outcome on a node lacking them all)
    absent: dict[str, tuple[frozenset[str], Outcome | None]] = field(default_factory=dict)


def prepare(constraint_id: str, definition: Mapping[str, Any]) -> Invariant:
    """Make an `Invariant` from a table entry: pick its evaluation route, parse the expression once."""
    key = str(definition["key"])
    expression = str(definition["expression"])
    severity = Severity.WARNING if definition.get("severity") == "warning" else Severity.ERROR
    invariant = Invariant(constraint_id, key, severity, str(definition.get("human", "")), expression)
    if (key, expression) in WALKER_CHECKS:
        invariant.in_walker = True
    elif (key, expression) in NATIVE_CHECKS:
        invariant.native = NATIVE_CHECKS[(key, expression)]
    else:
        chatter = io.StringIO()
        try:
            with contextlib.redirect_stdout(chatter):  # antlr prints some lexer errors instead of raising
                invariant.parsed = parse_fhirpath(rewrite_expression(expression))
        except Exception as exc:  # fhirpathpy's parser raises bare Exceptions; the reason is reported
            invariant.skip_reason = f"the FHIRPath engine cannot parse it: {exc!r}"
            return invariant
        try:
            invariant.fast = fastpath.compile_expression(invariant.parsed)
        except fastpath.Unsupported:
            invariant.fast = None  # evaluated by fhirpathpy alone
        else:  # only expressions the compiler follows: their every node kind is known to `absence`
            invariant.members = absence.focus_members(invariant.parsed)
            invariant.presence = absence.presence_members(invariant.parsed)
    return invariant


_UCUM = ["http://unitsofmeasure.org"]
#: How many presence patterns of one invariant on one type are kept (then the cache starts again).
_PATTERN_LIMIT = 256
_ABSENT = object()

#: Data-shape errors a compiled expression may meet on malformed input: fhirpathpy then decides.
_FAST_ERRORS = (fastpath.Fallback, TypeError, ValueError, AttributeError, KeyError, IndexError)


@dataclass(slots=True, eq=False)
class Engine:
    """fhirpathpy with the model of one FHIR version and the options above; evaluates prepared invariants."""

    model: dict[str, Any]
    options: dict[str, Any]
    fast_model: fastpath.Model = field(init=False)  # the same model, as the compiled evaluator reads it

    def __post_init__(self) -> None:
        self.fast_model = fastpath.Model(
            self.model["path2Type"], self.model["choiceTypePaths"], self.model["pathsDefinedElsewhere"],
            self.model["type2Parent"],
        )

    def variables(self, resource: Mapping[str, Any] | None, root: Mapping[str, Any] | None) -> dict[str, list[Any]]:
        """%resource, %rootResource and %ucum for the compiled evaluator (made once per resource)."""
        root = root if root is not None else resource
        return fastpath.Variables(self.fast_model, {
            "resource": [fastpath.variable(resource)] if resource is not None else [],
            "rootResource": [fastpath.variable(root)] if root is not None else [],
            "ucum": _UCUM,
        })

    def evaluate(
        self,
        invariant: Invariant,
        data: Any,
        fhirpath_type: str | None,
        resource: Mapping[str, Any] | None,
        root: Mapping[str, Any] | None,
        variables: Mapping[str, list[Any]] | None = None,
    ) -> Outcome:
        """True (met), False (broken) or why it could not be evaluated."""
        if invariant.skip_reason is not None:
            return invariant.skip_reason
        if invariant.native is not None:
            return invariant.native(data)
        if invariant.presence is not None and type(data) is dict:
            return self._evaluate_pattern(invariant, data, fhirpath_type, resource, root, variables)
        if invariant.members is not None and type(data) is dict:
            return self._evaluate_absent(invariant, data, fhirpath_type, resource, root, variables)
        return self._evaluate(invariant, data, fhirpath_type, resource, root, variables)

    def _evaluate_absent(
        self,
        invariant: Invariant,
        data: dict[str, Any],
        fhirpath_type: str | None,
        resource: Mapping[str, Any] | None,
        root: Mapping[str, Any] | None,
        variables: Mapping[str, list[Any]] | None,
    ) -> Outcome:
        """`_evaluate`, computed once per type for the nodes that lack every member the invariant reads."""
        type_path = _type_path(data, fhirpath_type)
        known = invariant.absent.get(type_path)
        if known is None:
            known = invariant.absent[type_path] = (self._member_keys(invariant.members, type_path), None)
        keys, outcome = known
        for key in keys:
            if key in data:
                return self._evaluate(invariant, data, fhirpath_type, resource, root, variables)
        if outcome is None:
            outcome = self._evaluate(invariant, data, fhirpath_type, resource, root, variables)
            invariant.absent[type_path] = (keys, outcome)
        return outcome

    def _evaluate_pattern(
        self,
        invariant: Invariant,
        data: dict[str, Any],
        fhirpath_type: str | None,
        resource: Mapping[str, Any] | None,
        root: Mapping[str, Any] | None,
        variables: Mapping[str, list[Any]] | None,
    ) -> Outcome:
        """`_evaluate`, computed once per type and presence pattern for an invariant that only tests members'
        presence (`absence.presence_members`).

        The pattern gives, for each JSON key of those members (`_name` companions included), whether the node
        lacks it, holds null, an empty array or anything else: all the compiled navigation looks at before
        `exists()`/`empty()`, so equal patterns give equal compiled outcomes. Only compiled outcomes are kept;
        an evaluation that falls back to fhirpathpy is made every time."""
        type_path = _type_path(data, fhirpath_type)
        known = invariant.patterns.get(type_path)
        if known is None:
            found = self._member_keys(invariant.presence, type_path)
            known = invariant.patterns[type_path] = (tuple(sorted(found)), {})
        keys, outcomes = known
        pattern = tuple([
            0 if (value := data.get(key, _ABSENT)) is _ABSENT else 1 if value is None else 2 if value == [] else 3
            for key in keys
        ])
        outcome = outcomes.get(pattern)
        if outcome is None:
            outcome = self._compiled(invariant, data, fhirpath_type, resource, root, variables)
            if outcome is None:
                return self._engine(invariant, data, fhirpath_type, resource, root)
            if len(outcomes) >= _PATTERN_LIMIT:
                outcomes.clear()
            outcomes[pattern] = outcome
        return outcome

    def _member_keys(self, members: frozenset[str] | None, type_path: str) -> frozenset[str]:
        """The JSON keys (choice forms and `_` companions included) that hold `members` on nodes of this type."""
        return absence.member_keys(members or frozenset(), type_path, self.fast_model.choices,
                                   self.fast_model.elsewhere)

    def _evaluate(
        self,
        invariant: Invariant,
        data: Any,
        fhirpath_type: str | None,
        resource: Mapping[str, Any] | None,
        root: Mapping[str, Any] | None,
        variables: Mapping[str, list[Any]] | None,
    ) -> Outcome:
        """The compiled evaluation, else (or when it falls back) fhirpathpy's."""
        outcome = self._compiled(invariant, data, fhirpath_type, resource, root, variables)
        if outcome is None:
            return self._engine(invariant, data, fhirpath_type, resource, root)
        return outcome

    def _compiled(
        self,
        invariant: Invariant,
        data: Any,
        fhirpath_type: str | None,
        resource: Mapping[str, Any] | None,
        root: Mapping[str, Any] | None,
        variables: Mapping[str, list[Any]] | None,
    ) -> bool | None:
        """The compiled evaluation, or None when there is none or it falls back (fhirpathpy then decides)."""
        fast = invariant.fast
        if fast is None:
            return None
        focus = [fastpath.node(data, fhirpath_type or "")]
        if variables is None:
            variables = self.variables(resource, root)
        if isinstance(variables, fastpath.Variables):
            state = variables.state
            state.context = focus
        else:
            state = fastpath.State(self.fast_model, variables, focus)
        try:
            return to_boolean(fast(focus, state))
        except _FAST_ERRORS:
            return None

    def _engine(
        self,
        invariant: Invariant,
        data: Any,
        fhirpath_type: str | None,
        resource: Mapping[str, Any] | None,
        root: Mapping[str, Any] | None,
    ) -> Outcome:
        """fhirpathpy's evaluation of the parsed expression."""
        env = {"resource": resource, "rootResource": root if root is not None else resource}
        try:
            result = run_fhirpathpy(data, fhirpath_type, invariant.parsed, env, self.model, self.options)
        except Exception as exc:  # the engine raises bare Exceptions; reported as a skip, never as a pass
            return f"the FHIRPath engine failed: {str(exc)[:160]}"
        return to_boolean(result)


def _type_path(data: Mapping[str, Any], fhirpath_type: str | None) -> str:
    """The type a node's invariant outcomes are kept under: its resourceType, else its element type."""
    return str(data["resourceType"]) if "resourceType" in data else (fhirpath_type or "")
