"""The progress bar of long runs (rich): records done, their rate, and an estimate of the time left from the
bytes of input done. Shown only on a terminal and never under CI, where the output must stay plain."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:  # rich.progress is imported only where a bar is shown: runs in logs and CI never pay for it
    from rich.progress import Progress, TaskID


class RecordsProgress:
    """Adapts a rich `Progress` to what a run reports (`converters.pipeline.Progress`)."""

    def __init__(self, bar: Progress, label: str, unit: str) -> None:
        self.bar = bar
        self.label = label
        self.unit = unit
        self.task: TaskID | None = None
        self.records = 0

    def start(self, files: int, size: int) -> None:
        self.task = self.bar.add_task(self.label, total=max(size, 1), records=0, rate="")

    def advance(self, size: int, records: int) -> None:
        if self.task is None:
            return
        self.records += records
        elapsed = self.bar.tasks[0].elapsed or 0.0
        rate = f"{self.records / elapsed:,.0f} {self.unit}/s" if elapsed > 0 else ""
        self.bar.update(self.task, advance=size, records=self.records, rate=rate)


def shows_progress(console: Console) -> bool:
    """A bar only for a person at a terminal: not in CI, not when output is piped or redirected."""
    return console.is_terminal and not os.environ.get("CI")


@contextmanager
def progress_bar(console: Console, enabled: bool = True, label: str = "converting",
                 unit: str = "records") -> Iterator[RecordsProgress | None]:
    """A progress bar on `console` saying what is done (`label`) and counting `unit`s, or None where none should
    be shown."""
    if not (enabled and shows_progress(console)):
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(),
               TextColumn("{task.fields[records]:,} " + unit), TextColumn("{task.fields[rate]}"),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        yield RecordsProgress(bar, label, unit)
