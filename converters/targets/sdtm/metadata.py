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
    """The dataset as written: its present columns (spec order) and its rows as tuples in that order."""
    variables: list[VariableSpec] = []
    for var in spec.variables:
        present = var.core != "Perm" or any(not is_missing(r.get(var.name)) for r in rows)
        if present:
            variables.append(var)
        variables.extend(_split_columns(var, rows))
    keys = {name: i for i, name in enumerate(spec.keys, start=1)}
    columns = tuple(
        Column(**vars(v), key_sequence=keys.get(v.name), length=_length(v.type, [r.get(v.name) for r in rows]))
        for v in variables
    )
    out_rows = tuple(tuple(None if is_missing(r.get(c.name)) else r.get(c.name) for c in columns) for r in rows)
    return Dataset(spec.name, spec.label, spec.structure, spec.klass, columns, out_rows)


def describe_all(tables: Mapping[str, Sequence[Mapping[str, Value]]], spec: SdtmSpec) -> list[Dataset]:
    return [describe(spec.datasets[name], tables[name]) for name in TDM_DOMAINS]


def check_lengths(dataset: Dataset, file: str) -> list[Problem]:
    """Values over 200 bytes, or over a variable's own limit (a bug in the builders if it happens)."""
    problems = []
    for i, column in enumerate(dataset.columns):
        if column.type != "text":
            continue
        limit = min(column.max_length or sdtm_text.LIMIT, sdtm_text.LIMIT)
        longest = max((sdtm_text.utf8_len(str(r[i])) for r in dataset.rows if r[i] is not None), default=0)
        if longest > limit:
            problems.append(codes.SDTM_VALUE_TOO_LONG(Location(file=file, path=f"{dataset.name}.{column.name}"),
                                                      dataset=dataset.name, variable=column.name, length=longest,
                                                      limit=limit))
    return problems
