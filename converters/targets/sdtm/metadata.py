"""Dataset metadata shared by every format: which columns, in which order, with which type and length.

Required and expected variables are always present; permissible ones only when a record has a value; the
TSVAL continuation variables (TSVAL1..n) follow TSVAL when a value needed them. A character length is the
longest value written, in UTF-8 bytes (what SAS XPORT stores), at least 1; a number's length is the longest
number as text. CSV, Dataset-JSON, XPT and Define-XML are all written from the same `Dataset`, so they agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from converters.problem_codes import sdtm_writer as codes
from converters.problems import Location, Problem
from converters.targets.sdtm import text as sdtm_text
from converters.targets.sdtm.spec import DatasetSpec, SdtmSpec, VariableSpec
from converters.targets.sdtm.tables import TDM_DOMAINS, Value, is_missing, number_text


@dataclass(frozen=True)
class Column(VariableSpec):
    """A variable as written in one dataset: its spec, its place in the keys and its length there."""

    key_sequence: int | None = None
    length: int = 1

    @property
    def mandatory(self) -> bool:
        return self.core == "Req"


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str
    structure: str
    klass: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]  # values in column order

    def records(self) -> list[dict[str, Value]]:
        names = [c.name for c in self.columns]
        return [dict(zip(names, row, strict=True)) for row in self.rows]


def _length(kind: str, values: Sequence[Value]) -> int:
    present = [v for v in values if not is_missing(v)]
    if not present:
        return 1
    if kind == "text":
        return max(sdtm_text.utf8_len(str(v)) for v in present)
    return max(len(number_text(v)) for v in present if isinstance(v, int | float))


def _cleaned(values: list[Value]) -> list[Value]:
    """Missing values (None, "", NaN) as None, as every format writes them."""
    return [v if (type(v) is str and v) or type(v) is int else None if is_missing(v) else v for v in values]


def _split_columns(var: VariableSpec, rows: Sequence[Mapping[str, Value]]) -> list[VariableSpec]:
    if var.split_label is None:
        return []
    extra = []
    n = 1
    while any(not is_missing(r.get(f"{var.name}{n}")) for r in rows):
        extra.append(VariableSpec(name=f"{var.name}{n}", label=var.split_label.format(n=n), type=var.type,
                                  role=var.role, core="Perm", origin=var.origin, max_length=var.max_length))
        n += 1
    return extra


def describe(spec: DatasetSpec, rows: Sequence[Mapping[str, Value]]) -> Dataset:
    """The dataset as written: its present columns (spec order) and its rows as tuples in that order.

    Built column by column: each variable's values are read from the rows once."""
    variables: list[VariableSpec] = []
    values: list[list[Value]] = []
    for var in spec.variables:
        cleaned = _cleaned([r.get(var.name) for r in rows])
        if var.core != "Perm" or any(v is not None for v in cleaned):
            variables.append(var)
            values.append(cleaned)
        for extra in _split_columns(var, rows):
            variables.append(extra)
            values.append(_cleaned([r.get(extra.name) for r in rows]))
    keys = {name: i for i, name in enumerate(spec.keys, start=1)}
    columns = tuple(
        Column(**vars(v), key_sequence=keys.get(v.name), length=_length(v.type, column))
        for v, column in zip(variables, values, strict=True)
    )
    out_rows = tuple(zip(*values, strict=True)) if values else tuple(() for _ in rows)
    return Dataset(spec.name, spec.label, spec.structure, spec.klass, columns, out_rows)


def describe_all(tables: Mapping[str, Sequence[Mapping[str, Value]]], spec: SdtmSpec) -> list[Dataset]:
    return [describe(spec.datasets[name], tables[name]) for name in TDM_DOMAINS]


def check_lengths(dataset: Dataset, file: str) -> list[Problem]:
    """Values over 200 bytes, or over a variable's own limit (a bug in the builders if it happens)."""
    problems = []
    for column in dataset.columns:
        if column.type != "text":
            continue
        limit = min(column.max_length or sdtm_text.LIMIT, sdtm_text.LIMIT)
        longest = column.length  # the longest value written, in UTF-8 bytes (1 when none is: within any limit)
        if longest > limit:
            problems.append(codes.SDTM_VALUE_TOO_LONG(Location(file=file, path=f"{dataset.name}.{column.name}"),
                                                      dataset=dataset.name, variable=column.name, length=longest,
                                                      limit=limit))
    return problems
