"""The `sdtm` writer: TS, TA, TE, TV and TI as CSV, Dataset-JSON 1.1, SAS XPORT v5 and Define-XML 2.1.

Options (`WriterConfig.options`):
- `sdtm_layout`: `per-study` (default; `<study folder>/sdtm/...`) or `concatenated` (one set of tables for all
  studies, keyed and sorted by STUDYID, written by `finish` to `<out>/sdtm/...`).
- `sdtm_formats`: comma list of `csv`, `json`, `xpt`, `define` (default: all four).
- `sdtm_creation_datetime`: the creation date-time written to Dataset-JSON and Define-XML (and the XPT headers).
  By default it is the source's last-update date at midnight, else the fixed value in settings.yaml, so the same
  input always gives the same bytes.

Every package written comes back with its checks (`WriteResult.checks`, see `checks.py`), which the pipeline
runs after writing unless validation is turned off: each Dataset-JSON file against the official Dataset-JSON
1.1 schema, define.xml against the Define-XML 2.1 XSD, and the tables as written against the CDISC CORE rules
(`converters.targets.sdtm.core_rules.CoreRuleRunner`). The validators are loaded on the first check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from lxml import etree

from converters import __version__
from converters.model import Study
from converters.model.schedule import Schedule, derive_schedule
from converters.model.text import plain_text_view
from converters.problem_codes import sdtm_writer as codes
from converters.problems import Location, Problem
from converters.resources import MappingError, Resources
from converters.targets.base import WriterConfig, WriteResult
from converters.targets.sdtm import codecs, define_xml
from converters.targets.sdtm.build import build_study_tables
from converters.targets.sdtm.checks import OutputValidators
from converters.targets.sdtm.concat import ConcatState, ConcatStudy, Sink, json_rows_of, project
from converters.targets.sdtm.metadata import Dataset, check_lengths, describe_all
from converters.targets.sdtm.spec import SdtmSpec, load_spec
from converters.targets.sdtm.tables import StudyTables
from converters.targets.sdtm.ts import check_names

LAYOUTS = ("per-study", "concatenated")
FORMATS = ("csv", "json", "xpt", "define")
_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True)
class SdtmOptions:
    layout: str = "per-study"
    formats: tuple[str, ...] = FORMATS
    creation_datetime: str | None = None


def parse_options(options: Mapping[str, str]) -> tuple[SdtmOptions, list[Problem]]:
    """The writer's options, or the problems that make them unusable."""
    problems = [codes.SDTM_OPTION_INVALID(option=option, value=value, reason=reason)
                for option, value, reason in invalid_options(options)]
    chosen = _formats(options)
    ordered = tuple(f for f in FORMATS if f in chosen)
    layout = options.get("sdtm_layout", "per-study").strip()
    return SdtmOptions(layout, ordered, options.get("sdtm_creation_datetime")), problems


def invalid_options(options: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """Each option the writer cannot use, as (option, value, what to use instead): the command line refuses them
    before converting (`SdtmTarget.usage_errors`), a library caller gets them as problems (`parse_options`)."""
    invalid = []
    layout = options.get("sdtm_layout", "per-study").strip()
    if layout not in LAYOUTS:
        invalid.append(("sdtm_layout", layout, f"use one of {', '.join(LAYOUTS)}"))
    chosen = _formats(options)
    if not chosen or any(f not in FORMATS for f in chosen):
        invalid.append(("sdtm_formats", options.get("sdtm_formats", ""), f"use a comma list of {', '.join(FORMATS)}"))
    stamp = options.get("sdtm_creation_datetime")
    if stamp is not None and not _is_datetime(stamp):
        invalid.append(("sdtm_creation_datetime", stamp, "use YYYY-MM-DDThh:mm:ss"))
    return invalid


def _formats(options: Mapping[str, str]) -> list[str]:
    raw = options.get("sdtm_formats", ",".join(FORMATS))
    return [f.strip().lower() for f in raw.split(",") if f.strip()]


def _is_datetime(text: str) -> bool:
    """A real date-time in the one form the headers take (2024-02-30T25:00:00 has the form but is not one)."""
    try:
        return datetime.strptime(text, _DATETIME_FORMAT).strftime(_DATETIME_FORMAT) == text
    except ValueError:
        return False


class SdtmWriter:
    """Writes one package of Trial Design tables per study, or one for all studies (see the module doc)."""

    target = "sdtm"

    def __init__(self, config: WriterConfig) -> None:
        self.config = config
        self.resources: Resources = config.resources
        self.options, self.option_problems = parse_options(config.options)
        self.spec: SdtmSpec = load_spec(self.resources)
        missing = check_names(self.spec)
        if missing:
            raise MappingError("sdtm/ts-parameters.yaml names what no code implements: " + "; ".join(missing))
        self._validators: OutputValidators | None = None
        self._state: ConcatState | None = None  # the concatenated layout's collected state (see concat.py)

    # --- the writer contract -------------------------------------------------------------------------

    def write_study(self, study: Study, study_dir: Path) -> WriteResult:
        if self.option_problems:
            return WriteResult(problems=list(self.option_problems))
        package = self.tables_for(study)
        if self.options.layout == "concatenated":
            datasets = describe_all(package.tables, self.spec)
            return WriteResult(problems=list(package.problems), shared=[ConcatStudy.of(package, datasets)])
        return self.write_package(package, study_dir / "sdtm", study_dir)

    def collect(self, payload: object, out_dir: Path) -> WriteResult:
        """Spool a study's part of the concatenated package that `finish` writes (see concat.py)."""
        if isinstance(payload, ConcatStudy):
            if self._state is None:
                self._state = ConcatState.open(out_dir)
            self._state.add(payload)
        return WriteResult()

    def finish(self, out_dir: Path) -> WriteResult:
        state, self._state = self._state, None
        if self.option_problems or self.options.layout != "concatenated" or state is None:
            return WriteResult()
        kept = state.kept()
        problems = [codes.SDTM_DUPLICATE_STUDY(Location(file=source), study_id=study_id,
                                               first=state.entries[study_id].source, second=source)
                    for study_id, source in sorted(state.duplicates, key=lambda d: d[0])]
        if len(kept) == 1:  # one study: its own package, named and labelled as that study's
            datasets, package = state.load(kept[0])
            result = self.write_package(package, out_dir / "sdtm", out_dir, list(datasets))
            state.spool.close()
        else:
            result = self.write_concatenated(state, out_dir / "sdtm", out_dir)
        result.problems[:0] = problems
        return result

    # --- building and writing ------------------------------------------------------------------------

    def schedule_for(self, study: Study) -> Schedule:
        return derive_schedule(study, self.resources)

    def tables_for(self, study: Study) -> StudyTables:
        plain = plain_text_view(study)  # every SDTM value is plain text (doses in TE/TA too)
        return build_study_tables(plain, self.schedule_for(plain), self.spec)

    def creation_datetime(self, package: StudyTables) -> str:
        return (self.options.creation_datetime or package.last_update
                or self.spec.settings.fallback_creation_datetime)

    def write_package(self, package: StudyTables, folder: Path, base: Path,
                      datasets: list[Dataset] | None = None) -> WriteResult:
        """Write the package's tables in every chosen format below `folder`; paths in problems relative to `base`.
        `datasets`: the tables already described (then `package.tables` is not read)."""
        result = WriteResult(problems=list(package.problems))
        datasets = describe_all(package.tables, self.spec) if datasets is None else datasets
        stamp = self.creation_datetime(package)
        header = self._json_header(package, stamp)
        files: dict[str, str] = {}
        for dataset in datasets:
            result.problems += check_lengths(dataset, _rel(folder / dataset.name.lower(), base))
        for fmt in self.options.formats:
            if fmt == "define":
                continue
            target = folder / fmt
            target.mkdir(parents=True, exist_ok=True)
            for dataset in datasets:
                path = target / f"{dataset.name.lower()}.{fmt}"
                rel = _rel(path, base)
                files.setdefault(dataset.name, rel)
                written = self._write_dataset(fmt, dataset, path, rel, header, stamp)
                result.problems += written.problems
                result.checks += written.checks
                result.files.append(path)
        if "define" in self.options.formats:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "define.xml"
            facts = define_xml.define_facts(datasets, package)
            root = define_xml.build_define(facts, self.spec, self._define_header(package, stamp))
            content = define_xml.render_define(root)
            path.write_bytes(content)
            result.files.append(path)
            result.checks.append(partial(self._check_define, content, path.name, _rel(path, base), root))
        result.checks.append(partial(self._check_rules, datasets, package.study_ids, files, _rel(folder, base)))
        return result

    def write_concatenated(self, state: ConcatState, folder: Path, base: Path) -> WriteResult:
        """The concatenated package, streamed: every format file written study by study from the spool, in
        STUDYID order, with headers and define.xml from the collected facts; the same bytes and problems as
        `write_package` on the merged tables."""
        result = WriteResult()
        kept = state.kept()
        package = StudyTables(study_ids=tuple(e.study_id for e in kept), tables={}, ts_value_kinds={},
                              ti_full_texts={}, title=None, last_update=state.last_update, sources=())
        datasets = state.datasets(self.spec)
        stamp = self.creation_datetime(package)
        header = self._json_header(package, stamp)
        for dataset in datasets:
            result.problems += check_lengths(dataset, _rel(folder / dataset.name.lower(), base))
        sinks: dict[str, list[Sink]] = {d.name: [] for d in datasets}
        later: list[tuple[Dataset, Path]] = []  # XPT files the native writer cannot write (see `_whole`)
        files: dict[str, str] = {}
        try:
            for fmt in (f for f in self.options.formats if f != "define"):
                (folder / fmt).mkdir(parents=True, exist_ok=True)
                for dataset in datasets:
                    path = folder / fmt / f"{dataset.name.lower()}.{fmt}"
                    rel = _rel(path, base)
                    files.setdefault(dataset.name, rel)
                    self._open_sink(state, fmt, dataset, path, rel, header, stamp, result, sinks, later)
            by_name = {d.name: d for d in datasets}
            for entry in kept:  # one study's rows at a time, into every file of their dataset
                for own in state.load(entry)[0]:
                    chunk = project(own, by_name[own.name])
                    for sink in sinks[own.name]:
                        sink.add(chunk)
        finally:
            for sink in (s for group in sinks.values() for s in group):
                sink.close()
        for dataset, path in later:
            codecs.write_xpt(self._whole(state, dataset), path, stamp)
        if "define" in self.options.formats:
            path = folder / "define.xml"
            with path.open("wb") as handle:
                define_xml.stream_define(handle, state.define_facts(datasets), self.spec,
                                         self._define_header(package, stamp))
            result.files.append(path)
            result.checks.append(partial(self._check_define_file, path, _rel(path, base)))
        result.checks.append(partial(self._concat_rules, state, datasets, files, _rel(folder, base)))
        return result

    def _open_sink(self, state: ConcatState, fmt: str, dataset: Dataset, path: Path, rel: str,
                   header: codecs.JsonHeader, stamp: str, result: WriteResult, sinks: dict[str, list[Sink]],
                   later: list[tuple[Dataset, Path]]) -> None:
        """One concatenated file opened with its header, and its file, checks and problems in `result` in the
        order `write_package` gives them."""
        doc = codecs.build_dataset_json(dataset, header, records=state.records[dataset.name])
        if fmt == "json":
            result.checks.append(partial(self._check_dataset_json_file, path, doc,
                                         len(codecs.dataset_json_head(doc)), rel))
        if fmt == "xpt" and not (codecs.xpt_header_fits(dataset) and state.numbers_fit[dataset.name]):
            later.append((dataset, path))
        else:
            sinks[dataset.name].append(Sink(fmt, path, dataset, doc, codecs.xpt_stamp(stamp)))
        wide = [c.name for c in dataset.columns if c.name in state.non_ascii[dataset.name]]
        if fmt == "xpt" and wide:
            result.problems.append(codes.SDTM_XPT_NOT_ASCII(Location(file=rel), dataset=dataset.name.lower(),
                                                            variables=", ".join(wide)))
        result.files.append(path)

    def _whole(self, state: ConcatState, onto: Dataset) -> Dataset:
        """One concatenated dataset with all its rows, for pyreadstat's XPT writer: only when the native writer's
        headers cannot hold it or a numeric variable holds text (an error case; the table is held whole)."""
        rows: list[tuple[Any, ...]] = []
        for entry in state.kept():
            own = next(d for d in state.load(entry)[0] if d.name == onto.name)
            rows += project(own, onto).rows
        return replace(onto, rows=tuple(rows))

    def _write_dataset(self, fmt: str, dataset: Dataset, path: Path, rel: str, header: codecs.JsonHeader,
                       stamp: str) -> WriteResult:
        """One dataset in one format; the result's files are left to the caller."""
        result = WriteResult()
        if fmt == "csv":
            path.write_bytes(codecs.render_csv(dataset))
        elif fmt == "json":
            doc = codecs.build_dataset_json(dataset, header)
            path.write_bytes(codecs.render_dataset_json(doc))
            result.checks.append(partial(self._check_dataset_json, doc, path.name, rel))
        elif fmt == "xpt":
            codecs.write_xpt(dataset, path, stamp)
            wide = codecs.non_ascii_columns(dataset)
            if wide:
                result.problems.append(codes.SDTM_XPT_NOT_ASCII(Location(file=rel), dataset=dataset.name.lower(),
                                                                variables=", ".join(wide)))
        return result

    # --- checks of what was written (run by the pipeline after writing) --------------------------------

    def validators(self) -> OutputValidators:
        """The schemas and the rule runner, loaded the first time a check runs."""
        if self._validators is None:
            self._validators = OutputValidators(self.resources)
        return self._validators

    def _check_dataset_json(self, doc: dict[str, Any], name: str, rel: str) -> list[Problem]:
        error = self.validators().dataset_json_error(doc)
        if not error:
            return []
        return [codes.SDTM_OUTPUT_INVALID(Location(file=rel), file=name, schema="Dataset-JSON 1.1 schema",
                                          reason=error)]

    def _check_dataset_json_file(self, path: Path, head: dict[str, Any], head_size: int, rel: str,
                                 ) -> list[Problem]:
        """`_check_dataset_json` of a file written in chunks: its rows are checked a chunk at a time (the schema
        constrains each row alone), and only a file that fails is read whole, for the same message."""
        check = self.validators().dataset_json_error
        if head["records"]:
            accepted = all(check({**head, "rows": rows}) is None for rows in json_rows_of(path, head_size))
        else:
            accepted = check(head) is None
        if accepted:
            return []
        import orjson

        return self._check_dataset_json(orjson.loads(path.read_bytes()), path.name, rel)

    def _check_define(self, content: bytes, name: str, rel: str, built: etree._Element | None = None,
                      ) -> list[Problem]:
        error = self.validators().define_error(content, built)
        if not error:
            return []
        return [codes.SDTM_OUTPUT_INVALID(Location(file=rel), file=name, schema="Define-XML 2.1 XSD", reason=error)]

    def _check_define_file(self, path: Path, rel: str) -> list[Problem]:
        """`_check_define` of a streamed define.xml: the XSD is checked while the file is parsed, without
        holding it; only a file that fails is read whole, for the same message."""
        if self.validators().define_file_error(path) is None:
            return []
        return self._check_define(path.read_bytes(), path.name, rel)

    def _check_rules(self, datasets: Sequence[Dataset], study_ids: Sequence[str], files: dict[str, str],
                     folder: str) -> list[Problem]:
        """The CORE rules on the tables as written, study by study (see `_tables_by_study`)."""
        problems: list[Problem] = []
        for study_id, tables in _tables_by_study(datasets, study_ids):
            labelled = files if len(study_ids) == 1 else {d: f"{f}#STUDYID={study_id}" for d, f in files.items()}
            problems += self.validators().core_rules_on_columns(tables, labelled, folder)
        return problems

    def _concat_rules(self, state: ConcatState, datasets: Sequence[Dataset], files: dict[str, str],
                      folder: str) -> list[Problem]:
        """The CORE rules, study by study, on each study's records with the concatenated tables' columns (see
        concat.py), read back from the spool one study at a time."""
        problems: list[Problem] = []
        by_name = {d.name: d for d in datasets}
        try:
            for entry in state.kept():
                labelled = {d: f"{f}#STUDYID={entry.study_id}" for d, f in files.items()}
                tables = {}
                for own in state.load(entry)[0]:
                    projected = project(own, by_name[own.name])
                    tables[own.name] = _by_column(projected, projected.rows)
                problems += self.validators().core_rules_on_columns(tables, labelled, folder)
        finally:
            state.spool.close()
        return problems

    # --- headers -------------------------------------------------------------------------------------

    def _study_oid(self, package: StudyTables) -> str:
        if len(package.study_ids) == 1:
            return f"STDY.{define_xml.safe_oid(package.study_ids[0])}"
        return "STDY.TRIALBRIDGE.CONCATENATED"

    def _mdv_oid(self) -> str:
        s = self.spec.settings
        return f"MDV.TRIALBRIDGE.SDTMIG.{s.sdtmig_version}.SDTM.{s.sdtm_version}"

    def _json_header(self, package: StudyTables, stamp: str) -> codecs.JsonHeader:
        s = self.spec.settings
        return codecs.JsonHeader(
            version=s.dataset_json_version, creation_datetime=stamp, last_modified=package.last_update,
            originator=s.originator, source_system=s.source_system, source_version=__version__,
            study_oid=self._study_oid(package), metadata_version_oid=self._mdv_oid(),
            metadata_ref="../define.xml" if "define" in self.options.formats else "",
        )

    def _define_header(self, package: StudyTables, stamp: str) -> define_xml.DefineHeader:
        if len(package.study_ids) == 1:
            name = package.study_ids[0]
            description = package.title or name
        else:
            name = "TRIALBRIDGE CONCATENATED"
            description = "Trial Design tables of several studies, keyed by STUDYID: "
        preferred = self.spec.settings.archive_folder
        data_formats = [f for f in (preferred, "xpt", "json", "csv") if f in self.options.formats]
        return define_xml.DefineHeader(
            file_oid=f"{self._study_oid(package)}.DEFINE", creation_datetime=stamp,
            study_oid=self._study_oid(package), study_name=name, study_description=description,
            protocol_name=name, metadata_version_oid=self._mdv_oid(), source_version=__version__,
            archive_format=data_formats[0] if data_formats else None,
            study_ids=package.study_ids if len(package.study_ids) > 1 else (),
        )


def _tables_by_study(datasets: Sequence[Dataset], study_ids: Sequence[str],
                     ) -> list[tuple[str, dict[str, dict[str, list[Any]]]]]:
    """The tables as written, split by STUDYID and held by column: the CORE rules check one study's datasets
    (e.g. TSSEQ unique within TSPARMCD), so concatenated tables are checked study by study, with the file's
    columns (a study without records in a dataset gets it without variables, as an empty file reads)."""
    if len(study_ids) == 1:
        return [(study_ids[0], {d.name: _by_column(d, d.rows) for d in datasets})]
    split: dict[object, dict[str, list[tuple[Any, ...]]]] = {sid: {d.name: [] for d in datasets} for sid in study_ids}
    for dataset in datasets:  # one pass over the rows, not one per study
        where = [c.name for c in dataset.columns].index("STUDYID")
        for row in dataset.rows:
            tables = split.get(row[where])
            if tables is not None:
                tables[dataset.name].append(row)
    by_name = {d.name: d for d in datasets}
    return [(sid, {name: _by_column(by_name[name], rows) for name, rows in split[sid].items()}) for sid in study_ids]


def _by_column(dataset: Dataset, rows: Sequence[tuple[Any, ...]]) -> dict[str, list[Any]]:
    """Rows of a dataset as variable -> values; no variables when there are no rows (see `column_order`)."""
    if not rows:
        return {}
    return {c.name: list(values) for c, values in zip(dataset.columns, zip(*rows, strict=True), strict=True)}


def _rel(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def make_writer(config: WriterConfig) -> SdtmWriter:
    return SdtmWriter(config)


def tables_only(study: Study, schedule: Schedule, spec: SdtmSpec) -> dict[str, Sequence[dict[str, Any]]]:
    """The five tables of one study as the files hold them (for tests and the benchmark)."""
    package = build_study_tables(study, schedule, spec)
    return {d.name: d.records() for d in describe_all(package.tables, spec)}
