"""The `trialbridge` command line. Thin commands: parse options, call library functions, print reports.

Exit codes (converters.problems.ExitCode): 0 clean, 1 data problems of severity error, 2 unusable input
or usage error.
"""

from __future__ import annotations

import gc

# The command line owns its process. Starting up (imports, model classes, mapping data, compiled patterns) makes
# a great many objects that live as long as the process, and with the collector's default thresholds it scans
# them again and again: 0.05 s of CPU for one record to study.json, 0.2 s with FHIR and SDTM. The thresholds a
# conversion batch runs with (`pipeline.engines.settle_for_batch`) are set before anything else is imported.
gc.set_threshold(10_000, 10, 10)

import sys  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Annotated  # noqa: E402

import typer  # noqa: E402
from rich.console import Console  # noqa: E402

from converters import __version__, jsonio  # noqa: E402
from converters.problems import ExitCode, Problem, Severity, worst_exit_code  # noqa: E402
from converters.resources import MappingError, Resources  # noqa: E402

app = typer.Typer(
    name="trialbridge",
    help="Turn clinical-trial registry records into FHIR R4/R5 and CDISC SDTM, with provenance and validation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


# The writer options' defaults: options left at them cannot be wrong for a target that is not written, so only
# the targets written are asked about them (and only they are imported).
_BUNDLE = "collection"
_SDTM_FORMATS = "csv,json,xpt,define"


def _fail(message: str, code: ExitCode = ExitCode.UNUSABLE_INPUT) -> typer.Exit:
    """One readable line on stderr, then exit: configuration and usage errors end here."""
    _console(stderr=True).print(f"[bold red]error:[/] {message}")
    return typer.Exit(int(code))


def _resources() -> Resources:
    return Resources()


def _version_callback(value: bool) -> None:
    if value:
        print(f"trialbridge {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """trialbridge: registry records -> canonical study -> FHIR / SDTM."""


@app.command()
def convert(
    inputs: Annotated[list[Path], typer.Argument(help="Files or folders to convert.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    to: Annotated[str, typer.Option(help="Comma-separated targets beside study.json: fhir-r4, fhir-r5, sdtm.")]
    = "study",
    from_: Annotated[str | None, typer.Option("--from", help="Force the input format (see `formats`).")] = None,
    bundle: Annotated[str, typer.Option(help="FHIR Bundle type: collection or transaction.")] = _BUNDLE,
    layout: Annotated[str, typer.Option(help="Output layout: per-study (a folder per study) or bulk (study.ndjson, "
                                              "FHIR NDJSON per resource type, SDTM concatenated).")] = "per-study",
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Worker processes (default: every core).",
                                             min=1)] = None,
    engine: Annotated[str, typer.Option(help="Where units are converted: local (--jobs processes here) or dask "
                                             "(a Dask cluster: --scheduler's, else --jobs local workers).")]
    = "local",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (tcp://host:port) for --engine "
                                                       "dask; workers must share the input and output paths.")]
    = None,
    sdtm_layout: Annotated[str | None, typer.Option(help="SDTM tables: per-study or concatenated "
                                                     "(default: per-study; concatenated in the bulk layout).")]
    = None,
    sdtm_formats: Annotated[str, typer.Option(help="SDTM formats: csv,json,xpt,define.")] = _SDTM_FORMATS,
    max_bytes: Annotated[int, typer.Option(help="Largest input file accepted, in bytes.")] = 100 * 1024 * 1024,
    max_records: Annotated[int | None, typer.Option(help="Most records read from one multi-record file.")] = None,
    no_validate: Annotated[bool, typer.Option("--no-validate", help="Skip validation of FHIR/SDTM outputs.")]
    = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the total line.")] = False,
    show_problems: Annotated[bool, typer.Option("--problems", help="List every problem under its file.")]
    = False,
) -> None:
    """Convert registry records into canonical study.json files (and FHIR / SDTM with --to)."""
    import time

    from converters.pipeline import (
        LAYOUTS,
        ConvertOptions,
        EngineError,
        FileResult,
        available_cores,
        engine_usage_error,
        open_engine,
    )
    from converters.pipeline import convert as run_convert
    from converters.progress import progress_bar
    from converters.render import file_line, problem_line, rate_line, total_line
    from converters.targets import CANONICAL_TARGET, discover_targets, find_targets, target_names

    targets = tuple(t.strip() for t in to.split(",") if t.strip())
    chosen = find_targets((CANONICAL_TARGET, *targets))
    unknown = [t for t in targets if t not in chosen]
    if unknown:
        raise _fail(f"unknown target(s) {', '.join(unknown)}; available: {', '.join(target_names())}")
    if (engine_error := engine_usage_error(engine, scheduler)) is not None:
        raise _fail(engine_error)
    if layout not in LAYOUTS:
        raise _fail(f"--layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    if layout == "bulk" and sdtm_layout == "per-study":
        raise _fail("--layout bulk writes SDTM concatenated; leave out --sdtm-layout per-study")
    writer_options = {"bundle": bundle, "sdtm_formats": sdtm_formats}
    if sdtm_layout is not None:
        writer_options["sdtm_layout"] = sdtm_layout
    defaults = writer_options == {"bundle": _BUNDLE, "sdtm_formats": _SDTM_FORMATS}
    asked = sorted({t.name: t for t in chosen.values()}.items()) if defaults else discover_targets().items()
    usage = [error for _, target in asked for error in target.usage_errors(writer_options)]
    if usage:
        raise _fail(usage[0])
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
    console = _console()

    def on_file(result: FileResult) -> None:
        if not quiet:
            console.print(file_line(result))
            if show_problems:
                for problem in result.all_problems():
                    console.print("    ", problem_line(problem))

    started = time.perf_counter()
    resources = _resources()
    try:
        # the bar is transient: with -q it still shows while the run goes, and leaves only the total line
        with (open_engine(engine, scheduler, options, resources) as run_units,
              progress_bar(console) as progress):
            report = run_convert(inputs, options, resources, on_file=on_file, engine=run_units,
                                 progress=progress, keep_files=False)
    except EngineError as exc:
        raise _fail(str(exc)) from exc
    except MappingError as exc:
        raise _fail(f"configuration: {exc}") from exc
    except OSError as exc:
        raise _fail(f"cannot write to {out}: {exc.strerror or exc}") from exc
    for problem in report.problems:
        console.print(problem_line(problem))
    console.print(total_line(report, str(out / "report.json")))
    if progress is not None:  # on a terminal: how fast it went (never in logs, where output must be the same)
        console.print(rate_line(report.studies_written(), report.record_count, time.perf_counter() - started,
                                options.jobs))
    raise typer.Exit(int(report.exit_code))


@app.command()
def inspect(
    page: Annotated[Path, typer.Argument(help="A registry page or record to inspect.")],
    record: Annotated[int, typer.Option(help="Which record of a multi-record file (0-based).")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print provenance and unused spans as JSON.")] = False,
    from_: Annotated[str | None, typer.Option("--from", help="Force the input format.")] = None,
) -> None:
    """Show every extracted field with where it came from, and every stretch of the source NOT used."""
    from converters.loading import load_document
    from converters.readers import ReaderConfig, choose_reader, discover_readers, unrecognised_input
    from converters.render import inspect_tables, problem_line

    resources = _resources()
    loaded = load_document(page, 100 * 1024 * 1024)
    if isinstance(loaded, Problem):
        raise _fail(loaded.one_line())
    reader = choose_reader(loaded, discover_readers(), from_)
    if reader is None:
        raise _fail(unrecognised_input(loaded, from_, resources).one_line())
    outcomes = reader.read(loaded, ReaderConfig(resources=resources))
    chosen = None
    for index, outcome in enumerate(outcomes):
        if index == record:
            chosen = outcome
            break
    if chosen is None:
        raise _fail(f"{page}: has no record {record}")
    if chosen.study is None:
        for problem in chosen.problems:
            _console(stderr=True).print(problem_line(problem))
        raise typer.Exit(int(worst_exit_code(chosen.problems) or ExitCode.UNUSABLE_INPUT))
    study = chosen.study
    if as_json:
        data = {
            "source": study.source.model_dump(mode="json", exclude_none=True),
            "provenance": {k: v.model_dump(exclude_none=True) for k, v in study.provenance.items()},
            "unmapped": [u.model_dump(exclude_none=True) for u in study.unmapped],
            "problems": [p.model_dump(mode="json", exclude_none=True) for p in study.problems],
        }
        print(jsonio.dumps_text(data), end="")
        return
    console = _console()
    console.print(f"[bold]{page}[/]: {reader.name}" + (f" / layout {study.source.layout}" if study.source.layout
                                                      else "") + f", encoding {study.source.encoding or '-'}")
    for table in inspect_tables(study):
        console.print(table)
    for problem in [*chosen.problems, *study.problems]:
        console.print(problem_line(problem))


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="FHIR JSON, a folder of SDTM TDM tables, a study.json, or a "
                                                    "registry record.")],
    fhir_version: Annotated[str | None, typer.Option(help="R4 or R5 (default: detect).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print problems as JSON.")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Worker processes (default: every core).",
                                             min=1)] = None,
) -> None:
    """Validate files and report every problem with its location."""
    from converters.pipeline import available_cores, ordered_map
    from converters.progress import progress_bar
    from converters.render import problem_line
    from converters.validate import validate_named

    target_options = {"fhir_version": fhir_version} if fhir_version is not None else {}
    worst: list[Problem] = []
    results = []
    console = _console()
    work = partial(validate_named, options=target_options)
    workers = min(jobs or available_cores(), len(paths))  # no idle workers for a few files
    checked = ordered_map(work, paths, workers, partial(Resources, _resources().root))
    with progress_bar(console, label="validating", unit="files") as progress:
        if progress is not None:
            progress.start(len(paths), sum(_size(path) for path in paths))
        for path, (kind, problems) in zip(paths, checked, strict=True):
            worst.extend(p for p in problems if p.severity in (Severity.ERROR, Severity.FATAL))
            if as_json:
                results.append({"path": str(path), "validated_as": kind,
                                "problems": [p.model_dump(mode="json", exclude_none=True) for p in problems]})
            else:
                mark = "✓" if not any(p.severity in (Severity.ERROR, Severity.FATAL) for p in problems) else "✗"
                console.print(f"{mark} {path} ({kind}): {len(problems)} problem(s)")
                for problem in problems:
                    console.print("    ", problem_line(problem))
            if progress is not None:
                progress.advance(_size(path), 1)
    if as_json:
        print(jsonio.dumps_text(results), end="")
    raise typer.Exit(int(worst_exit_code(worst)))


def _size(path: Path) -> int:
    """A file's bytes for a progress estimate (0 for a folder or a missing path)."""
    try:
        return path.stat().st_size if path.is_file() else 0
    except OSError:
        return 0


@app.command()
def coverage(
    inputs: Annotated[list[Path], typer.Argument(help="Structured registry records (files or folders).")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the coverage table as JSON.")]
    = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Worker processes (default: every core).",
                                             min=1)] = None,
) -> None:
    """Per source path: how many records had it, and whether trialbridge maps it."""
    from converters.coverage import CoveragePart, combine, coverage_inputs, coverage_part
    from converters.loading import iter_input_files
    from converters.pipeline import available_cores, ordered_map
    from converters.progress import progress_bar
    from converters.render import problem_line

    console = _console()
    files = list(iter_input_files(inputs))
    with progress_bar(console, label="counting") as progress:
        if progress is not None:
            progress.start(len(files), sum(_size(path) for path, missing in files if missing is None))
        bar = progress

        def on_part(part: CoveragePart) -> None:
            if bar is not None:
                bar.advance(part.size, part.record_count)

        parts = ordered_map(coverage_part, coverage_inputs(files), jobs or available_cores(),
                            partial(Resources, _resources().root))
        report = combine(parts, on_part)
    console.print(report.render_text(), end="", markup=False)
    for problem in report.problems:
        console.print(problem_line(problem))
    if json_out:
        json_out.write_bytes(jsonio.dumps(report.to_dict()))
    raise typer.Exit(int(worst_exit_code(report.problems)))


@app.command()
def formats() -> None:
    """List the input formats and output targets this installation knows."""
    from converters.readers import discover_readers
    from converters.targets import target_names

    console = _console()
    console.print("[bold]Input formats[/] (--from):")
    for name, reader in discover_readers().items():
        console.print(f"  {name:16} {reader.description}")
    console.print("[bold]Output targets[/] (--to): " + ", ".join(target_names()))


@app.command()
def problems(
    code: Annotated[str | None, typer.Argument(help="A problem code to explain.")] = None,
) -> None:
    """List problem codes, or explain one."""
    from converters.problem_codes import all_kinds

    kinds = all_kinds()
    console = _console()
    if code:
        match = [k for k in kinds if k.code == code]
        if not match:
            raise _fail(f"no problem code {code!r}; run `trialbridge problems` for the list")
        kind = match[0]
        console.print(f"[bold]{kind.code}[/] ({kind.severity.value}): {kind.title}\n{kind.description}")
        if kind.reference:
            console.print(f"Reference: {kind.reference}")
        return
    for kind in kinds:
        console.print(f"{kind.code:40} {kind.severity.value:8} {kind.title}")


def run() -> None:  # pragma: no cover - entry point for `python -m converters`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
