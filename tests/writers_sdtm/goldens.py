"""Regenerate the SDTM goldens: `.venv/bin/python -m tests.writers_sdtm.goldens` (from the repository root).

For every seed-page study golden (tests/golden/seeds/<stem>.study.json) and every hand-built study, the five
tables as CSV and the define.xml go to tests/golden/sdtm/<stem>/. Review every changed file by hand against the
page (or the hand-built study) before committing it, and note what you checked in tests/golden/sdtm/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SDTM_GOLDENS = ROOT / "tests" / "golden" / "sdtm"
FILES = ("ts.csv", "ta.csv", "te.csv", "tv.csv", "ti.csv", "define.xml")


def golden_stem(label: str) -> str:
    """'seed/001_f387f9769c9c7516' -> '001_f387f9769c9c7516'; 'hand/seed-001' -> 'hand-seed-001'."""
    kind, _, name = label.partition("/")
    return name if kind == "seed" else f"{kind}-{name}"


def expected_outputs() -> dict[Path, bytes]:
    """Golden path -> the bytes the writer makes now."""
    import tempfile

    from converters.resources import Resources
    from converters.writers.base import WriterConfig
    from converters.writers.sdtm import SdtmWriter

    from .fixture_studies import hand_built, seed_studies

    resources = Resources(root=ROOT)
    writer = SdtmWriter(WriterConfig(resources=resources, options={"sdtm_formats": "csv,define"}, validate=False))
    out: dict[Path, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, study in [*seed_studies(), *hand_built()]:
            folder = Path(tmp) / golden_stem(label)
            writer.write_study(study, folder)
            for name in FILES:
                source = folder / "sdtm" / ("csv" if name.endswith(".csv") else "") / name
                out[SDTM_GOLDENS / golden_stem(label) / name] = source.read_bytes()
    return out


def main() -> int:
    for path, content in expected_outputs().items():
        old = path.read_bytes() if path.exists() else None
        if old != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            sys.stdout.write(f"{'updated' if old else 'created'} {path.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
