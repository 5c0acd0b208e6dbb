"""The contract every output target follows: a writer for its outputs, checks of what was written, and a
validator for files of its kind.

A target is a package in `converters/targets/` whose `__init__` defines a module-level `TARGET` (see
`Target`). `discover_targets()` finds them by that name, so a new output target is one new package plus its
mapping files: `--to` offers its writers and `trialbridge validate` asks it whether it claims a path.

Writing and checking are two steps. A writer returns the files it wrote, its own problems and, as `checks`,
the validations of those outputs (run on what it still holds in memory, so nothing is read back); the
pipeline runs the checks after writing, unless validation is turned off. A target's `validate` is for files
given on their own (`trialbridge validate PATH`), where there is nothing in memory to check against.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Protocol, TypeVar, cast

from converters.model import Study
from converters.problems import Problem
from converters.resources import Resources

T = TypeVar("T")

#: A validation of an output that was just written; returns its problems (an empty list when it is valid).
OutputCheck = Callable[[], list[Problem]]


@dataclass(frozen=True)
class WriterConfig:
    """Options for writers, passed in (no global state). `options` holds target-specific CLI options."""

    resources: Resources
    options: dict[str, str] = field(default_factory=dict)


@dataclass
class WriteResult:
    files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    checks: list[OutputCheck] = field(default_factory=list)  # validations of `files`, run after writing
    # a study's part of the run-level outputs (bulk lines, tables to concatenate): the pipeline hands each to
    # `Writer.collect` in the process that commits the run, in input order
    shared: list[object] = field(default_factory=list)

    def run_checks(self) -> list[Problem]:
        """The problems of every check, in the order the outputs were written."""
        return [problem for check in self.checks for problem in check()]

    def checked(self) -> WriteResult:
        """This result with its checks run: the outputs' problems after the writer's (what the pipeline does)."""
        return WriteResult(files=list(self.files), problems=[*self.problems, *self.run_checks()])


class Writer(Protocol):
    target: str

    def write_study(self, study: Study, study_dir: Path) -> WriteResult:
        """Write this study's outputs into its own folder (created by the pipeline)."""
        ...

    def collect(self, payload: object, out_dir: Path) -> WriteResult:
        """Take one study's shared payload (from `write_study`, maybe in another process) into the run-level
        outputs below `out_dir`: append it to a bulk file, or keep it for `finish`. Returns the files it went to."""
        ...

    def finish(self, out_dir: Path) -> WriteResult:
        """Write outputs spanning all studies (e.g. concatenated tables) and close bulk files."""
        ...


WriterFactory = Callable[[WriterConfig], Writer]


@dataclass(frozen=True)
class ValidateConfig:
    """What `trialbridge validate` passes to the target that claims a path. `options` holds target-specific
    options (`fhir_version`). One config serves every path of a command in a process, so `built` keeps what a
    target builds once (a rule runner, FHIR validators) for the next path."""

    resources: Resources
    options: Mapping[str, str] = field(default_factory=dict)
    max_bytes: int = 100 * 1024 * 1024
    _built: dict[str, object] = field(default_factory=dict, init=False, repr=False, compare=False)

    def built(self, key: str, build: Callable[[], T]) -> T:
        """What `build` returns, built on the first call for `key` in this config and kept for the next."""
        if key not in self._built:
            self._built[key] = build()
        return cast(T, self._built[key])


class PathProbe:
    """A path given to `trialbridge validate`, with what targets look at to claim it, each read at most once."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes

    @cached_property
    def json(self) -> object | None:
        """The file parsed as JSON; None for a folder, a file too large, unreadable or not JSON."""
        if not self.path.is_file():
            return None
        try:
            if self.path.stat().st_size > self.max_bytes:
                return None
            data: object = json.loads(self.path.read_bytes())
            return data
        except (OSError, ValueError, RecursionError):
            return None


    @cached_property
    def first_line_json(self) -> object | None:
        """The first line parsed as JSON, when the whole file is not JSON (NDJSON: one value per line)."""
        if self.json is not None or not self.path.is_file():
            return None
        try:
            with self.path.open("rb") as handle:
                line = handle.readline(self.max_bytes)
            data: object = json.loads(line)
            return data
        except (OSError, ValueError, RecursionError):
            return None


class Target(Protocol):
    """One output target: its writers (one per `--to` name) and the validator of the files it writes."""

    name: str  # the package: study, fhir, sdtm
    validated_as: str  # what `trialbridge validate` reports a path it claims as
    writers: Mapping[str, WriterFactory]  # `--to` name -> writer factory

    def usage_errors(self, options: Mapping[str, str]) -> list[str]:
        """Writer options this target cannot use at all, one line each: the command stops before converting."""
        ...

    def claims(self, probe: PathProbe) -> float:
        """How sure (0..1) this target is that the path is one of its outputs, from content only."""
        ...

    def covers(self, probe: PathProbe) -> frozenset[Path]:
        """The paths below a folder this target claims that its `validate` reads (a folder walk checks them no
        further; the rest of the folder is walked); empty for a file."""
        ...

    def companion(self, probe: PathProbe) -> str | None:
        """What a file is that this target writes beside its outputs and that no standard defines (the FHIR
        trace), so `validate` lists it as not checked rather than taking it for a registry record; else None."""
        ...

    def validate(self, probe: PathProbe, config: ValidateConfig) -> list[Problem]:
        """Every problem of a path this target claims; never raises on bad input."""
        ...
