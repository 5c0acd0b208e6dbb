"""The SDTM target's one table model: what the writer builds, writes and hands to the checks, and what the
validator reads back from files.

`TdmTables` is deliberately plain: domain code -> rows, each row a dict of variable -> value (str, int/float
or None). `StudyTables` is one study's package as the writer builds it (`build.py`): the five tables plus what
the metadata needs (value kinds, full criterion texts, dates); `merge_packages` concatenates several for the
concatenated layout. The rule runner turns each table into a `Frame`: a fixed column order, and each column
either numeric (every value a number or missing) or character (every value text; a missing value is ""). That
is what a SAS XPORT file holds and what the CDISC CORE engine sees when it reads one, so the rules behave the
same whatever format the tables came from.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from converters.problems import Problem

Value: TypeAlias = str | int | float | None
Row: TypeAlias = dict[str, Value]
TdmTables: TypeAlias = dict[str, list[dict[str, Value]]]
ColumnKind: TypeAlias = Literal["char", "num", "other"]  # other: values the rule operations add

TDM_DOMAINS: tuple[str, ...] = ("TS", "TA", "TE", "TV", "TI")


@dataclass
class StudyTables:
    """Everything the format writers need about one study (or, merged, about several)."""

    study_ids: tuple[str, ...]
    tables: dict[str, list[Row]]
    ts_value_kinds: dict[str, tuple[str, str | None]]  # TSPARMCD -> (value kind, codelist)
    ti_full_texts: dict[tuple[str, str], str]  # (STUDYID, IETESTCD) -> full criterion text
    title: str | None
    last_update: str | None  # ISO 8601 date-time derived from the source's last-update date
    sources: tuple[str, ...]
    problems: list[Problem] = field(default_factory=list)
    # (STUDYID, IETESTCD) -> phrases whose comparison sign was lost; define.xml comments the criterion
    ti_damaged: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)


def merge_packages(packages: Sequence[StudyTables]) -> StudyTables:
    """Several studies' tables as one package, in the order given (callers sort by STUDYID)."""
    if len(packages) == 1:
        return packages[0]
    tables: dict[str, list[Row]] = {d: [] for d in TDM_DOMAINS}
    kinds: dict[str, tuple[str, str | None]] = {}
    texts: dict[tuple[str, str], str] = {}
    damaged: dict[tuple[str, str], tuple[str, ...]] = {}
    updates = [p.last_update for p in packages if p.last_update]
    for p in packages:
        for domain in TDM_DOMAINS:
            tables[domain].extend(p.tables[domain])
        for code, kind in p.ts_value_kinds.items():
            kinds.setdefault(code, kind)
        texts.update(p.ti_full_texts)
        damaged.update(p.ti_damaged)
    return StudyTables(
        study_ids=tuple(i for p in packages for i in p.study_ids), tables=tables, ts_value_kinds=kinds,
        ti_full_texts=texts, title=None, last_update=max(updates) if updates else None,
        sources=tuple(s for p in packages for s in p.sources), problems=[], ti_damaged=damaged,
    )


def is_missing(value: object) -> bool:
    """None, "" and NaN are all 'no value' in SDTM tables."""
    if value is None:
        return True
    if isinstance(value, str):
        return value == ""
    return isinstance(value, float) and math.isnan(value)


def is_number(value: object) -> bool:
    """A real number (bool is not one here)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def number_text(value: int | float) -> str:
    """A number as SAS and the CORE engine print it in text: integral floats without a decimal part."""
    if isinstance(value, float) and value.is_integer():
        return f"{value:.0f}"
    return str(value)


def tidy_number(value: int | float) -> int | float:
    """Integral floats (what XPT holds for every number) become ints, so formats compare equal."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def column_order(rows: Iterable[Mapping[str, object]]) -> list[str]:
    """Variables in the order of first appearance across the rows."""
    seen: dict[str, None] = {}
    for row in rows:
        for name in row:
            seen.setdefault(name, None)
    return list(seen)


def column_kind(values: Sequence[object]) -> ColumnKind:
    """Numeric when every present value is a number and at least one is present; otherwise character."""
    numbers = False
    for value in values:
        kind = type(value)
        if kind is str:
            if value:
                return "char"
        elif kind is int:
            numbers = True
        elif is_number(value):
            numbers = numbers or not is_missing(value)
        elif not is_missing(value):
            return "char"
    return "num" if numbers else "char"


ColumnTables: TypeAlias = dict[str, dict[str, list[Value]]]  # domain -> variable -> values in row order


@dataclass(frozen=True)
class Frame:
    """One dataset as the rules see it: typed columns, rows in order (row 1 is the first data row).

    Held by column (variable -> values): the operators read whole columns, and an operation's result is one
    more column, added without copying the others (a row-dict frame copied every row per operation)."""

    domain: str
    columns: tuple[str, ...]
    kinds: Mapping[str, ColumnKind]
    data: Mapping[str, list[Any]]
    length: int

    def has(self, name: str) -> bool:
        return name in self.kinds

    def __len__(self) -> int:
        return self.length

    def column(self, name: str) -> list[Any]:
        return self.data[name]

    def row(self, index: int) -> dict[str, object]:
        """One record as a dict in column order (for findings and tests; the rules read columns)."""
        return {name: self.data[name][index] for name in self.columns}

    @property
    def rows(self) -> tuple[dict[str, object], ...]:
        return tuple(self.row(i) for i in range(self.length))

    def with_column(self, name: str, values: list[Any], kind: ColumnKind = "other") -> Frame:
        """A frame with one more column (or a replaced one), e.g. an operation's result for every row."""
        if len(values) != self.length:
            raise ValueError(f"column {name} has {len(values)} values for {self.length} rows")
        columns = self.columns if name in self.kinds else (*self.columns, name)
        return Frame(self.domain, columns, {**self.kinds, name: kind}, {**self.data, name: values}, self.length)


def typed_value(value: object, kind: ColumnKind) -> object:
    """A cell in its column's type: text for character columns ("" when missing), a number or None."""
    if kind == "num":
        if is_missing(value):
            return None
        assert isinstance(value, int | float)
        return tidy_number(value)
    if is_missing(value):
        return ""
    if is_number(value):
        assert isinstance(value, int | float)
        return number_text(value)
    return str(value)


def typed_column(values: Sequence[object], kind: ColumnKind) -> list[Any]:
    """`typed_value` of each cell; a text cell of a character column is kept as it is (the common case)."""
    if kind == "char":
        return [v if type(v) is str else typed_value(v, kind) for v in values]
    return [v if type(v) is int else typed_value(v, kind) for v in values]


def frame_from_columns(domain: str, data: Mapping[str, Sequence[object]], length: int) -> Frame:
    """Type one table given by column (every column `length` values long) for the rule runner."""
    kinds: dict[str, ColumnKind] = {name: column_kind(values) for name, values in data.items()}
    typed = {name: typed_column(values, kinds[name]) for name, values in data.items()}
    return Frame(domain=domain, columns=tuple(data), kinds=kinds, data=typed, length=length)


def make_frame(domain: str, rows: Sequence[Mapping[str, object]]) -> Frame:
    """Type one table given by rows for the rule runner (see the module docstring)."""
    data = {name: [r.get(name) for r in rows] for name in column_order(rows)}
    return frame_from_columns(domain, data, len(rows))
