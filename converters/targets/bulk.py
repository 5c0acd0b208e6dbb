"""Bulk files: one NDJSON file per kind of output for a whole run, appended to study by study, in input order,
by the process that commits the run (see `Writer.collect`). Files are opened on first use, truncated (a run
writes them anew), and closed by the writer's `finish`."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from converters import jsonio
from converters.problem_codes import core
from converters.problems import Location
from converters.targets.base import WriteResult


def json_line(document: Any) -> bytes:
    """One NDJSON line: compact JSON, UTF-8, key order as built, newline-terminated."""
    return jsonio.dumps_line(document) + b"\n"


class BulkFiles:
    """The open bulk files of one writer below `root`, by relative name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._open: dict[str, IO[bytes]] = {}
        self._failed: set[str] = set()

    def append(self, name: str, lines: list[bytes]) -> WriteResult:
        """Append lines to the file `name`; the result names the file, or says why it could not be written."""
        path = self.root / name
        if name in self._failed:
            return WriteResult()
        try:
            handle = self._open.get(name)
            if handle is None:
                path.parent.mkdir(parents=True, exist_ok=True)
                handle = self._open[name] = path.open("wb")
            handle.writelines(lines)
        except OSError as exc:
            self._failed.add(name)
            return WriteResult(problems=[core.OUTPUT_WRITE_FAILED(Location(file=str(path)), what=str(path),
                                                                  reason=str(exc))])
        return WriteResult(files=[path])

    def close(self) -> None:
        for handle in self._open.values():
            handle.close()
        self._open.clear()
