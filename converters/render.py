"""Terminal rendering of reports (rich). Presentation only: every function takes data and returns text
or rich renderables, so the CLI stays thin and the same data can be rendered other ways later."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from converters.model import Study, resolve_pointer, study_to_dict
from converters.pipeline import FileResult, RunReport
from converters.problems import Problem, Severity, count_by_severity

_STYLE = {
    Severity.FATAL: "bold red",
    Severity.ERROR: "red",
    Severity.WARNING: "yellow",
    Severity.INFO: "cyan",
}


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """`1 file`, `2 files`, `1 study`, `0 studies`: a number with its noun in the right number."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def problem_line(problem: Problem) -> Text:
    return Text(problem.one_line(), style=_STYLE[problem.severity])


def _counts_text(problems: list[Problem]) -> str:
    counts = count_by_severity(problems)
    shown = [f"{n} {sev}" for sev, n in counts.items() if n]
    return ", ".join(shown) if shown else "none"


def file_line(result: FileResult) -> Text:
    """One line per file: format/layout, fields mapped, share of the source used, problems."""
    fatal = [p for p in result.problems if p.severity is Severity.FATAL]
    if fatal:
        return Text(f"✗ {fatal[0].one_line()}", style=_STYLE[Severity.FATAL])
    if result.skipped:
        return Text(f"- {result.problems[0].one_line()}", style="dim")
    kind = result.format or "?"
    if result.layout:
        kind += f"/{result.layout}"
    written = [r for r in result.records if r.written]
    fields = sum(r.fields_mapped for r in result.records)
    used = sum(r.units_used for r in result.records)
    total = sum(r.units_total for r in result.records)
    unit = result.records[0].unit if result.records else "lines"
    share = f"{100 * used / total:.0f}% of {unit} used" if total else "nothing used"
    refused = len(result.records) - len(written)
    records = counted(len(written), "study", "studies")
    if refused:
        records += f", {refused} refused"
    problems = result.all_problems()
    mark, style = ("✓", "green") if result.exit_code == 0 else ("!", "yellow")
    text = Text(f"{mark} ", style=style)
    text.append(f"{result.file}  {kind}  {records}  {counted(fields, 'field')}  {share}  "
                f"problems: {_counts_text(problems)}")
    return text


def total_line(report: RunReport, report_path: str) -> Text:
    counts = report.severity_counts()
    shown = ", ".join(f"{n} {sev}" for sev, n in counts.items() if n) or "none"
    skipped = f", {report.skipped_count} skipped (not studies)" if report.skipped_count else ""
    return Text(
        f"Total: {counted(report.file_count, 'file')}, {counted(report.studies_written(), 'study', 'studies')} "
        f"written, {report.unusable_count} unusable{skipped}; problems: {shown} -> {report_path}",
        style="bold",
    )


def rate_line(studies: int, records: int, seconds: float, jobs: int) -> Text:
    """How fast the run went: records read and studies written per second, and on how many processes."""
    rate = studies / seconds if seconds > 0 else 0.0
    return Text(f"{counted(records, 'record')} in {seconds:.1f} s ({rate:,.0f} studies/s, {counted(jobs, 'job')})",
                style="dim")


def _short(value: Any, width: int = 90) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _lines(line: int | None, end: int | None) -> str:
    if line is None:
        return ""
    return f"{line}" if end is None or end == line else f"{line}-{end}"


def inspect_tables(study: Study) -> list[Table]:
    """What was read (field, value, where from) and what was not (unused spans), for a data steward."""
    document = study_to_dict(study)
    fields = Table(title=f"Extracted fields ({len(study.provenance)})", show_lines=False, expand=True)
    fields.add_column("field (JSON pointer in study.json)", overflow="fold", ratio=3)
    fields.add_column("value", overflow="fold", ratio=5)
    fields.add_column("source", overflow="fold", ratio=2)
    for pointer, loc in study.provenance.items():
        where = f"lines {_lines(loc.line, loc.end_line)}" if loc.line else (loc.pointer or "")
        fields.add_row(escape(pointer), escape(_short(resolve_pointer(document, pointer))), escape(where))
    unmapped = Table(title=f"Not used ({counted(len(study.unmapped), 'span')})", expand=True)
    unmapped.add_column("where", ratio=2)
    unmapped.add_column("reason", ratio=2)
    unmapped.add_column("text", overflow="fold", ratio=8)
    for span in study.unmapped:
        where = f"lines {_lines(span.line, span.end_line)}" if span.line else (span.pointer or "")
        unmapped.add_row(escape(where), escape(span.reason or ""), escape(_short(span.text or "", 120)))
    return [fields, unmapped]
