"""Find the input files a command names and load each one's bytes within the size limit."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from converters.loading.document import SourceDocument
from converters.problem_codes import core
from converters.problems import Location, Problem


def iter_input_files(paths: Iterable[Path]) -> Iterator[tuple[Path, Problem | None]]:
    """Files named, and files under folders named (sorted, hidden ones skipped); missing paths as problems."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if child.is_file() and not any(part.startswith(".") for part in rel.parts):
                    yield child, None
        elif path.exists():
            yield path, None
        else:
            yield path, core.INPUT_NOT_FOUND(Location(file=str(path)))


def load_document(path: Path, max_bytes: int) -> SourceDocument | Problem:
    """Read a file's bytes within the size limit, or say why it cannot be read."""
    where = Location(file=str(path))
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return core.INPUT_TOO_LARGE(where, size=size, limit=max_bytes, what="one input file")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        return core.INPUT_UNREADABLE(where, reason=exc.strerror or str(exc))
    if len(data) > max_bytes:  # grew while reading, or a device file
        return core.INPUT_TOO_LARGE(where, size=len(data), limit=max_bytes, what="one input file")
    return SourceDocument(name=str(path), data=data, sha256=hashlib.sha256(data).hexdigest())
