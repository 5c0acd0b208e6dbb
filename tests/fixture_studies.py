"""Studies every writer test can get without /work/shared: the seed-page study goldens
(tests/golden/seeds/*.study.json, hand-checked) and the structured ClinicalTrials.gov fixtures
(fixtures/ctgov/**) read by whichever reader recognises them. Each writer's tests add their hand-built ones."""

from __future__ import annotations

import hashlib
from pathlib import Path

from converters.loading import SourceDocument
from converters.model import Study, study_from_json
from converters.readers import ReaderConfig, choose_reader, discover_readers
from converters.resources import Resources

ROOT = Path(__file__).resolve().parents[1]
SEED_GOLDENS = ROOT / "tests" / "golden" / "seeds"
CTGOV_FIXTURES = ROOT / "fixtures" / "ctgov"
STRUCTURED_SUFFIXES = frozenset({".json", ".xml"})


def seed_studies() -> list[tuple[str, Study]]:
    return [(f"seed/{p.name.removesuffix('.study.json')}", study_from_json(p.read_text(encoding="utf-8")))
            for p in sorted(SEED_GOLDENS.glob("*.study.json"))]


def structured_studies(resources: Resources, folder: Path = CTGOV_FIXTURES,
                       suffixes: frozenset[str] = STRUCTURED_SUFFIXES) -> list[tuple[str, Study]]:
    """Studies from the structured fixture files under `folder` (the ct.gov ones unless told), for each file some
    reader recognises."""
    if not folder.is_dir():
        return []
    readers = discover_readers()
    config = ReaderConfig(resources=resources)
    out: list[tuple[str, Study]] = []
    for path in sorted(folder.rglob("*")):
        if path.suffix not in suffixes or "openapi" in path.parts or not path.is_file():
            continue
        data = path.read_bytes()
        doc = SourceDocument(name=str(path.relative_to(ROOT)), data=data, sha256=hashlib.sha256(data).hexdigest())
        reader = choose_reader(doc, readers)
        if reader is None:
            continue
        for outcome in reader.read(doc, config):
            if outcome.study is not None:
                label = f"{path.relative_to(folder)}" + (f"#{outcome.record}" if outcome.record else "")
                out.append((f"{folder.name}/{label}", outcome.study))
    return out
