"""The `trialbridge` command line. Thin commands: parse options, call library functions, print reports.

Exit codes (converters.problems.ExitCode): 0 clean, 1 data problems of severity error, 2 unusable input
or usage error. Text reports go to stdout; fatal problems and usage errors to stderr, one line each. `--json`
prints one JSON document instead of the text report, `--json-file FILE` writes it beside it (`_json_document`).
"""

from __future__ import annotations

import gc

# The command line owns its process. Starting up (imports, model classes, mapping data, compiled patterns) makes
# a great many objects that live as long as the process, and with the collector's default thresholds it scans
# them again and again: 0.05 s of CPU for one record to study.json, 0.2 s with FHIR and SDTM. The thresholds a
# conversion batch runs with (`pipeline.engines.settle_for_batch`) are set before anything else is imported.
gc.set_threshold(10_000, 10, 10)

import sys  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn  # noqa: E402

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.text import Text  # noqa: E402

from converters import __version__, jsonio  # noqa: E402
from converters.problems import ExitCode, Problem, Severity, worst_exit_code  # noqa: E402
from converters.resources import MappingError, Resources  # noqa: E402

if TYPE_CHECKING:  # logging is imported only when -v or --log-level asks for it (start-up cost)
    from logging import Logger

    from converters.pipeline import FileResult

app = typer.Typer(
    name="trialbridge",
    help="Turn clinical-trial registry records into FHIR R4/R5 and CDISC SDTM, with provenance and validation.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)

# The choices of options with a fixed set of values: shown in --help, refused before anything is read. They are
# the library's own lists (pipeline.LAYOUTS, pipeline.ENGINES, fhir.writer.BUNDLE_TYPES, sdtm.writer.LAYOUTS),
# written out here so that --help imports no target; tests/test_cli_conventions.py checks that they agree.
BundleType = Literal["collection", "transaction"]
LayoutName = Literal["per-study", "bulk"]
EngineName = Literal["local", "dask"]
SdtmLayout = Literal["per-study", "concatenated"]
LogLevel = Literal["debug", "info", "warning", "error", "critical"]

JsonFlag = Annotated[bool, typer.Option("--json", metavar="", help="Print the result as one JSON document on "
                                        "stdout, instead of the text report (see the README).")]
JsonFile = Annotated[Path | None, typer.Option("--json-file", metavar="FILE", help="Also write the result as a "
                                               "JSON document to FILE.")]
Jobs = Annotated[int | None, typer.Option("--jobs", "-j", metavar="N", min=1,
                                          help="Worker processes (default: every core).")]


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


# The writer options' defaults: options left at them cannot be wrong for a target that is not written, so only
# the targets written are asked about them (and only they are imported).
_BUNDLE: BundleType = "collection"
_SDTM_FORMATS = "csv,json,xpt,define"


def _fail(message: str, code: ExitCode = ExitCode.UNUSABLE_INPUT) -> typer.Exit:
    """One readable line on stderr, then exit: configuration and usage errors end here."""
    _console(stderr=True).print(Text("error: ", style="bold red") + Text(message))
    return typer.Exit(int(code))


def _resources() -> Resources:
    return Resources()


@dataclass(frozen=True)
class Session:
    """What the main options set up for the command that follows: the logger, when logging was asked for."""

    log: Logger | None = None


def _log(ctx: typer.Context) -> Logger | None:
    return ctx.obj.log if isinstance(ctx.obj, Session) else None


def log_level(verbose: int, level: str | None) -> str | None:
    """The logging level asked for: --log-level, else -v (info) or -vv (debug); None when neither was given."""
    if level is not None:
        return level.upper()
    return {0: None, 1: "INFO"}.get(verbose, "DEBUG")


def start_logging(level: str) -> Logger:
    """Send the `converters` loggers' records at `level` and above to stderr through the standard logging module
    (library modules log with `logging.getLogger(__name__)`). A handler of an earlier command in the same process
    is replaced, not doubled."""
    import logging

    logger = logging.getLogger("converters")
    logger.setLevel(level)
    for handler in [h for h in logger.handlers if h.get_name() == "trialbridge"]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name("trialbridge")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    return logging.getLogger(__name__)


def _version_callback(value: bool) -> None:
    if value:
        print(f"trialbridge {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True, metavar="",
                                          help="Show the version and exit.")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, metavar="", show_default=False,
                                         help="Log what the command does on stderr: -v at info level, -vv at "
                                              "debug level.")] = 0,
    level: Annotated[LogLevel | None, typer.Option("--log-level", case_sensitive=False, metavar="LEVEL",
                                                   help="Log at this level and above on stderr (overrides -v): "
                                                        "debug, info, warning, error or critical.")]
    = None,
) -> None:
    """trialbridge: registry records -> canonical study -> FHIR / SDTM."""
    chosen = log_level(verbose, level)
    ctx.obj = Session(log=start_logging(chosen) if chosen is not None else None)


def _json_document(command: str, exit_code: int, data: dict[str, Any]) -> dict[str, Any]:
    """Every command's JSON output has the same head: the tool, the command and its exit code, then its data
    (problems always as in report.json). `convert`'s is report.json itself, which starts the same way."""
    return {"tool": {"name": "trialbridge", "version": __version__}, "command": command, "exit_code": exit_code,
            **data}


def _emit_json(text: str, to_stdout: bool, file: Path | None) -> None:
    """A JSON document to stdout (--json) and/or to a file (--json-file)."""
    if file is not None:
        try:
            file.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise _fail(f"cannot write --json-file {file}: {exc.strerror or exc}") from exc
    if to_stdout:
        sys.stdout.write(text)


def _problem_lines(problems: list[Problem], out: Console | None, err: Console, indent: str = "") -> None:
    """Each problem on its line: fatal ones on stderr, the others on `out` (None: not shown, as with --json)."""
    from converters.render import problem_line

    for problem in problems:
        console = err if problem.severity is Severity.FATAL else out
        if console is not None:
            console.print(*([indent] if indent else []), problem_line(problem))


def _complete_format(incomplete: str) -> list[str]:
    """Shell completion of --from: the input formats this installation reads."""
    from converters.readers import discover_readers

    return [name for name in discover_readers() if name.startswith(incomplete)]


@app.command()
def convert(
    ctx: typer.Context,
    inputs: Annotated[list[Path], typer.Argument(help="Files or folders to convert.", metavar="INPUT...")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Output folder.")] = Path("out"),
    to: Annotated[str, typer.Option(metavar="TARGETS", help="Comma-separated targets beside study.json: fhir-r4, "
                                                            "fhir-r5, sdtm.")] = "study",
    from_: Annotated[str | None, typer.Option("--from", metavar="FORMAT", autocompletion=_complete_format,
                                              help="Force the input format (see `trialbridge formats`).")] = None,
    bundle: Annotated[BundleType, typer.Option(help="FHIR Bundle type.")] = _BUNDLE,
    layout: Annotated[LayoutName, typer.Option(help="Output layout: per-study (a folder per study) or bulk "
                                                    "(study.ndjson, FHIR NDJSON per resource type, SDTM "
                                                    "concatenated).")] = "per-study",
    jobs: Jobs = None,
    engine: Annotated[EngineName, typer.Option(help="Where units are converted: local (--jobs processes here) or "
                                                    "dask (a Dask cluster: --scheduler's, else --jobs local "
                                                    "workers).")] = "local",
    scheduler: Annotated[str | None, typer.Option(metavar="ADDRESS", help="Dask scheduler address "
                                                  "(tcp://host:port) for --engine dask; workers must share the "
                                                  "input and output paths.")] = None,
    sdtm_layout: Annotated[SdtmLayout | None, typer.Option(help="SDTM tables: per study, or concatenated across "
                                                           "studies (default: per-study; concatenated in the "
                                                           "bulk layout).")] = None,
    sdtm_formats: Annotated[str, typer.Option(metavar="FORMATS", help="SDTM formats, comma-separated: csv, json, "
                                                                      "xpt, define.")] = _SDTM_FORMATS,
    max_bytes: Annotated[int, typer.Option(metavar="BYTES", min=1, help="Largest input file accepted.")]
    = 100 * 1024 * 1024,
    max_records: Annotated[int | None, typer.Option(metavar="N", min=1, help="Most records read from one "
                                                                             "multi-record file.")] = None,
    no_validate: Annotated[bool, typer.Option("--no-validate", metavar="", help="Skip validation of FHIR/SDTM "
                                                                                "outputs.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", metavar="", help="Only the total line.")] = False,
    show_problems: Annotated[bool, typer.Option("--problems", metavar="", help="List every problem under its "
                                                                               "file.")] = False,
    as_json: JsonFlag = False,
    json_file: JsonFile = None,
) -> None:
    """Convert registry records into canonical study.json files (and FHIR / SDTM with --to)."""
    import time

    from converters.pipeline import ConvertOptions, EngineError, available_cores, open_engine
    from converters.pipeline import convert as run_convert
    from converters.progress import progress_bar
    from converters.render import file_line, rate_line, total_line

    targets = tuple(t.strip() for t in to.split(",") if t.strip())
    writer_options = _convert_usage(targets, from_, engine, scheduler, layout, sdtm_layout,
                                    {"bundle": bundle, "sdtm_formats": sdtm_formats})
    options = ConvertOptions(
        out_dir=out,
        targets=targets,
        forced_format=from_,
        max_bytes=max_bytes,
        max_records=max_records,
        writer_options=writer_options,
        validate_outputs=not no_validate,
        layout=layout,
        jobs=jobs or available_cores(),
        tune_gc=True,
    )
    log = _log(ctx)
    err = _console(stderr=True)
    text = None if as_json else _console()  # with --json, stdout carries the JSON document only

    def on_file(result: FileResult) -> None:
        if log is not None:
            log.debug("%s: %s", result.file, _file_detail(result))
        if quiet:
            return
        fatal = any(p.severity is Severity.FATAL for p in result.problems)
        console = err if fatal else text
        if console is not None:
            console.print(file_line(result))
        if show_problems:
            _problem_lines(result.all_problems(), text, err, indent="    ")

    if log is not None:
        log.info("converting %s into %s (targets: %s; layout: %s; jobs: %d; engine: %s)",
                 ", ".join(map(str, inputs)), out, ", ".join(dict.fromkeys(("study", *targets))), layout,
                 options.jobs, engine)
    started = time.perf_counter()
    resources = _resources()
    try:
        # the bar is transient: with -q it still shows while the run goes, and leaves only the total line
        with (open_engine(engine, scheduler, options, resources) as run_units,
              progress_bar(text or err) as progress):
            report = run_convert(inputs, options, resources, on_file=on_file, engine=run_units,
                                 progress=progress, keep_files=False)
    except EngineError as exc:
        raise _fail(str(exc)) from exc
    except MappingError as exc:
        raise _fail(f"configuration: {exc}") from exc
    except OSError as exc:
        raise _fail(f"cannot write to {out}: {exc.strerror or exc}") from exc
    _problem_lines(report.problems, text, err)
    report_path = out / "report.json"
    if text is not None:
        text.print(total_line(report, str(report_path)))
        if progress is not None:  # on a terminal: how fast it went (never in logs, where output must be the same)
            text.print(rate_line(report.studies_written(), report.record_count, time.perf_counter() - started,
                                 options.jobs))
    if log is not None:
        log.info("done in %.1f s (studies written: %d; exit code %d)", time.perf_counter() - started,
                 report.studies_written(), report.exit_code)
    if as_json or json_file is not None:
        _copy_report(report_path, as_json, json_file)
    raise typer.Exit(int(report.exit_code))


def _copy_report(report: Path, to_stdout: bool, file: Path | None) -> None:
    """`convert`'s JSON document is report.json: copied, never read whole (a registry's report is large)."""
    import shutil

    if file is not None:
        try:
            shutil.copyfile(report, file)
        except shutil.SameFileError:  # --json-file names report.json itself
            pass
        except OSError as exc:
            raise _fail(f"cannot write --json-file {file}: {exc.strerror or exc}") from exc
    if to_stdout:
        with report.open(encoding="utf-8") as handle:
            shutil.copyfileobj(handle, sys.stdout)


def _convert_usage(targets: tuple[str, ...], from_: str | None, engine: str, scheduler: str | None, layout: str,
                   sdtm_layout: str | None, writer_options: dict[str, str]) -> dict[str, str]:
    """The writers' options, once every option is known to be usable: a misuse stops the command here, before
    any file is read, with one line on stderr and exit code 2."""
    from converters.pipeline import engine_usage_error
    from converters.targets import CANONICAL_TARGET, discover_targets, find_targets, target_names

    chosen = find_targets((CANONICAL_TARGET, *targets))
    unknown = [t for t in targets if t not in chosen]
    if unknown:
        raise _fail(f"unknown target{'' if len(unknown) == 1 else 's'} {', '.join(unknown)}; available: "
                    f"{', '.join(target_names())}")
    if from_ is not None:
        from converters.readers import discover_readers

        formats = discover_readers()
        if from_ not in formats:
            raise _fail(f"--from {from_!r} is not an input format; available: {', '.join(formats)}")
    if (engine_error := engine_usage_error(engine, scheduler)) is not None:
        raise _fail(engine_error)
    if layout == "bulk" and sdtm_layout == "per-study":
        raise _fail("--layout bulk writes SDTM concatenated; leave out --sdtm-layout per-study")
    if sdtm_layout is not None:
        writer_options["sdtm_layout"] = sdtm_layout
    defaults = writer_options == {"bundle": _BUNDLE, "sdtm_formats": _SDTM_FORMATS}
    asked = sorted({t.name: t for t in chosen.values()}.items()) if defaults else discover_targets().items()
    usage = [error for _, target in asked for error in target.usage_errors(writer_options)]
    if usage:
        raise _fail(usage[0])
    return writer_options


def _file_detail(result: FileResult) -> str:
    """A file's result for the debug log: what was recognised and where its studies went."""
    folders = [r.output_dir for r in result.records if r.output_dir]
    return (f"format {result.format or '-'}, layout {result.layout or '-'}, encoding {result.encoding or '-'}, "
            f"records: {len(result.records)}, folders: {', '.join(folders) or '-'}")


@app.command()
def inspect(
    page: Annotated[Path, typer.Argument(help="A registry page or record to inspect.", metavar="FILE")],
    record: Annotated[int, typer.Option(metavar="N", min=0, help="Which record of a multi-record file "
                                                                 "(0-based).")] = 0,
    from_: Annotated[str | None, typer.Option("--from", metavar="FORMAT", autocompletion=_complete_format,
                                              help="Force the input format.")] = None,
    as_json: JsonFlag = False,
    json_file: JsonFile = None,
) -> None:
    """Show every extracted field with where it came from, and every stretch of the source NOT used."""
    from converters.loading import load_document
    from converters.readers import ReaderConfig, choose_reader, discover_readers, unrecognised_input
    from converters.render import inspect_tables

    resources = _resources()
    readers = discover_readers()
    if from_ is not None and from_ not in readers:
        raise _fail(f"--from {from_!r} is not an input format; available: {', '.join(readers)}")
    head: dict[str, Any] = {"file": str(page), "record": record, "format": None}
    loaded = load_document(page, 100 * 1024 * 1024)
    if isinstance(loaded, Problem):
        _refused(head, [loaded], as_json, json_file)
    reader = choose_reader(loaded, readers, from_)
    if reader is None:
        _refused(head, [unrecognised_input(loaded, from_, resources)], as_json, json_file)
    head["format"] = reader.name
    outcomes = reader.read(loaded, ReaderConfig(resources=resources))
    chosen = next((outcome for index, outcome in enumerate(outcomes) if index == record), None)
    if chosen is None:
        raise _fail(f"{page}: has no record {record}")
    if chosen.study is None:
        _refused(head, chosen.problems, as_json, json_file)
    study = chosen.study
    problems = [*chosen.problems, *study.problems]
    if as_json or json_file is not None:
        data = {
            **head,
            "source": study.source.model_dump(mode="json", exclude_none=True),
            "provenance": {k: v.model_dump(exclude_none=True) for k, v in study.provenance.items()},
            "unmapped": [u.model_dump(exclude_none=True) for u in study.unmapped],
            "problems": [p.model_dump(mode="json", exclude_none=True) for p in problems],
        }
        _emit_json(jsonio.dumps_text(_json_document("inspect", 0, data)), as_json, json_file)
    if as_json:
        return
    console = _console()
    console.print(Text(f"{page}", style="bold") + Text(
        f": {reader.name}" + (f" / layout {study.source.layout}" if study.source.layout else "")
        + f", encoding {study.source.encoding or '-'}"))
    for table in inspect_tables(study):
        console.print(table)
    _problem_lines(problems, console, _console(stderr=True))


def _refused(head: dict[str, Any], problems: list[Problem], as_json: bool, json_file: Path | None) -> NoReturn:
    """An input `inspect` cannot show: why, on stderr (and as JSON when asked), then its exit code."""
    from converters.render import problem_line

    code = int(worst_exit_code(problems) or ExitCode.UNUSABLE_INPUT)
    err = _console(stderr=True)
    for problem in problems:
        err.print(problem_line(problem))
    if as_json or json_file is not None:
        data = {**head, "problems": [p.model_dump(mode="json", exclude_none=True) for p in problems]}
        _emit_json(jsonio.dumps_text(_json_document("inspect", code, data)), as_json, json_file)
    raise typer.Exit(code)


@app.command()
def validate(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="FHIR JSON, a folder of SDTM TDM tables, a study.json, a "
                                                     "registry record, or a folder of them (walked).",
                                                metavar="PATH...")],
    fhir_version: Annotated[str | None, typer.Option(metavar="R4|R5", help="FHIR version (default: detect).")]
    = None,
    as_json: JsonFlag = False,
    json_file: JsonFile = None,
    jobs: Jobs = None,
    engine: Annotated[str, typer.Option(metavar="own|official", help="FHIR validator: the project's own, or the "
                                        "official HL7 engine (HAPI FHIR, Java 17; one JVM per run).")] = "own",
) -> None:
    """Validate files and report every problem with its location."""
    from converters.pipeline import available_cores, ordered_map
    from converters.progress import progress_bar
    from converters.render import counted
    from converters.targets.fhir.validator.definitions import normalise_version
    from converters.validate import validate_unit, validation_config, validation_units

    if fhir_version is not None and normalise_version(fhir_version) is None:
        raise _fail(f"--fhir-version {fhir_version!r} is not a FHIR version; use R4 or R5")
    target_options = {"fhir_version": fhir_version} if fhir_version is not None else {}
    worst: list[Problem] = []
    results = []
    err = _console(stderr=True)
    text = None if as_json else _console()
    units = list(validation_units(paths))  # folders walked: each file or set of SDTM tables on its own
    workers = max(1, min(jobs or available_cores(), len(units)))  # no idle workers for a few files
    if (log := _log(ctx)) is not None:
        log.info("validating (units: %d; jobs: %d)", len(units), workers)
    if engine not in ("own", "official"):
        raise _fail(f"--engine {engine!r} is not a validator; use own or official")
    checked = ordered_map(validate_unit, units, workers,
                          partial(validation_config, _resources().root, target_options))
    if engine == "official":
        checked = iter(_officially_checked(list(checked), [unit.path for unit in units], fhir_version))
    with progress_bar(text or err, label="validating", unit="files") as progress:
        if progress is not None:
            progress.start(len(units), sum(_size(unit.path) for unit in units))
        for path, (kind, problems) in zip((unit.path for unit in units), checked, strict=True):
            worst.extend(p for p in problems if p.severity in (Severity.ERROR, Severity.FATAL))
            results.append({"path": str(path), "validated_as": kind,
                            "problems": [p.model_dump(mode="json", exclude_none=True) for p in problems]})
            if text is not None:
                mark = "✓" if not any(p.severity in (Severity.ERROR, Severity.FATAL) for p in problems) else "✗"
                text.print(f"{mark} {path} ({kind}): {counted(len(problems), 'problem')}", markup=False)
            _problem_lines(problems, text, err, indent="    ")
            if progress is not None:
                progress.advance(_size(path), 1)
    code = worst_exit_code(worst)
    if as_json or json_file is not None:
        _emit_json(jsonio.dumps_text(_json_document("validate", int(code), {"results": results})), as_json,
                   json_file)
    raise typer.Exit(int(code))


def _officially_checked(checked: list[tuple[str, list[Problem]]], paths: list[Path],
                        fhir_version: str | None) -> list[tuple[str, list[Problem]]]:
    """Each FHIR file's problems found again by the official engine, in one JVM; other files as they were."""
    from converters.problem_codes import fhir_validation
    from converters.problems import Location
    from converters.targets.fhir.official import EngineUnavailable, OfficialEngine
    from converters.targets.fhir.validator.definitions import normalise_version

    version = normalise_version(fhir_version) if fhir_version is not None else None
    try:
        with OfficialEngine() as official:
            return [(kind, official.validate(path, version)) if kind == "fhir" else (kind, problems)
                    for (kind, problems), path in zip(checked, paths, strict=True)]
    except EngineUnavailable as exc:
        return [(kind, [fhir_validation.FHIR_OFFICIAL_UNAVAILABLE(Location(file=str(path)), reason=str(exc))])
                if kind == "fhir" else (kind, problems) for (kind, problems), path in zip(checked, paths, strict=True)]


def _size(path: Path) -> int:
    """A file's bytes for a progress estimate (0 for a folder or a missing path)."""
    try:
        return path.stat().st_size if path.is_file() else 0
    except OSError:
        return 0


@app.command()
def coverage(
    ctx: typer.Context,
    inputs: Annotated[list[Path], typer.Argument(help="Structured registry records (files or folders).",
                                                 metavar="INPUT...")],
    as_json: JsonFlag = False,
    json_file: JsonFile = None,
    jobs: Jobs = None,
) -> None:
    """Per source path: how many records had it, and whether trialbridge maps it."""
    from converters.coverage import CoveragePart, combine, coverage_inputs, coverage_part
    from converters.loading import iter_input_files
    from converters.pipeline import available_cores, ordered_map
    from converters.progress import progress_bar

    err = _console(stderr=True)
    text = None if as_json else _console()
    files = list(iter_input_files(inputs))
    if (log := _log(ctx)) is not None:
        log.info("counting (files: %d; jobs: %d)", len(files), jobs or available_cores())
    with progress_bar(text or err, label="counting") as progress:
        if progress is not None:
            progress.start(len(files), sum(_size(path) for path, missing in files if missing is None))
        bar = progress

        def on_part(part: CoveragePart) -> None:
            if bar is not None:
                bar.advance(part.size, part.record_count)

        parts = ordered_map(coverage_part, coverage_inputs(files, named=set(inputs)), jobs or available_cores(),
                            partial(Resources, _resources().root))
        report = combine(parts, on_part)
    if text is not None:
        text.print(report.render_text(), end="", markup=False)
    _problem_lines(report.problems, text, err)
    code = worst_exit_code(report.problems)
    if as_json or json_file is not None:
        _emit_json(jsonio.dumps_text(_json_document("coverage", int(code), report.to_dict())), as_json, json_file)
    raise typer.Exit(int(code))


@app.command()
def formats(as_json: JsonFlag = False, json_file: JsonFile = None) -> None:
    """List the input formats and output targets this installation knows."""
    from converters.readers import discover_readers
    from converters.targets import target_names

    readers = discover_readers()
    if as_json or json_file is not None:
        data = {"formats": [{"name": name, "description": reader.description} for name, reader in readers.items()],
                "targets": target_names()}
        _emit_json(jsonio.dumps_text(_json_document("formats", 0, data)), as_json, json_file)
    if as_json:
        return
    console = _console()
    console.print(Text("Input formats", style="bold") + Text(" (--from):"))
    for name, reader in readers.items():
        console.print(f"  {name:16} {reader.description}", markup=False)
    console.print(Text("Output targets", style="bold") + Text(" (--to): " + ", ".join(target_names())))


@app.command()
def problems(
    code: Annotated[str | None, typer.Argument(help="A problem code to explain.", metavar="CODE")] = None,
    as_json: JsonFlag = False,
    json_file: JsonFile = None,
) -> None:
    """List problem codes, or explain one."""
    from converters.problem_codes import all_kinds

    kinds = all_kinds()
    if code:
        kinds = [k for k in kinds if k.code == code]
        if not kinds:
            raise _fail(f"no problem code {code!r}; run `trialbridge problems` for the list")
    if as_json or json_file is not None:
        data = {"kinds": [{"code": k.code, "severity": k.severity.value, "title": k.title, "message": k.template,
                           "description": k.description, **({"reference": k.reference} if k.reference else {})}
                          for k in kinds]}
        _emit_json(jsonio.dumps_text(_json_document("problems", 0, data)), as_json, json_file)
    if as_json:
        return
    console = _console()
    if code:
        kind = kinds[0]
        console.print(Text(kind.code, style="bold") + Text(f" ({kind.severity.value}): {kind.title}\n"
                                                           f"{kind.description}"))
        if kind.reference:
            console.print(f"Reference: {kind.reference}", markup=False)
        return
    for kind in kinds:
        console.print(f"{kind.code:40} {kind.severity.value:8} {kind.title}", markup=False)


if __name__ == "__main__":  # pragma: no cover - `python -m converters.cli`, as `python -m converters`
    app(prog_name="trialbridge")
