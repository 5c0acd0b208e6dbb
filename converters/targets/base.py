"""The contract every writer follows.

A writer is a module (or package) in `converters/writers/` that defines a module-level `WRITERS` dict
mapping target names (`fhir-r4`, `sdtm`, ...) to factories `(WriterConfig) -> Writer`. The pipeline finds
them by that name, so adding a target is one new module plus its mapping file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from converters.model import Study
from converters.problems import Problem
from converters.resources import Resources


@dataclass(frozen=True)
class WriterConfig:
    """Options for writers, passed in (no global state). `options` holds target-specific CLI options."""

    resources: Resources
    options: dict[str, str] = field(default_factory=dict)
    validate: bool = True


@dataclass
class WriteResult:
    files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class Writer(Protocol):
    target: str

    def write_study(self, study: Study, study_dir: Path) -> WriteResult:
        """Write this study's outputs into its own folder (created by the pipeline)."""
        ...

    def finish(self, out_dir: Path) -> WriteResult:
        """Write outputs spanning all studies (e.g. concatenated tables); most writers do nothing."""
        ...


WriterFactory = Callable[[WriterConfig], Writer]
