"""Errors are values: one `Problem` type, a catalogue of problem kinds, and the exit-code table.

Every reader, writer and validator returns problems instead of printing or raising them, so that a run
report, a terminal summary and (later) SARIF or HTML reports are all rendered from the same data.

A *kind* (`ProblemKind`) is declared once in a catalogue module under `converters/problem_codes/` with a
stable code, a default severity, a message template, a description and, where one exists, the standard it
follows. `docs/problems.md` is generated from those catalogues (`python -m converters.problem_codes`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    """How bad a problem is: `error` makes the run exit 1, `fatal` means the input was unusable (exit 2)."""

    FATAL = "fatal"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class ExitCode(IntEnum):
    """The one table of exit codes (also in the README)."""

    OK = 0
    DATA_ERRORS = 1
    UNUSABLE_INPUT = 2


class Location(BaseModel):
    """Where a problem is: a file plus a line span, a JSON pointer / XPath / FHIRPath, and a record id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str | None = None
    record: str | None = None
    line: int | None = None
    end_line: int | None = None
    path: str | None = None

    def describe(self) -> str:
        """Render as `file:line` style text for terminals."""
        parts: list[str] = []
        head = self.file or ""
        if self.line is not None:
            head += f":{self.line}"
            if self.end_line is not None and self.end_line != self.line:
                head += f"-{self.end_line}"
        if head:
            parts.append(head)
        if self.record:
            parts.append(f"[{self.record}]")
        if self.path:
            parts.append(self.path)
        return " ".join(parts)


class Problem(BaseModel):
    """One finding about the data: severity, stable code, plain-sentence message and location."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    severity: Severity
    code: str
    message: str
    location: Location = Location()

    def with_location(self, **changes: object) -> Problem:
        """Return a copy whose location has the given fields filled (e.g. the file, once known)."""
        loc = self.location.model_copy(update={k: v for k, v in changes.items() if v is not None})
        return self.model_copy(update={"location": loc})

    def one_line(self) -> str:
        """The single line shown in terminals and logs."""
        where = self.location.describe()
        return f"{where + ': ' if where else ''}{self.severity.value} {self.code}: {self.message}"


@dataclass(frozen=True, slots=True)
class ProblemKind:
    """A catalogue entry: everything about a kind of problem except where it happened."""

    code: str
    severity: Severity
    title: str
    template: str
    description: str
    reference: str | None = None

    def __call__(self, location: Location | None = None, /, **params: object) -> Problem:
        """Make a `Problem` of this kind; `params` fill the message template."""
        return Problem(
            severity=self.severity,
            code=self.code,
            message=self.template.format(**params),
            location=location or Location(),
        )

    def at(self, severity: Severity, location: Location | None = None, /, **params: object) -> Problem:
        """Like calling the kind, but with a severity other than the default (e.g. a rule's own)."""
        return self(location, **params).model_copy(update={"severity": severity})


def worst_exit_code(problems: Iterable[Problem]) -> ExitCode:
    """Exit code for a set of problems: 2 if any input was unusable, 1 if any data error, else 0."""
    code = ExitCode.OK
    for problem in problems:
        if problem.severity is Severity.FATAL:
            return ExitCode.UNUSABLE_INPUT
        if problem.severity is Severity.ERROR:
            code = ExitCode.DATA_ERRORS
    return code


def count_by_severity(problems: Iterable[Problem]) -> dict[str, int]:
    """Counts per severity, in severity order, for summaries."""
    counts = {s.value: 0 for s in Severity}
    for problem in problems:
        counts[problem.severity.value] += 1
    return counts
