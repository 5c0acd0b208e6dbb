"""Read a folder of SDTM Trial Design tables (CSV, Dataset-JSON 1.1 / NDJSON, SAS XPORT v5) into `TdmTables`.

Files are recognised by name: `ts.csv`, `TA.xpt`, `tv.json`, `ti.ndjson`, ... (the five Trial Design domains,
any case), in a folder or in its format subfolders (`sdtm/csv/`, `sdtm/json/`, `sdtm/xpt/` as the SDTM writer
lays them out: one set of tables). When a domain comes in several formats, the rules run on the first of
Dataset-JSON, NDJSON, XPT, CSV, and every other format must hold the same data, or a
`sdtm-tdm-table-formats-differ` problem says where they part. CSV has no types: its numbers stay text here
and the rule runner reads the SDTMIG numeric variables as numbers. In every format an empty value is None.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyreadstat

from converters.problem_codes.sdtm_rules import (
    SDTM_TDM_FOLDER_EMPTY,
    SDTM_TDM_TABLE_DOMAIN_MISMATCH,
    SDTM_TDM_TABLE_FORMATS_DIFFER,
    SDTM_TDM_TABLE_UNREADABLE,
)
from converters.problems import Location, Problem
from converters.targets.sdtm.tables import (
    TDM_DOMAINS,
    TdmTables,
    Value,
    column_order,
    is_missing,
    is_number,
    number_text,
    tidy_number,
)

FORMATS: dict[str, str] = {
    ".json": "Dataset-JSON",
    ".ndjson": "Dataset-JSON NDJSON",
    ".xpt": "SAS XPORT",
    ".csv": "CSV",
}
XPT_ENCODINGS = ("utf-8", "cp1252")  # real pilot XPT files hold Windows-1252 bytes


class TableReadError(Exception):
    """A table file could not be read; the message says why in plain words."""


@dataclass(frozen=True)
class LoadedTables:
    """Tables of one folder, the file each domain was read from, and the problems met while reading."""

    folder: Path
    tables: TdmTables
    files: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


FORMAT_FOLDERS = frozenset({"csv", "json", "ndjson", "xpt", "dataset-json"})


@dataclass(frozen=True)
class TableSet:
    """One set of Trial Design tables: a folder, or a folder whose format subfolders (csv/, json/, xpt/, as
    the SDTM writer writes them) each hold the same tables."""

    root: Path
    folders: tuple[Path, ...]


def _table_paths(folder: Path) -> list[tuple[str, str, Path]]:
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    return [
        (p.stem.upper(), p.suffix.lower(), p)
        for p in entries
        if p.is_file() and p.suffix.lower() in FORMATS and p.stem.upper() in TDM_DOMAINS
    ]


def table_files(folders: Path | Sequence[Path]) -> dict[str, list[Path]]:
    """Trial Design table files in the folder(s): domain -> paths, in format preference order."""
    found: dict[str, list[tuple[int, Path]]] = {}
    order = {suffix: i for i, suffix in enumerate(FORMATS)}
    for folder in [folders] if isinstance(folders, Path) else folders:
        for domain, suffix, path in _table_paths(folder):
            found.setdefault(domain, []).append((order[suffix], path))
    return {d: [p for _, p in sorted(found[d])] for d in TDM_DOMAINS if d in found}


def find_table_sets(path: Path) -> list[TableSet]:
    """Every set of Trial Design tables at or below `path`, in path order."""
    holders = sorted({p.parent for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS
                      and p.stem.upper() in TDM_DOMAINS} | ({path} if _table_paths(path) else set()))
    sets: dict[Path, list[Path]] = {}
    for folder in holders:
        grouped = folder != path and folder.name.lower() in FORMAT_FOLDERS
        sets.setdefault(folder.parent if grouped else folder, []).append(folder)
    return [TableSet(root, tuple(folders)) for root, folders in sorted(sets.items())]


# --- one file ----------------------------------------------------------------------------------------------


def _clean(value: Any) -> Value:
    """One cell as the table model holds it: "" and NaN are None (missing), integral floats are ints."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if is_number(value):
        return tidy_number(value)
    return str(value)


def read_csv(path: Path) -> list[dict[str, Value]]:
    """CSV with a header row; an empty cell is a missing value; every value stays text."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TableReadError(str(exc)) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = list(reader)
    if not rows:
        raise TableReadError("the file is empty (no header row)")
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header) or any(h == "" for h in header):
        raise TableReadError("the header row has empty or repeated variable names")
    out: list[dict[str, Value]] = []
    for number, cells in enumerate(rows[1:], start=2):
        if not cells:
            continue
        if len(cells) != len(header):
            raise TableReadError(f"line {number} has {len(cells)} cells, the header {len(header)}")
        out.append({h: (c if c != "" else None) for h, c in zip(header, cells, strict=True)})
    return out


def _json_value(value: Any, data_type: str) -> Value:
    if value is None:
        return None
    if data_type == "decimal" and isinstance(value, str) and value.strip():
        try:
            return tidy_number(float(value))
        except ValueError:
            return value
    return _clean(value)


def _dataset_json_rows(meta: Mapping[str, Any], rows: Iterable[Any]) -> list[dict[str, Value]]:
    columns = meta.get("columns")
    if not isinstance(columns, list) or not all(isinstance(c, Mapping) and "name" in c for c in columns):
        raise TableReadError("no `columns` list with variable names")
    names = [str(c["name"]) for c in columns]
    types = [str(c.get("dataType", "string")) for c in columns]
    out: list[dict[str, Value]] = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, list) or len(row) != len(names):
            raise TableReadError(f"row {number} is not an array of {len(names)} values")
        out.append({n: _json_value(v, t) for n, v, t in zip(names, row, types, strict=True)})
    return out


def read_dataset_json(path: Path) -> list[dict[str, Value]]:
    """Dataset-JSON 1.1: `columns` give names and types, `rows` are arrays in column order."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TableReadError(str(exc)) from exc
    if not isinstance(data, Mapping):
        raise TableReadError("the top level is not an object")
    rows = data.get("rows", [])
    if not isinstance(rows, list):
        raise TableReadError("`rows` is not an array")
    return _dataset_json_rows(data, rows)


def read_dataset_ndjson(path: Path) -> list[dict[str, Value]]:
    """Dataset-JSON NDJSON: the first line is the metadata object, each further line one row array."""
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if not lines:
            raise TableReadError("the file is empty")
        meta = json.loads(lines[0])
        rows = [json.loads(line) for line in lines[1:]]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TableReadError(str(exc)) from exc
    if not isinstance(meta, Mapping):
        raise TableReadError("the first line is not the metadata object")
    return _dataset_json_rows(meta, rows)


def read_xpt(path: Path) -> list[dict[str, Value]]:
    """SAS XPORT v5 through pyreadstat; UTF-8 first, then Windows-1252 (as in the CDISC pilot files)."""
    last_error = ""
    for encoding in XPT_ENCODINGS:
        try:
            frame, _meta = pyreadstat.read_xport(str(path), encoding=encoding)
        except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, UnicodeDecodeError, OSError) as exc:
            last_error = str(exc) or type(exc).__name__
            continue
        names = [str(c) for c in frame.columns]
        return [
            {n: _clean(v) for n, v in zip(names, values, strict=True)}
            for values in frame.itertuples(index=False, name=None)
        ]
    raise TableReadError(last_error)


READERS = {".json": read_dataset_json, ".ndjson": read_dataset_ndjson, ".xpt": read_xpt, ".csv": read_csv}


# --- a folder ----------------------------------------------------------------------------------------------------


def _canonical(value: Value) -> str:
    if is_missing(value):
        return ""
    if is_number(value):
        assert isinstance(value, int | float)
        return number_text(value)
    text = str(value)
    try:
        return number_text(tidy_number(float(text))) if text.strip() else ""
    except ValueError:
        return text


def table_difference(primary: Sequence[Mapping[str, Value]], other: Sequence[Mapping[str, Value]]) -> str | None:
    """Where two readings of one table differ (types aside: CSV `1` equals XPT `1.0`), or None."""
    cols_a, cols_b = column_order(primary), column_order(other)
    if cols_a != cols_b:
        return f"variables {cols_a} vs {cols_b}"
    if len(primary) != len(other):
        return f"{len(primary)} rows vs {len(other)}"
    for number, (row_a, row_b) in enumerate(zip(primary, other, strict=True), start=1):
        for name in cols_a:
            a, b = _canonical(row_a.get(name)), _canonical(row_b.get(name))
            if a != b:
                return f"row {number} {name}: {a!r} vs {b!r}"
    return None


def _domain_problems(domain: str, rows: Sequence[Mapping[str, Value]], file: str) -> list[Problem]:
    for number, row in enumerate(rows, start=1):
        found = row.get("DOMAIN")
        if found is not None and found != domain:
            return [SDTM_TDM_TABLE_DOMAIN_MISMATCH(Location(file=file, record=f"{domain} row {number}"),
                                                  domain=domain, found=found, row=number)]
    return []


def load_table_set(table_set: TableSet) -> LoadedTables:
    """Read every Trial Design table of one set (see the module docstring for the choice of format)."""
    tables: TdmTables = {}
    files: dict[str, str] = {}
    problems: list[Problem] = []
    found = table_files(table_set.folders)
    if not found:
        return LoadedTables(table_set.root, {}, {}, [SDTM_TDM_FOLDER_EMPTY(Location(file=str(table_set.root)))])
    for domain, paths in found.items():
        readings: list[tuple[Path, list[dict[str, Value]]]] = []
        for path in paths:
            suffix = path.suffix.lower()
            try:
                readings.append((path, READERS[suffix](path)))
            except TableReadError as exc:
                problems.append(SDTM_TDM_TABLE_UNREADABLE(Location(file=str(path)), domain=domain,
                                                          format=FORMATS[suffix], reason=exc))
        if not readings:
            continue
        (primary_path, primary), *others = readings
        tables[domain] = primary
        files[domain] = str(primary_path)
        problems += _domain_problems(domain, primary, str(primary_path))
        for path, rows in others:
            difference = table_difference(primary, rows)
            if difference is not None:
                problems.append(SDTM_TDM_TABLE_FORMATS_DIFFER(
                    Location(file=str(path)), domain=domain, other=str(path), primary=str(primary_path),
                    difference=difference))
    return LoadedTables(table_set.root, tables, files, problems)


def load_tdm_tables(folder: Path) -> LoadedTables:
    """The tables of one folder, or of its format subfolders when it has no tables itself."""
    sets = [s for s in find_table_sets(folder) if s.root == folder]
    return load_table_set(sets[0] if sets else TableSet(folder, (folder,)))


def load_tdm_folder(path: Path | str) -> tuple[TdmTables, list[Problem]]:
    """The Trial Design tables of one folder (or of its csv/json/xpt subfolders), and the problems met."""
    loaded = load_tdm_tables(Path(path))
    return loaded.tables, loaded.problems
