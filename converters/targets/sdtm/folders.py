"""Trial Design tables in folders: find each set, read it (any format, see `codecs`), check it with the CORE rules.

Files are recognised by name: `ts.csv`, `TA.xpt`, `tv.json`, `ti.ndjson`, ... (the five Trial Design domains,
any case), in a folder or in its format subfolders (`sdtm/csv/`, `sdtm/json/`, `sdtm/xpt/` as the SDTM writer
lays them out: one set of tables). When a domain comes in several formats, the rules run on the first of
Dataset-JSON, NDJSON, XPT, CSV, and every other format must hold the same data, or a
`sdtm-tdm-table-formats-differ` problem says where they part. `trialbridge validate` takes a folder for one set
of tables (`is_table_set_root`: known by what it holds, never by its own name) and checks it as the SDTM writer
checks what it writes (`validate_table_set`: Dataset-JSON and define.xml against their schemas, then the CORE
rules, study by study, with the finding policy the writer uses); `validate_tdm_folder` checks every set below a
folder at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from converters.problem_codes.sdtm_rules import (
    SDTM_TDM_FILE_INVALID,
    SDTM_TDM_FOLDER_EMPTY,
    SDTM_TDM_TABLE_DOMAIN_MISMATCH,
    SDTM_TDM_TABLE_FORMATS_DIFFER,
    SDTM_TDM_TABLE_UNREADABLE,
)
from converters.problems import Location, Problem
from converters.resources import Resources
from converters.targets.sdtm.checks import OutputValidators
from converters.targets.sdtm.codecs import READERS, TABLE_FORMATS, TableReadError
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

if TYPE_CHECKING:  # the rule engine is imported when a folder is validated, not by every run's start-up
    from converters.targets.sdtm.core_rules import CoreRuleRunner


@dataclass(frozen=True)
class LoadedTables:
    """Tables of one folder, the file each domain was read from, and the problems met while reading."""

    folder: Path
    tables: TdmTables
    files: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


DEFINE_FILE = "define.xml"
FORMAT_FOLDERS = frozenset({"csv", "json", "ndjson", "xpt", "dataset-json"})
#: What makes `trialbridge validate` take a folder for Trial Design tables (NDJSON alone does not).
_TDM_SUFFIXES = frozenset(TABLE_FORMATS) - {".ndjson"}


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
        if p.is_file() and p.suffix.lower() in TABLE_FORMATS and p.stem.upper() in TDM_DOMAINS
    ]


def table_files(folders: Path | Sequence[Path]) -> dict[str, list[Path]]:
    """Trial Design table files in the folder(s): domain -> paths, in format preference order."""
    found: dict[str, list[tuple[int, Path]]] = {}
    order = {suffix: i for i, suffix in enumerate(TABLE_FORMATS)}
    for folder in [folders] if isinstance(folders, Path) else folders:
        for domain, suffix, path in _table_paths(folder):
            found.setdefault(domain, []).append((order[suffix], path))
    return {d: [p for _, p in sorted(found[d])] for d in TDM_DOMAINS if d in found}


def find_table_sets(path: Path) -> list[TableSet]:
    """Every set of Trial Design tables at or below `path`, in path order."""
    holders = sorted({p.parent for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TABLE_FORMATS
                      and p.stem.upper() in TDM_DOMAINS} | ({path} if _table_paths(path) else set()))
    sets: dict[Path, list[Path]] = {}
    for folder in holders:
        grouped = folder != path and folder.name.lower() in FORMAT_FOLDERS
        sets.setdefault(folder.parent if grouped else folder, []).append(folder)
    return [TableSet(root, tuple(folders)) for root, folders in sorted(sets.items())]


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
                                                          format=TABLE_FORMATS[suffix], reason=exc))
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


def _claims_tables(folder: Path) -> bool:
    return any(suffix in _TDM_SUFFIXES for _, suffix, _ in _table_paths(folder))


def _format_folders(folder: Path) -> list[Path]:
    """The format subfolders (csv/, json/, xpt/, ...) of a folder that hold Trial Design tables."""
    try:
        children = sorted(folder.iterdir())
    except OSError:
        return []
    return [c for c in children if c.is_dir() and c.name.lower() in FORMAT_FOLDERS and _table_paths(c)]


def is_table_set_root(path: Path) -> bool:
    """A folder whose own files are one set of Trial Design tables: tables in it (NDJSON alone does not
    count), or in its format subfolders as the SDTM writer lays them out (`sdtm/csv/ts.csv`). Known by what it
    holds, never by its own name; deeper folders are sets of their own."""
    return path.is_dir() and (_claims_tables(path) or any(_claims_tables(f) for f in _format_folders(path)))


def table_set_paths(root: Path) -> frozenset[Path]:
    """What validating the set at `root` reads: its table files, its format subfolders and its define.xml."""
    define = [root / DEFINE_FILE] if (root / DEFINE_FILE).is_file() else []
    return frozenset([*(p for _, _, p in _table_paths(root)), *_format_folders(root), *define])


def validate_tdm_folder(
    path: Path | str, resources: Resources | None = None, *, runner: CoreRuleRunner | None = None
) -> list[Problem]:
    """Load and rule-check every set of Trial Design tables at or below `path`."""
    root = Path(path)
    table_sets = find_table_sets(root)
    if not table_sets:
        return [SDTM_TDM_FOLDER_EMPTY(Location(file=str(root)))]
    validators = OutputValidators(resources or Resources(), runner=runner)
    problems: list[Problem] = []
    for table_set in table_sets:
        loaded = load_table_set(table_set)
        problems += [*loaded.problems, *rule_check(loaded, validators)]
    return problems


def validate_table_set(root: Path, validators: OutputValidators) -> list[Problem]:
    """What `trialbridge validate` reports for one set of tables (a folder `is_table_set_root` accepts): the
    problems of reading it, its Dataset-JSON files and define.xml against their schemas, and the CORE rules, each
    finding reported as the SDTM writer reports it."""
    loaded = load_tdm_tables(root)
    return [*loaded.problems, *schema_problems(root, validators), *rule_check(loaded, validators)]


def schema_problems(root: Path, validators: OutputValidators) -> list[Problem]:
    """The Dataset-JSON files of a set against the Dataset-JSON 1.1 schema and its define.xml against the
    Define-XML 2.1 XSD, as the SDTM writer checks what it writes. A file that is not JSON at all is the reader's
    problem (`sdtm-tdm-table-unreadable`), not repeated here."""
    problems: list[Problem] = []
    for paths in table_files([root, *_format_folders(root)]).values():
        for path in paths:
            if path.suffix.lower() != ".json":
                continue
            try:
                doc = json.loads(path.read_bytes())
            except (OSError, ValueError, RecursionError):
                continue
            error = validators.dataset_json_error(doc) if isinstance(doc, dict) else "not a JSON object"
            if error:
                problems.append(SDTM_TDM_FILE_INVALID(Location(file=str(path)), schema="Dataset-JSON 1.1 schema",
                                                      reason=error))
    define = root / DEFINE_FILE
    if define.is_file():
        error = validators.define_file_error(define)
        if error:
            problems.append(SDTM_TDM_FILE_INVALID(Location(file=str(define)), schema="Define-XML 2.1 XSD",
                                                  reason=error))
    return problems


def rule_check(loaded: LoadedTables, validators: OutputValidators) -> list[Problem]:
    """The CORE rules on one set of tables as the SDTM writer runs them: study by study when the tables hold
    several STUDYIDs (the concatenated layout: each file labelled `#STUDYID=<id>`, rows counted within the
    study), each finding reported by the shared policy (`findings`)."""
    problems: list[Problem] = []
    if not loaded.tables:
        return problems
    studies = tables_by_study(loaded.tables)
    for study_id, tables in studies:
        files = loaded.files if len(studies) == 1 else {
            domain: f"{file}#STUDYID={study_id}" for domain, file in loaded.files.items()}
        problems += validators.core_rules(tables, files, str(loaded.folder))
    return problems


def tables_by_study(tables: TdmTables) -> list[tuple[str, TdmTables]]:
    """The tables split by STUDYID, in STUDYID order (a domain a study has no records in is empty for it, as an
    empty file reads); one entry holding them all when they hold at most one study."""
    ids = sorted({_study_id(row) for rows in tables.values() for row in rows})
    if len(ids) <= 1:
        return [(ids[0] if ids else "", tables)]
    split: dict[str, TdmTables] = {study_id: {domain: [] for domain in tables} for study_id in ids}
    for domain, rows in tables.items():
        for row in rows:
            split[_study_id(row)][domain].append(row)
    return list(split.items())


def _study_id(row: Mapping[str, Value]) -> str:
    value = row.get("STUDYID")
    return "" if is_missing(value) else str(value)
