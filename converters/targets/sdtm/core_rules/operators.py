"""The CORE `Check` operators, implemented once from their meaning in the CDISC rules engine.

A leaf condition of a rule's `Check` is `{name: VAR, operator: OP, value: ...}`. Each operator here gives,
for every record of a dataset, whether the condition holds (True = the record is in breach, as far as this
condition goes). The semantics follow the reference engine (`cdisc-rules-engine` 0.9.x, MIT) so that the
cross-check test can compare findings rule by rule:

- `value` names a column when the dataset has a column of that name (or an operation result `$id`) and
  `value_is_literal` is not set; otherwise it is a literal.
- `--` at the start of a variable name stands for the domain code (`--SEQ` in TS is `TSSEQ`).
- "null" for (in)equality means "" or missing; two nulls are neither equal nor unequal.
- `not_matches_regex` is not the negation of `matches_regex`: both are False for a missing number.
- A condition on a variable the dataset lacks raises `MissingVariableError`; `exists` and `not_exists`
  are the only operators that look at the presence of a variable.
"""

from __future__ import annotations

import math
import operator as op
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from converters.targets.sdtm.core_rules.iso8601 import comparable_datetime, is_valid_date, is_valid_duration
from converters.targets.sdtm.tables import Frame, is_number, number_text


class MissingVariableError(Exception):
    """The condition reads a variable that the dataset does not have (the rule cannot run on it)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(dict.fromkeys(names))
        super().__init__(", ".join(self.names))


class RuleEvaluationError(Exception):
    """The condition cannot be evaluated (e.g. an invalid regular expression in the rule)."""


class UnsupportedOperatorError(Exception):
    """The rule uses an operator this runner does not implement."""


@dataclass(frozen=True)
class Leaf:
    """One leaf condition, with `--` already replaced by the domain code in its target."""

    target: str
    operator: str
    value: Any
    literal: bool
    params: Mapping[str, Any] = field(default_factory=dict)


Mask = list[bool]
OperatorFn = Callable[[Frame, Leaf], Mask]


def resolve_name(name: str, domain: str) -> str:
    """`--XXX` -> `<domain>XXX`; other names unchanged."""
    return domain + name[2:] if name.startswith("--") else name


def column(frame: Frame, name: str) -> list[Any]:
    """The values of one column, or `MissingVariableError`."""
    if not frame.has(name):
        raise MissingVariableError((name,))
    return frame.column(name)  # read only: never changed in place


def comparator_column(frame: Frame, leaf: Leaf) -> list[Any] | None:
    """The comparator as a column when `value` names one (and is not marked literal), else None."""
    if leaf.literal or not isinstance(leaf.value, str):
        return None
    name = resolve_name(leaf.value, frame.domain)
    return column(frame, name) if frame.has(name) else None


def per_row_comparator(frame: Frame, leaf: Leaf) -> list[Any]:
    """The comparator for each record: the named column's value, or the literal repeated."""
    values = comparator_column(frame, leaf)
    return values if values is not None else [leaf.value] * len(frame)


def is_null(value: Any) -> bool:
    return value is None or value == ""


def as_text(value: Any) -> str | None:
    """A cell as text for text operators: numbers printed like SAS does; None stays None."""
    if value is None:
        return None
    if is_number(value):
        return number_text(value)
    return str(value)


def as_number(value: Any) -> float:
    """A cell as a number for numeric comparisons; text that is not a number gives NaN."""
    if is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return math.nan
    return math.nan


def number_comparator(frame: Frame, leaf: Leaf) -> list[Any]:
    """The comparator for each record: the named column's value, or the literal, which must be a number."""
    others = comparator_column(frame, leaf)
    if others is not None:
        return others
    bound = as_number(leaf.value)
    if math.isnan(bound):
        raise RuleEvaluationError(f"{leaf.operator} needs a number, got {leaf.value!r}")
    return [bound] * len(frame)


def negate(fn: OperatorFn) -> OperatorFn:
    def negated(frame: Frame, leaf: Leaf) -> Mask:
        return [not hit for hit in fn(frame, leaf)]

    return negated


# --- presence -------------------------------------------------------------------------------------------


def exists(frame: Frame, leaf: Leaf) -> Mask:
    return [frame.has(leaf.target)] * len(frame)


# --- equality ---------------------------------------------------------------------------------------------


def _equality(case_insensitive: bool, wanted: bool) -> OperatorFn:
    def check(frame: Frame, leaf: Leaf) -> Mask:
        targets = column(frame, leaf.target)
        result: Mask = []
        for value, other in zip(targets, per_row_comparator(frame, leaf), strict=True):
            if is_null(value) and is_null(other):
                result.append(False)
                continue
            if case_insensitive:
                value = value.lower() if isinstance(value, str) else value
                other = other.lower() if isinstance(other, str) else other
            result.append((value == other) == wanted)
        return result

    return check


# --- emptiness --------------------------------------------------------------------------------------------


def empty(frame: Frame, leaf: Leaf) -> Mask:
    return [is_null(v) for v in column(frame, leaf.target)]


# --- regular expressions ------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise RuleEvaluationError(f"invalid regular expression {pattern!r}: {exc}") from exc


def _regex(wanted: bool) -> OperatorFn:
    def check(frame: Frame, leaf: Leaf) -> Mask:
        if not isinstance(leaf.value, str):
            raise RuleEvaluationError(f"{leaf.operator} needs a pattern, got {leaf.value!r}")
        pattern = _compiled(leaf.value)
        result: Mask = []
        for value in column(frame, leaf.target):
            text = as_text(value)
            result.append(text is not None and (pattern.match(text) is not None) == wanted)
        return result

    return check


# --- lengths -------------------------------------------------------------------------------------------------


def _length(compare: Callable[[float, float], bool]) -> OperatorFn:
    def check(frame: Frame, leaf: Leaf) -> Mask:
        targets = column(frame, leaf.target)
        result: Mask = []
        for value, other in zip(targets, number_comparator(frame, leaf), strict=True):
            bound = float(len(other)) if isinstance(other, str) else as_number(other)
            result.append(isinstance(value, str) and not math.isnan(bound) and compare(len(value), bound))
        return result

    return check


# --- membership ----------------------------------------------------------------------------------------------


def _fold(value: Any, case_insensitive: bool) -> Any:
    return value.lower() if case_insensitive and isinstance(value, str) else value


def _membership(
    frame: Frame, leaf: Leaf, values: Sequence[Any], case_insensitive: bool
) -> Mask:
    """Is each value in the comparator: a literal list, a column of sets (per record) or a whole column."""
    others = comparator_column(frame, leaf)
    if others is None:
        literal = leaf.value if isinstance(leaf.value, list | tuple | set | frozenset) else [leaf.value]
        pool = {_fold(v, case_insensitive) for v in literal}
        return [_fold(v, case_insensitive) in pool for v in values]
    if others and all(isinstance(o, set | frozenset | list | tuple) for o in others):
        return [
            _fold(v, case_insensitive) in {_fold(x, case_insensitive) for x in other}
            for v, other in zip(values, others, strict=True)
        ]
    pool = {_fold(o, case_insensitive) for o in others}
    return [_fold(v, case_insensitive) in pool for v in values]


def _contained_by(case_insensitive: bool) -> OperatorFn:
    def check(frame: Frame, leaf: Leaf) -> Mask:
        return _membership(frame, leaf, column(frame, leaf.target), case_insensitive)

    return check


def _part_contained_by(part: str) -> OperatorFn:
    def check(frame: Frame, leaf: Leaf) -> Mask:
        length = leaf.params.get(part)
        if not isinstance(length, int) or length < 1:
            raise RuleEvaluationError(f"{leaf.operator} needs a positive `{part}`, got {length!r}")
        values = column(frame, leaf.target)
        if not all(isinstance(v, str) for v in values):
            raise RuleEvaluationError(f"{leaf.operator} works on text values only ({leaf.target})")
        parts = [v[:length] if part == "prefix" else v[-length:] for v in values]
        return _membership(frame, leaf, parts, case_insensitive=False)

    return check


def _contains(frame: Frame, leaf: Leaf) -> Mask:
    """The record's value (text or list) contains the comparator (a literal or the record's other column)."""
    result: Mask = []
    for value, other in zip(column(frame, leaf.target), per_row_comparator(frame, leaf), strict=True):
        if (isinstance(value, str) and isinstance(other, str)) or isinstance(value, set | frozenset | list | tuple):
            result.append(other in value)
        else:
            result.append(False)
    return result


def _affix(method: str) -> OperatorFn:
    def check(frame: Frame, leaf: Leaf) -> Mask:
        result: Mask = []
        for value, other in zip(column(frame, leaf.target), per_row_comparator(frame, leaf), strict=True):
            ok = isinstance(value, str) and isinstance(other, str) and getattr(value, method)(other)
            result.append(bool(ok))
        return result

    return check


def contains_all(frame: Frame, leaf: Leaf) -> Mask:
    """Every comparator value (a literal list or a column's values) occurs somewhere in the target column."""
    present = set(column(frame, leaf.target))
    others = comparator_column(frame, leaf)
    wanted = set(others) if others is not None else set(_flat(leaf.value))
    return [wanted <= present] * len(frame)


def _flat(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return [x for item in value for x in _flat(item)]
    return [value]


# --- dates and durations --------------------------------------------------------------------------------------


def invalid_date(frame: Frame, leaf: Leaf) -> Mask:
    return [not is_valid_date(as_text(v)) for v in column(frame, leaf.target)]


def invalid_duration(frame: Frame, leaf: Leaf) -> Mask:
    negative_allowed = leaf.params.get("negative") is not False
    return [
        not is_valid_duration("None" if v is None else as_text(v), negative_allowed=negative_allowed)
        for v in column(frame, leaf.target)
    ]


def _date_compare(compare: Callable[[Any, Any], bool]) -> OperatorFn:
    def check(frame: Frame, leaf: Leaf) -> Mask:
        component = leaf.params.get("date_component")
        result: Mask = []
        for value, other in zip(column(frame, leaf.target), per_row_comparator(frame, leaf), strict=True):
            left, right = comparable_datetime(as_text(value)), comparable_datetime(as_text(other))
            if left is None or right is None:
                result.append(False)
                continue
            if isinstance(component, str) and component != "":
                result.append(compare(getattr(left, component), getattr(right, component)))
            else:
                result.append(compare(left, right))
        return result

    return check


# --- numbers ---------------------------------------------------------------------------------------------------


def _numeric(compare: Callable[[float, float], bool]) -> OperatorFn:
    def check(frame: Frame, leaf: Leaf) -> Mask:
        others = number_comparator(frame, leaf)
        result: Mask = []
        for value, other in zip(column(frame, leaf.target), others, strict=True):
            left, right = as_number(value), as_number(other)
            result.append(not math.isnan(left) and not math.isnan(right) and compare(left, right))
        return result

    return check


# --- uniqueness ------------------------------------------------------------------------------------------------


def _set_columns(frame: Frame, leaf: Leaf) -> list[str]:
    """Target plus comparator names (a column holding lists contributes its listed names), those present."""
    names: list[str] = []
    for item in _flat([leaf.target, leaf.value]):
        listed = frame.column(item)[0] if isinstance(item, str) and frame.has(item) and len(frame) else None
        if isinstance(listed, list):
            names.extend(str(x) for x in listed)
        elif isinstance(item, str):
            names.append(item)
    resolved = [resolve_name(n, frame.domain) for n in names]
    present = list(dict.fromkeys(n for n in resolved if frame.has(n)))
    if not present:
        raise MissingVariableError(resolved)
    return present


def is_unique_set(frame: Frame, leaf: Leaf) -> Mask:
    """The combination of the target and comparator variables occurs once (absent comparators are ignored)."""
    names = _set_columns(frame, leaf)
    keys = list(zip(*([_hashable(v) for v in frame.column(n)] for n in names), strict=True))
    counts = Counter(keys)
    return [counts[key] <= 1 for key in keys]


def _hashable(value: Any) -> Any:
    return frozenset(value) if isinstance(value, set | list) else value


def is_not_unique_relationship(frame: Frame, leaf: Leaf) -> Mask:
    """Target and comparator are not one-to-one: a value of either goes with two values of the other."""
    if not isinstance(leaf.value, str):
        raise RuleEvaluationError(f"{leaf.operator} needs one comparator variable, got {leaf.value!r}")
    other_name = resolve_name(leaf.value, frame.domain)
    missing = [n for n in (leaf.target, other_name) if not frame.has(n)]
    if missing:
        raise MissingVariableError(missing)
    targets, others = column(frame, leaf.target), column(frame, other_name)
    partners_of_target: dict[Any, set[Any]] = defaultdict(set)
    partners_of_other: dict[Any, set[Any]] = defaultdict(set)
    for t, o in zip(targets, others, strict=True):
        partners_of_target[t].add(o)
        partners_of_other[o].add(t)
    return [
        len(partners_of_target[t]) > 1 or len(partners_of_other[o]) > 1
        for t, o in zip(targets, others, strict=True)
    ]


# --- the table -------------------------------------------------------------------------------------------------

OPERATORS: dict[str, OperatorFn] = {
    "exists": exists,
    "not_exists": negate(exists),
    "equal_to": _equality(case_insensitive=False, wanted=True),
    "not_equal_to": _equality(case_insensitive=False, wanted=False),
    "equal_to_case_insensitive": _equality(case_insensitive=True, wanted=True),
    "not_equal_to_case_insensitive": _equality(case_insensitive=True, wanted=False),
    "empty": empty,
    "non_empty": negate(empty),
    "matches_regex": _regex(wanted=True),
    "not_matches_regex": _regex(wanted=False),
    "longer_than": _length(op.gt),
    "longer_than_or_equal_to": _length(op.ge),
    "shorter_than": negate(_length(op.ge)),
    "shorter_than_or_equal_to": negate(_length(op.gt)),
    "is_contained_by": _contained_by(case_insensitive=False),
    "is_not_contained_by": negate(_contained_by(case_insensitive=False)),
    "is_contained_by_case_insensitive": _contained_by(case_insensitive=True),
    "is_not_contained_by_case_insensitive": negate(_contained_by(case_insensitive=True)),
    "prefix_is_contained_by": _part_contained_by("prefix"),
    "prefix_is_not_contained_by": negate(_part_contained_by("prefix")),
    "suffix_is_contained_by": _part_contained_by("suffix"),
    "suffix_is_not_contained_by": negate(_part_contained_by("suffix")),
    "contains": _contains,
    "does_not_contain": negate(_contains),
    "starts_with": _affix("startswith"),
    "ends_with": _affix("endswith"),
    "contains_all": contains_all,
    "not_contains_all": negate(contains_all),
    "invalid_date": invalid_date,
    "invalid_duration": invalid_duration,
    "date_equal_to": _date_compare(op.eq),
    "date_not_equal_to": _date_compare(op.ne),
    "date_less_than": _date_compare(op.lt),
    "date_less_than_or_equal_to": _date_compare(op.le),
    "date_greater_than": _date_compare(op.gt),
    "date_greater_than_or_equal_to": _date_compare(op.ge),
    "less_than": _numeric(op.lt),
    "less_than_or_equal_to": _numeric(op.le),
    "greater_than": _numeric(op.gt),
    "greater_than_or_equal_to": _numeric(op.ge),
    "is_unique_set": is_unique_set,
    "is_not_unique_set": negate(is_unique_set),
    "is_not_unique_relationship": is_not_unique_relationship,
    "is_unique_relationship": negate(is_not_unique_relationship),
}


def make_leaf(condition: Mapping[str, Any], domain: str) -> Leaf:
    """A `Leaf` from a condition of the rule YAML."""
    name = condition.get("name")
    operator_name = condition.get("operator")
    if not isinstance(operator_name, str):
        raise UnsupportedOperatorError(f"a condition without an operator ({dict(condition)})")
    if not isinstance(name, str):
        raise RuleEvaluationError(f"condition {operator_name} has no variable name")
    return Leaf(
        target=resolve_name(name, domain),
        operator=operator_name,
        value=condition.get("value"),
        literal=bool(condition.get("value_is_literal", False)),
        params=condition,
    )


def evaluate_check(node: Any, frame: Frame) -> Mask:
    """Evaluate a rule's `Check` (nested all/any/not) on every record of the frame.

    `all` evaluates every child (a missing variable in any child stops the rule); `any` tolerates children
    on missing variables as long as one child could be evaluated, as the reference engine does.
    """
    if not isinstance(node, Mapping):
        raise RuleEvaluationError(f"a Check node is not a mapping: {node!r}")
    keys = [k for k in ("all", "any", "not") if k in node]
    if len(keys) > 1:
        raise RuleEvaluationError(f"a Check node mixes {keys}")
    if keys == ["not"]:
        return [not hit for hit in evaluate_check(node["not"], frame)]
    if keys == ["all"]:
        result = [True] * len(frame)
        for child in _children(node["all"]):
            result = [a and b for a, b in zip(result, evaluate_check(child, frame), strict=True)]
        return result
    if keys == ["any"]:
        result = [False] * len(frame)
        missing: list[str] = []
        children = _children(node["any"])
        evaluated = 0
        for child in children:
            try:
                hits = evaluate_check(child, frame)
            except MissingVariableError as exc:
                missing.extend(exc.names)
                continue
            evaluated += 1
            result = [a or b for a, b in zip(result, hits, strict=True)]
        if evaluated == 0:
            raise MissingVariableError(missing)
        return result
    leaf = make_leaf(node, frame.domain)
    fn = OPERATORS.get(leaf.operator)
    if fn is None:
        raise UnsupportedOperatorError(leaf.operator)
    return fn(frame, leaf)


def _children(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise RuleEvaluationError("all/any needs a non-empty list of conditions")
    return value
