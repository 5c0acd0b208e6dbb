"""Read the members of a ZIP download one at a time, in memory, refusing hostile archives.

Registry bulk downloads are ZIPs of one file per study (ClinicalTrials.gov: JSON; older ones XML). The archive
is already in memory (the pipeline's size limit applies to it); each member is expanded into memory on its
own, handed to the caller, and dropped before the next, so memory holds one expanded member at a time. Which
members hold records is said by their file suffixes, which the caller passes (the readers declare them).

Defences, each reported as a problem naming the member, never an exception:
- nothing is ever extracted to disk, and member names that are absolute or climb out (`../../x`) are
  refused anyway (a genuine download never has them);
- ZIP bombs: a member is refused before expansion if its declared size passes the per-file limit, the
  archive's total expanded size would pass `max_expanded_bytes`, or its compression ratio is absurd; while
  expanding, the actual byte count is checked against the same limits (a header can lie);
- a damaged or truncated archive (no central directory) is one fatal problem; a damaged member (bad CRC,
  cut short) is skipped with a problem and the others are read;
- encrypted members, nested archives and files without a record suffix are skipped with a problem.
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath

from converters.loading.document import ArchiveWindow
from converters.problem_codes import ctgov
from converters.problems import Location, Problem

MAX_COMPRESSION_RATIO = 200  # real records compress 3-25:1; deflate's ceiling is about 1032:1
RATIO_CHECK_FROM = 1024 * 1024  # small members may compress well without being a threat
_CHUNK = 64 * 1024
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes


@dataclass(frozen=True)
class MemberProblem:
    name: str | None
    problem: Problem


def is_zip(data: bytes) -> bool:
    return data.startswith(ZIP_SIGNATURES)


def first_member_name(data: bytes) -> str | None:
    """The file name in the first local header (readable even when the archive is truncated)."""
    if not data.startswith(b"PK\x03\x04") or len(data) < 30:
        return None
    name_length = int.from_bytes(data[26:28], "little")
    raw = data[30 : 30 + name_length]
    return raw.decode("utf-8", errors="replace") if raw else None


def unsafe_reason(name: str) -> str | None:
    """Why a member name is unsafe, or None."""
    if "\x00" in name:
        return "contains a NUL character"
    normal = name.replace("\\", "/")
    if normal.startswith("/") or (len(normal) > 1 and normal[1] == ":"):
        return "is an absolute path"
    if ".." in PurePosixPath(normal).parts:
        return "climbs out of the archive ('..')"
    return None


def open_archive_file(path: str) -> zipfile.ZipFile:
    """The ZIP file at `path`, opened once per process (its directory is read once for all its windows).

    The cache is per process (a forked worker must not share its parent's file offset) and per version of the
    file (its size and modification time)."""
    stat = os.stat(path)
    return _open_archive(path, os.getpid(), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=4)
def _open_archive(path: str, pid: int, size: int, mtime: int) -> zipfile.ZipFile:
    return zipfile.ZipFile(path)


def record_windows(path: str, size: int, suffixes: tuple[str, ...]) -> list[tuple[int, int, int]] | None:
    """Windows of about `size` members over the ZIP file at `path`, each with the declared expanded size of the
    record members before it; None when the file is not a readable ZIP (it is then read whole, as before)."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return None
    windows, before = [], 0
    for start in range(0, len(infos), size):
        windows.append((start, min(start + size, len(infos)), before))
        before += sum(info.file_size for info in infos[start:start + size]
                      if not info.is_dir() and _skip_reason(info.filename, suffixes) is None)
    return windows


def entry_names(data: bytes, window: ArchiveWindow | None = None) -> list[str]:
    """The archive's member names in order, without expanding anything: from the central directory, or (a
    damaged or truncated archive) the name in the first local header."""
    if window is not None:
        return open_archive_file(window.path).namelist()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        first = first_member_name(data)
        return [first] if first else []


def iter_members(data: bytes, file: str, max_member_bytes: int, max_total_bytes: int,
                 suffixes: tuple[str, ...], window: ArchiveWindow | None = None) -> Iterator[Member | MemberProblem]:
    """Members whose names end in one of `suffixes` (lower case), expanded one at a time, or the problem that
    stopped each; of a window of an archive file when one is given, else of the archive in `data`."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data)) if window is None else open_archive_file(window.path)
        infos = archive.infolist() if window is None else archive.infolist()[window.start:window.stop]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        yield MemberProblem(None, ctgov.ZIP_DAMAGED(Location(file=file), reason=_reason(exc)))
        return
    total = window.expanded_before if window is not None else 0
    with archive if window is None else nullcontext(archive):
        for info in infos:
            name = info.filename
            where = Location(file=file, record=name)
            if info.is_dir():
                continue
            unsafe = unsafe_reason(name)
            if unsafe:
                yield MemberProblem(name, ctgov.ZIP_UNSAFE_PATH(where, name=name, reason=unsafe))
                continue
            skip = _skip_reason(name, suffixes)
            if skip:
                yield MemberProblem(name, ctgov.ZIP_MEMBER_SKIPPED(where, reason=skip))
                continue
            if info.flag_bits & 0x1:
                yield MemberProblem(name, ctgov.ZIP_MEMBER_DAMAGED(where, reason="it is encrypted"))
                continue
            declared = info.file_size
            refusal = _size_refusal(declared, info.compress_size, total, max_member_bytes, max_total_bytes)
            if refusal:
                yield MemberProblem(name, ctgov.ZIP_BOMB(where, reason=refusal, ratio=MAX_COMPRESSION_RATIO))
                continue
            expanded = _expand(archive, info, where, min(max_member_bytes, max_total_bytes - total))
            if isinstance(expanded, Problem):
                yield MemberProblem(name, expanded)
                continue
            total += len(expanded)
            yield Member(name, expanded)


def _skip_reason(name: str, suffixes: tuple[str, ...]) -> str | None:
    path = PurePosixPath(name.replace("\\", "/"))
    if (path.parts and path.parts[0] == "__MACOSX") or path.name.startswith("."):
        return "a hidden or resource-fork file"
    lower = path.name.lower()
    if lower.endswith((".zip", ".gz", ".tar", ".7z")):
        return "a nested archive (archives inside archives are not opened)"
    if not lower.endswith(suffixes):
        return f"{path.suffix or 'no'} file extension; records are {_either(sorted(suffixes))}"
    return None


def _either(suffixes: list[str]) -> str:
    """`.a`, `.a or .b`, `.a, .b or .c`."""
    if not suffixes:
        return "in no format read from archives"
    return suffixes[0] if len(suffixes) == 1 else f"{', '.join(suffixes[:-1])} or {suffixes[-1]}"


def _size_refusal(declared: int, compressed: int, total: int, max_member: int, max_total: int) -> str | None:
    if declared > max_member:
        return f"it declares {declared} bytes expanded, over the limit of {max_member} bytes per file"
    if total + declared > max_total:
        return (f"expanding it would bring the archive to {total + declared} bytes, over the limit of "
                f"{max_total} bytes")
    if declared >= RATIO_CHECK_FROM and (compressed == 0 or declared / compressed > MAX_COMPRESSION_RATIO):
        ratio = "an unbounded" if compressed == 0 else f"a {declared // compressed}:1"
        return f"it declares {ratio} compression ratio ({declared} bytes from {compressed})"
    return None


def _expand(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: Location, limit: int) -> bytes | Problem:
    """The member's bytes, counting the actual output against `limit` as it streams."""
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(info) as handle:
            while True:
                chunk = handle.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit or size > info.file_size:
                    return ctgov.ZIP_BOMB(where, ratio=MAX_COMPRESSION_RATIO,
                                          reason=f"it expands past {min(limit, info.file_size)} bytes "
                                                 f"(declared {info.file_size})")
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
            RuntimeError) as exc:
        return ctgov.ZIP_MEMBER_DAMAGED(where, reason=_reason(exc))
    return b"".join(chunks)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().rstrip(".")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
