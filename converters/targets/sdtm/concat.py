"""The concatenated layout without holding the tables: what the committing process keeps between `collect`
and `finish` is compact, whatever the number of studies.

Each study's part comes from the worker as a `ConcatStudy`: its described datasets pickled (`blob`, spooled at
once to an anonymous file on disk) and the compact facts the headers and define.xml need (columns and lengths,
codelist values, TSVAL statistics, criteria to describe). `ConcatState.add` merges the facts as studies arrive,
in input order; `finish` then reads the spool back in STUDYID order (the concatenated tables are sorted by
STUDYID, so rows cannot be written in input order) and streams every format file study by study (`Sink`).

The CORE rules run study by study on the concatenated tables' records, with the concatenated tables' columns: a
variable that only another study fills is a column of this study's records too, and rules read the column set
(`exists`, `not_exists`, `inconsistent_enumerated_columns`, and the skip of a rule whose variable is absent). That
set (one per dataset) is the one thing the rules need from the whole tables, and it is known only at the end, so
the rules run at the end, one study at a time, from the spool (run in the worker on the study's own columns, they
would differ for nearly every study of a registry-scale run).

The criteria define.xml describes one by one (`IetestFact`) are spooled too, after each study's tables, and read
back study by study in STUDYID order each time define.xml's writer passes over them (`IetestSpool`): define.xml is
streamed (`define_xml.stream_define`) and checked while parsed (`OutputValidators.define_file_error`).

What still grows with the number of studies, by design: one `_Entry` per study (its id, source and place in the
spool), from which the study ids named in define.xml's description come.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from converters.targets.sdtm import codecs
from converters.targets.sdtm.define_xml import DefineFacts, IetestFact, ValueStats, define_facts
from converters.targets.sdtm.metadata import Column, Dataset
from converters.targets.sdtm.spec import SdtmSpec
from converters.targets.sdtm.tables import TDM_DOMAINS, StudyTables


@dataclass
class ConcatStudy:
    """One study's part of the concatenated package, as the worker sends it."""

    study_id: str
    source: str
    last_update: str | None
    facts: DefineFacts  # the study's own columns (no rows)
    non_ascii: dict[str, tuple[str, ...]]  # dataset -> character variables with a non-ASCII value
    numbers_fit: dict[str, bool]  # dataset -> every value of its numeric variables is a number or missing
    records: dict[str, int]  # dataset -> rows
    blob: bytes  # the pickled datasets (described, with rows) and the package without its tables

    @classmethod
    def of(cls, package: StudyTables, datasets: Sequence[Dataset]) -> ConcatStudy:
        return cls(
            study_id=package.study_ids[0], source=package.sources[0], last_update=package.last_update,
            facts=define_facts(datasets, package),
            non_ascii={d.name: tuple(codecs.non_ascii_columns(d)) for d in datasets},
            numbers_fit={d.name: codecs.xpt_numbers_fit(d) for d in datasets},
            records={d.name: len(d.rows) for d in datasets},
            blob=pickle.dumps((tuple(datasets), replace(package, tables={})), protocol=pickle.HIGHEST_PROTOCOL),
        )


@dataclass(frozen=True)
class _Entry:
    """Where a kept study's datasets lie in the spool."""

    study_id: str
    source: str
    offset: int
    size: int
    criteria: int  # bytes of the pickled criteria define.xml describes (after the tables), 0 when none


@dataclass
class ConcatState:
    """The collected state of the concatenated layout (see the module doc)."""

    spool: IO[bytes]
    entries: dict[str, _Entry] = field(default_factory=dict)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (study id, source), input order
    columns: dict[str, dict[str, Column]] = field(default_factory=lambda: {d: {} for d in TDM_DOMAINS})
    has_data: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(TDM_DOMAINS, False))
    records: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TDM_DOMAINS, 0))
    non_ascii: dict[str, set[str]] = field(default_factory=lambda: {d: set() for d in TDM_DOMAINS})
    numbers_fit: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(TDM_DOMAINS, True))
    codelist_values: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    ts_first: dict[str, tuple[tuple[str, int], tuple[str, str | None]]] = field(default_factory=dict)
    ts_values: dict[str, ValueStats] = field(default_factory=dict)
    ietest: int = 0  # criteria define.xml describes (spooled with their study)
    last_update: str | None = None

    @classmethod
    def open(cls, folder: Path) -> ConcatState:
        """A state whose spool is an anonymous file next to the outputs (gone when closed, or at exit)."""
        folder.mkdir(parents=True, exist_ok=True)
        return cls(spool=tempfile.TemporaryFile(dir=folder, prefix=".trialbridge-sdtm-"))

    def add(self, study: ConcatStudy) -> None:
        """Spool a study's tables and merge its facts; a study id seen before is only noted (reported later)."""
        if study.study_id in self.entries:
            self.duplicates.append((study.study_id, study.source))
            return
        facts = study.facts
        offset = self.spool.seek(0, 2)
        self.spool.write(study.blob)
        criteria = pickle.dumps(tuple(facts.ietest), protocol=pickle.HIGHEST_PROTOCOL) if facts.ietest else b""
        self.spool.write(criteria)
        self.entries[study.study_id] = _Entry(study.study_id, study.source, offset, len(study.blob), len(criteria))
        for dataset in facts.datasets:
            kept = self.columns[dataset.name]
            for column in dataset.columns:
                known = kept.get(column.name)
                if known is None or known.length < column.length:
                    kept[column.name] = column if known is None else replace(known, length=column.length)
            self.has_data[dataset.name] |= facts.has_data[dataset.name]
            self.records[dataset.name] += study.records[dataset.name]
            self.non_ascii[dataset.name] |= set(study.non_ascii[dataset.name])
            self.numbers_fit[dataset.name] &= study.numbers_fit[dataset.name]
        for key, values in facts.codelist_values.items():
            self.codelist_values.setdefault(key, set()).update(values)
        for index, (code, kind) in enumerate(facts.ts_kinds.items()):
            first = self.ts_first.get(code)
            if first is None or (study.study_id, index) < first[0]:
                self.ts_first[code] = ((study.study_id, index), kind)
        for code, stats in facts.ts_values.items():
            self.ts_values.setdefault(code, ValueStats()).merge(stats)
        self.ietest += len(facts.ietest)
        if study.last_update and (self.last_update is None or study.last_update > self.last_update):
            self.last_update = study.last_update

    def kept(self) -> list[_Entry]:
        """The studies written, in STUDYID order (the first of a study id in input order)."""
        return [self.entries[k] for k in sorted(self.entries)]

    def load(self, entry: _Entry) -> tuple[tuple[Dataset, ...], StudyTables]:
        """A study's datasets as described in the worker, and its package without the tables."""
        self.spool.seek(entry.offset)
        datasets, package = pickle.loads(self.spool.read(entry.size))
        assert isinstance(package, StudyTables)
        return datasets, package

    def datasets(self, spec: SdtmSpec) -> list[Dataset]:
        """The concatenated datasets' columns (spec order, continuation variables after theirs), no rows."""
        out = []
        for name in TDM_DOMAINS:
            ds, present = spec.datasets[name], self.columns[name]
            columns: list[Column] = []
            for var in ds.variables:
                if var.name in present:
                    columns.append(present[var.name])
                n = 1
                while f"{var.name}{n}" in present:
                    columns.append(present[f"{var.name}{n}"])
                    n += 1
            out.append(Dataset(ds.name, ds.label, ds.structure, ds.klass, tuple(columns), ()))
        return out

    def define_facts(self, datasets: list[Dataset]) -> DefineFacts:
        order = sorted(self.ts_first.items(), key=lambda item: item[1][0])
        return DefineFacts(
            datasets=datasets, has_data=dict(self.has_data), codelist_values=self.codelist_values,
            ts_kinds={code: kind for code, (_, kind) in order}, ts_values=self.ts_values,
            ietest=IetestSpool(self), several=len(self.entries) > 1,
        )

    def criteria(self, entry: _Entry) -> tuple[IetestFact, ...]:
        """The criteria of a study that define.xml describes."""
        if not entry.criteria:
            return ()
        self.spool.seek(entry.offset + entry.size)
        facts = pickle.loads(self.spool.read(entry.criteria))
        assert isinstance(facts, tuple)
        return facts


class IetestSpool(Collection[IetestFact]):
    """The criteria define.xml describes, in (STUDYID, IETESTCD) order, read from the spool at each pass: a
    study's criteria carry its id and come sorted by code (`define_facts`), and the studies are read in STUDYID
    order. The order is checked as it is read, since define.xml's OIDs and order rely on it."""

    def __init__(self, state: ConcatState) -> None:
        self.state = state

    def __len__(self) -> int:
        return self.state.ietest

    def __iter__(self) -> Iterator[IetestFact]:
        last: tuple[str, str] | None = None
        for entry in self.state.kept():
            for fact in self.state.criteria(entry):
                key = (fact.study_id, fact.code)
                if last is not None and key <= last:
                    raise ValueError(f"criteria out of order in the spool: {key} after {last}")
                last = key
                yield fact

    def __contains__(self, item: object) -> bool:
        return any(fact == item for fact in self)


def project(dataset: Dataset, onto: Dataset) -> Dataset:
    """A study's dataset with the concatenated dataset's columns (None where the study has no such variable)."""
    mine = [c.name for c in dataset.columns]
    if mine == [c.name for c in onto.columns]:
        return replace(onto, rows=dataset.rows)
    where = {name: i for i, name in enumerate(mine)}
    picks = [where.get(c.name) for c in onto.columns]
    rows = tuple(tuple(None if i is None else row[i] for i in picks) for row in dataset.rows)
    return replace(onto, rows=rows)


class Sink:
    """One format file of one concatenated dataset, written chunk by chunk (a chunk: one study's rows)."""

    def __init__(self, fmt: str, path: Path, dataset: Dataset, json_doc: dict[str, object], stamp: bytes) -> None:
        self.fmt, self.path, self.written = fmt, path, 0
        self.handle: IO[bytes] = path.open("wb")
        if fmt == "csv":
            self.handle.write(codecs.csv_header(dataset))
        elif fmt == "json":
            self.handle.write(codecs.dataset_json_head(json_doc))
        else:
            self.handle.write(codecs.xpt_head(dataset, stamp))

    def add(self, chunk: Dataset) -> None:
        if not chunk.rows:
            return
        if self.fmt == "csv":
            self.handle.write(codecs.csv_rows(chunk))
        elif self.fmt == "json":
            self.handle.write(codecs.JSON_ROW_SEPARATOR if self.written else codecs.JSON_ROWS_OPEN)
            self.handle.write(codecs.json_row_lines(codecs.json_rows(chunk)))
        else:
            data = codecs.xpt_rows(chunk)
            self.handle.write(data)
            self.written += len(data)
            return
        self.written += len(chunk.rows)

    def close(self) -> None:
        if self.fmt == "json":
            self.handle.write(codecs.JSON_ROWS_CLOSE if self.written else codecs.JSON_NO_ROWS)
        elif self.fmt == "xpt":
            self.handle.write(codecs.xpt_padding(self.written))
        self.handle.close()


def json_rows_of(path: Path, head: int, size: int = 2000) -> Iterator[list[object]]:
    """The rows of a Dataset-JSON file written by `Sink`, read back `size` at a time (`head`: the bytes before
    the rows' list)."""
    import orjson

    chunk: list[object] = []
    with path.open("rb") as handle:
        handle.seek(head)
        for line in handle:
            if not line.startswith(b"    ["):
                continue
            chunk.append(orjson.loads(line.rstrip(b",\n")))
            if len(chunk) == size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk
