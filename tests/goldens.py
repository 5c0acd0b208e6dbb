"""The project's one golden mechanism: every reviewed output file under tests/golden/, and how it is made.

Each golden case runs the real pipeline end to end (reader -> study.json -> FHIR R4 and R5 -> SDTM CSV tables and
define.xml) on one input fixture, or runs a writer on a hand-built study, and names the files it makes:

| case                         | input                         | golden files                                          |
|------------------------------|-------------------------------|-------------------------------------------------------|
| a seed page `<stem>`         | fixtures/seeds/<stem>.txt     | seeds/<stem>.study.json, fhir/<stem>.fhir-r4.json,    |
|                              |                               | fhir/<stem>.fhir-r5.json, sdtm/<stem>/{ts,...}.csv,   |
|                              |                               | sdtm/<stem>/define.xml                                |
| a ct.gov record `<id>`       | fixtures/ctgov/{v2,xml}/...   | ctgov/<id>/study.json, fhir-r4.json, fhir-r5.json,    |
|                              |                               | sdtm/{ts,...}.csv, sdtm/define.xml                    |
| a WHO ICTRP trial `<id>`     | fixtures/ictrp/single/<id>.xml| ictrp/<id>/study.json, fhir-r4.json, fhir-r5.json,    |
|                              |                               | sdtm/{ts,...}.csv, sdtm/define.xml                    |
| a hand-built SDTM study      | tests/writers_sdtm/studies.py | sdtm/hand-<name>/{ts,...}.csv, define.xml             |

tests/test_goldens.py compares every file with its golden and fails when one is missing, differs or is stale.
Regenerate everything with the one command (from the repository root):

    .venv/bin/python -m tests.goldens

then review every changed file by hand against its source and say what changed and why in the README of that
golden folder (tests/golden/{seeds,fhir,sdtm,ctgov,ictrp}/README.md).
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN_ROOT = ROOT / "tests" / "golden"
SEEDS = ROOT / "fixtures" / "seeds"
CTGOV = ROOT / "fixtures" / "ctgov"
ICTRP_SINGLE = ROOT / "fixtures" / "ictrp" / "single"
REGENERATE = ".venv/bin/python -m tests.goldens"

TARGETS = ("fhir-r4", "fhir-r5", "sdtm")
SDTM_FILES = ("ts.csv", "ta.csv", "te.csv", "tv.csv", "ti.csv", "define.xml")

# ClinicalTrials.gov records with end-to-end goldens, chosen for variety (see tests/golden/ctgov/README.md).
CTGOV_CASES = (
    "v2/NCT00712335.json",  # completed phase 4, five arms, results posted
    "v2/NCT02724163.json",  # recruiting phase 3, seven arms, 68 sites
    "v2/NCT04100187.json",  # not yet recruiting phase 1, no sites (actual start date cannot exist yet)
    "v2/NCT00576225.json",  # withdrawn phase 3 (enrollment 0), 44 sites
    "v2/NCT04245982.json",  # observational, completed, three groups
    "v2/NCT03511846.json",  # enrolling by invitation, sixteen arms
    "xml/NCT00151216.xml",  # legacy XML: interventional phase 1, active not recruiting
    "xml/NCT01220531.xml",  # legacy XML: expanded access, available
    "xml/NCT02591940.xml",  # legacy XML: observational, unknown status, no sites
)


@dataclass(frozen=True)
class GoldenCase:
    """One input and the golden files its outputs are compared with (path under tests/golden/ -> output path)."""

    name: str
    produce: Callable[[Path], dict[str, Path]]  # given a scratch folder, write outputs; golden rel path -> file


def _pipeline_case(name: str, source: Path, layout: Callable[[str], str]) -> GoldenCase:
    """A case that runs the real pipeline on one fixture file; `layout` maps an output name to its golden path."""

    def produce(scratch: Path) -> dict[str, Path]:
        from converters.loading import SourceDocument
        from converters.pipeline import ConvertContext, ConvertOptions, convert_document
        from converters.resources import Resources

        data = source.read_bytes()
        # The document is named by its file name alone, so outputs do not depend on where the checkout lives.
        document = SourceDocument(name=source.name, data=data, sha256=hashlib.sha256(data).hexdigest())
        options = ConvertOptions(out_dir=scratch, targets=TARGETS, writer_options={"sdtm_formats": "csv,define"})
        result = convert_document(document, ConvertContext.build(options, Resources(root=ROOT)))
        folders = [r.output_dir for r in result.records if r.output_dir]
        if len(folders) != 1:
            problems = [p.one_line() for p in result.all_problems()]
            raise AssertionError(f"{source.name}: expected one study, got {len(folders)}: {problems}")
        study_dir = scratch / folders[0]
        outputs = {"study.json": study_dir / "study.json",
                   "fhir-r4.json": study_dir / "fhir-r4" / "bundle.json",
                   "fhir-r5.json": study_dir / "fhir-r5" / "bundle.json"}
        for file_name in SDTM_FILES:
            folder = study_dir / "sdtm" / ("csv" if file_name.endswith(".csv") else "")
            outputs[f"sdtm/{file_name}"] = folder / file_name
        return {layout(key): path for key, path in outputs.items()}

    return GoldenCase(name, produce)


def _seed_layout(stem: str) -> Callable[[str], str]:
    """Seed goldens keep their long-standing folders (seeds/, fhir/, sdtm/<stem>/)."""

    def where(key: str) -> str:
        if key == "study.json":
            return f"seeds/{stem}.study.json"
        if key.startswith("fhir-"):
            return f"fhir/{stem}.{key}"
        return f"sdtm/{stem}/{key.removeprefix('sdtm/')}"

    return where


def _hand_built_sdtm_case(label: str) -> GoldenCase:
    def produce(scratch: Path) -> dict[str, Path]:
        from converters.resources import Resources
        from converters.targets.base import WriterConfig
        from converters.targets.sdtm import SdtmWriter
        from tests.writers_sdtm.fixture_studies import hand_built

        study = dict(hand_built())[label]
        writer = SdtmWriter(WriterConfig(resources=Resources(root=ROOT), options={"sdtm_formats": "csv,define"}))
        writer.write_study(study, scratch)
        stem = "hand-" + label.removeprefix("hand/")
        return {f"sdtm/{stem}/{name}": scratch / "sdtm" / ("csv" if name.endswith(".csv") else "") / name
                for name in SDTM_FILES}

    return GoldenCase(label, produce)


def golden_cases() -> list[GoldenCase]:
    """Every golden case: the five seed pages, the chosen ct.gov records, single WHO ICTRP trials and the
    hand-built SDTM studies."""
    from tests.writers_sdtm.fixture_studies import hand_built

    cases = [_pipeline_case(f"seed/{page.stem}", page, _seed_layout(page.stem)) for page in sorted(SEEDS.glob("*.txt"))]
    for rel in CTGOV_CASES:
        record = Path(rel).stem
        cases.append(_pipeline_case(f"ctgov/{record}", CTGOV / rel, lambda key, r=record: f"ctgov/{r}/{key}"))
    for trial in sorted(ICTRP_SINGLE.glob("*.xml")):  # one trial each, cut from the ICTRP export
        cases.append(_pipeline_case(f"ictrp/{trial.stem}", trial, lambda key, t=trial.stem: f"ictrp/{t}/{key}"))
    cases.extend(_hand_built_sdtm_case(label) for label, _ in hand_built())
    return cases


def produce_all() -> dict[Path, bytes]:
    """Golden path -> the bytes the code makes now, for every case."""
    out: dict[Path, bytes] = {}
    for case in golden_cases():
        with tempfile.TemporaryDirectory() as tmp:
            for rel, path in case.produce(Path(tmp)).items():
                out[GOLDEN_ROOT / rel] = path.read_bytes()
    return out


def golden_files() -> Iterator[Path]:
    """The golden files on disk (READMEs are notes, not goldens)."""
    return (p for p in sorted(GOLDEN_ROOT.rglob("*")) if p.is_file() and p.suffix != ".md")


def main() -> int:
    """Write every golden the code makes now; remove goldens no case makes; say what changed."""
    produced = produce_all()
    for path, content in produced.items():
        old = path.read_bytes() if path.exists() else None
        if old != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            sys.stdout.write(f"{'updated' if old is not None else 'created'} {path.relative_to(ROOT)}\n")
    for path in golden_files():
        if path not in produced:
            path.unlink()
            sys.stdout.write(f"removed {path.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
