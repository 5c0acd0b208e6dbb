"""The CORE `Operations` a rule runs before its `Check`, each adding a `$id` column to the dataset.

Implemented (all the published Trial Design rules use): `distinct` (the set of a variable's values, in this
or another domain, optionally per group), `record_count` (number of records, optionally filtered and per
group) and `domain_is_custom` (answerable offline only for the domains the configuration names as standard).
Anything else raises `UnsupportedOperationError` with the reason from the runner configuration.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from converters.targets.sdtm.core_rules.operators import MissingVariableError, RuleEvaluationError, resolve_name
from converters.targets.sdtm.tables import Frame


class UnsupportedOperationError(Exception):
    """The rule needs an operation this runner does not execute (the message says why)."""


class MissingDomainError(Exception):
    """An operation or a dataset match reads a domain that is not among the tables."""

    def __init__(self, domain: str) -> None:
        self.domain = domain
        super().__init__(domain)


class NeedsLibraryError(Exception):
    """The answer needs CDISC Library metadata that trialbridge does not have offline."""


@dataclass(frozen=True)
class OperationContext:
    """What operations may read: every table of the run and the runner configuration."""

    frames: Mapping[str, Frame]
    standard_domains: frozenset[str]
    unsupported: Mapping[str, str]


OperationFn = Callable[[Frame, Mapping[str, Any], OperationContext], list[Any]]


def _source(frame: Frame, operation: Mapping[str, Any], ctx: OperationContext) -> Frame:
    """The dataset an operation reads: its `domain` when given and not the current one, else the current."""
    domain = operation.get("domain")
    if not isinstance(domain, str) or domain in ("", frame.domain):
        return frame
    other = ctx.frames.get(domain)
    if other is None:
        raise MissingDomainError(domain)
    return other


def _group_keys(frame: Frame, names: Sequence[str]) -> list[tuple[Any, ...]]:
    """Each record's values of the grouping variables, in record order."""
    return list(zip(*(frame.column(n) for n in names), strict=True)) if names else [()] * len(frame)


def _grouping(frame: Frame, source: Frame, operation: Mapping[str, Any]) -> list[str]:
    names = [resolve_name(str(g), frame.domain) for g in operation.get("group") or []]
    missing = [n for n in names if not source.has(n) or not frame.has(n)]
    if missing:
        raise MissingVariableError(missing)
    return names


def distinct(frame: Frame, operation: Mapping[str, Any], ctx: OperationContext) -> list[Any]:
    source = _source(frame, operation, ctx)
    target = resolve_name(str(operation.get("name", "")), source.domain)
    if not source.has(target):
        raise MissingVariableError((target,))
    group = _grouping(frame, source, operation)
    if not group:
        values = frozenset(source.column(target))
        return [values] * len(frame)
    per_group: dict[tuple[Any, ...], set[Any]] = defaultdict(set)
    for key, value in zip(_group_keys(source, group), source.column(target), strict=True):
        per_group[key].add(value)
    sets = {key: frozenset(values) for key, values in per_group.items()}
    return [sets.get(key) for key in _group_keys(frame, group)]


def record_count(frame: Frame, operation: Mapping[str, Any], ctx: OperationContext) -> list[Any]:
    source = _source(frame, operation, ctx)
    conditions = operation.get("filter") or {}
    if not isinstance(conditions, Mapping):
        raise RuleEvaluationError(f"record_count filter is not a mapping: {conditions!r}")
    missing = [str(v) for v in conditions if not source.has(str(v))]
    if missing:
        raise MissingVariableError(missing)
    kept = [True] * len(source)
    for name, wanted in conditions.items():
        kept = [k and v == wanted for k, v in zip(kept, source.column(str(name)), strict=True)]
    group = _grouping(frame, source, operation)
    if not group:
        return [sum(kept)] * len(frame)
    counts: dict[tuple[Any, ...], int] = defaultdict(int)
    for key, keep in zip(_group_keys(source, group), kept, strict=True):
        if keep:
            counts[key] += 1
    return [counts.get(key, 0) for key in _group_keys(frame, group)]


def domain_is_custom(frame: Frame, operation: Mapping[str, Any], ctx: OperationContext) -> list[Any]:
    domain = str(operation.get("domain") or frame.domain)
    if domain not in ctx.standard_domains:
        raise NeedsLibraryError(f"whether {domain} is a standard domain (the CDISC Library's list of domains)")
    return [False] * len(frame)


OPERATIONS: dict[str, OperationFn] = {
    "distinct": distinct,
    "record_count": record_count,
    "domain_is_custom": domain_is_custom,
}


def apply_operations(frame: Frame, operations: Sequence[Mapping[str, Any]], ctx: OperationContext) -> Frame:
    """Run a rule's operations in order, each adding its `$id` column."""
    for operation in operations:
        name = str(operation.get("operator", ""))
        fn = OPERATIONS.get(name)
        if fn is None:
            reason = ctx.unsupported.get(name, "not implemented by trialbridge's rule runner")
            raise UnsupportedOperationError(f"operation {name}: {reason}")
        op_id = operation.get("id")
        if not isinstance(op_id, str) or not op_id:
            raise RuleEvaluationError(f"operation {name} has no id")
        frame = frame.with_column(op_id, fn(frame, operation, ctx))
    return frame


def _side_keys(keys: Sequence[Any], side: str) -> list[str]:
    out: list[str] = []
    for key in keys:
        if isinstance(key, str):
            out.append(key)
        elif isinstance(key, Mapping):
            lowered = {str(k).lower(): v for k, v in key.items()}
            out.append(str(lowered.get(side)))
        else:
            raise RuleEvaluationError(f"match key {key!r} is neither a name nor a left/right pair")
    return out


def match_datasets(
    frame: Frame, matches: Sequence[Mapping[str, Any]], referenced: Sequence[str], ctx: OperationContext
) -> Frame:
    """Join the rule's `Match Datasets` onto the dataset by their keys (inner join unless `Join Type` says).

    Variables of the other dataset that the rule names as `DOM.VAR` keep that name; other clashing names get
    a `.DOM` suffix, as in the reference engine. Each joined record keeps the row number of its own record.
    """
    numbers = list(range(len(frame)))  # each joined record's row in `frame`
    data: dict[str, list[Any]] = dict(frame.data)
    columns = list(frame.columns)
    for match in matches:
        other_name = str(match.get("Name", ""))
        other = ctx.frames.get(other_name)
        if other is None:
            raise MissingDomainError(other_name)
        keys = match.get("Keys") or []
        left_keys = [resolve_name(k, frame.domain) for k in _side_keys(keys, "left")]
        right_keys = [resolve_name(k, other_name) for k in _side_keys(keys, "right")]
        missing = [k for k in left_keys if k not in columns] + [k for k in right_keys if not other.has(k)]
        if missing:
            raise MissingVariableError(missing)
        prefixed = {r.split(".", 1)[1] for r in referenced if r.startswith(f"{other_name}.")}
        index: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        for i, key in enumerate(_group_keys(other, right_keys)):
            index[key].append(i)
        renamed = {
            name: _joined_name(name, other_name, prefixed, columns)
            for name in other.columns
            if name not in right_keys or name not in left_keys
        }
        picks: list[tuple[int, int | None]] = []  # (record in `data`, partner in `other` or None)
        left_join = str(match.get("Join Type", "inner")).lower() == "left"
        left_keys_of = list(zip(*(data[k] for k in left_keys), strict=True)) if left_keys else [()] * len(numbers)
        for j, key in enumerate(left_keys_of):
            partners = index.get(key, [])
            picks += [(j, p) for p in partners]
            if not partners and left_join:
                picks.append((j, None))
        numbers = [numbers[j] for j, _ in picks]
        data = {name: [values[j] for j, _ in picks] for name, values in data.items()}
        for name, new_name in renamed.items():
            values = other.column(name)
            data[new_name] = [None if p is None else values[p] for _, p in picks]
        columns += [renamed[n] for n in renamed if renamed[n] not in columns]
    kinds = {c: frame.kinds.get(c, "other") for c in columns}
    merged = Frame(frame.domain, tuple(columns), kinds, {c: data[c] for c in columns}, len(numbers))
    return _with_row_numbers(merged, numbers)


def _joined_name(name: str, other: str, prefixed: set[str], columns: Sequence[str]) -> str:
    if name in prefixed:
        return f"{other}.{name}"
    return f"{name}.{other}" if name in columns else name


ROW_NUMBER = "$row"


def _with_row_numbers(frame: Frame, numbers: Sequence[int]) -> Frame:
    return frame.with_column(ROW_NUMBER, [n + 1 for n in numbers])
