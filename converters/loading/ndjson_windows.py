"""Cutting a large NDJSON file into windows of lines, so one registry-sized file is converted on every core
without ever being held whole.

The file is read once, in chunks, by the process that plans the run: it checks the file is UTF-8 without a byte
order mark (so every window decodes as the whole file would), counts lines, and cuts a window after every
`size` non-blank lines. Each worker then reads only its window's bytes (`read_window`)."""

from __future__ import annotations

import codecs
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from converters.loading.document import LineWindow

_CHUNK = 1 << 20
WINDOW_BYTES = 8 << 20  # a window also ends after this many bytes: its memory, not its record count, is bounded


@dataclass(frozen=True)
class TextWindow:
    """Bytes `start` to `stop` of a file, beginning at a line start, with where those lines sit in the file."""

    start: int
    stop: int
    lines: LineWindow


def _first_line_is_a_record(path: Path) -> bool:
    """Whether the file looks like NDJSON: its first line alone is a whole JSON object."""
    try:
        with path.open("rb") as handle:
            line = handle.readline(64 * 1024 * 1024)
        return line.startswith(b"{") and isinstance(json.loads(line), dict)
    except (OSError, ValueError, RecursionError):
        return False


def _one_window_at_most(path: Path, size: int, max_bytes: int) -> bool:
    """Whether the file is too small to be cut at all: under `WINDOW_BYTES` and `max_bytes`, with fewer than `size`
    line ends. Counting line ends is cheap; for the many small files of a registry download (one study each) it
    saves parsing the first line, decoding and hashing the whole file only to find it makes one window."""
    try:
        if path.stat().st_size >= min(WINDOW_BYTES, max_bytes + 1):
            return False
        with path.open("rb") as handle:
            data = handle.read(min(WINDOW_BYTES, max_bytes + 1))
    except OSError:
        return False
    return len(data) < WINDOW_BYTES and len(data) <= max_bytes and data.count(b"\n") < size


def ndjson_windows(path: Path, size: int, max_bytes: int) -> tuple[list[TextWindow], str] | None:
    """The file's windows of at most `size` records (and about `WINDOW_BYTES`) and its digest; None when the file
    is not NDJSON in UTF-8, or is small enough to read whole (one window, within `max_bytes`)."""
    if _one_window_at_most(path, size, max_bytes) or not _first_line_is_a_record(path):
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    digest = hashlib.sha256()
    windows: list[TextWindow] = []
    start, offset, newlines, records, first_line, first_index = 0, 0, 0, 0, 1, 0
    filled = False  # the line being read so far has something besides whitespace
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                decoder.decode(chunk)
                pos = 0
                while (end := chunk.find(b"\n", pos)) != -1:
                    filled = filled or bool(chunk[pos:end].strip())
                    newlines += 1
                    offset += end + 1 - pos
                    pos = end + 1
                    records += filled
                    if filled and (records - first_index >= size or offset - start >= WINDOW_BYTES):
                        windows.append(TextWindow(start, offset, LineWindow(first_line, first_index)))
                        start, first_line, first_index = offset, newlines + 1, records
                    filled = False
                filled = filled or bool(chunk[pos:].strip())
                offset += len(chunk) - pos
            decoder.decode(b"", final=True)
    except (OSError, UnicodeDecodeError):
        return None
    if offset > start:
        windows.append(TextWindow(start, offset, LineWindow(first_line, first_index)))
    if len(windows) <= 1 and offset <= max_bytes:
        return None
    return windows, digest.hexdigest()


def read_window(path: Path, window: TextWindow) -> bytes:
    """A window's bytes, read from the file."""
    with path.open("rb") as handle:
        handle.seek(window.start)
        return handle.read(window.stop - window.start)
