"""The registry-scale benchmark's corpus generator makes records trialbridge reads, with unique ids.

A correctness test of bench/registry_scale.py's generator only; nothing here is timed.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

from converters.pipeline import ConvertOptions, convert
from converters.resources import Resources

ROOT = Path(__file__).resolve().parents[1]
STUDIES = 20


def load_bench() -> ModuleType:
    """bench/ is not a package: load the script as a module by path."""
    spec = importlib.util.spec_from_file_location("registry_scale", ROOT / "bench" / "registry_scale.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_generated_corpus_has_unique_ids_valid_json_and_converts(tmp_path: Path) -> None:
    bench = load_bench()
    templates = bench.load_templates(bench.FIXTURES)
    records = bench.build_corpus(tmp_path / "cache", "ndjson", STUDIES, 7, 12, templates)
    files = sorted(records.glob("*.ndjson"))
    assert len(files) == 3  # 7 + 7 + 6
    studies = [json.loads(line) for path in files for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(studies) == STUDIES
    idents = [s["protocolSection"]["identificationModule"] for s in studies]
    assert len({i["nctId"] for i in idents}) == STUDIES
    assert len({i["orgStudyIdInfo"]["id"] for i in idents}) == STUDIES
    text = "".join(path.read_text(encoding="utf-8") for path in files)
    assert not any(t.nct in text for t in templates)  # each template's own id is replaced everywhere
    out = tmp_path / "out"
    report = convert([records], ConvertOptions(out_dir=out), Resources())
    assert report.studies_written() == STUDIES
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(i["nctId"] for i in idents)


def test_corpus_is_deterministic_and_cached(tmp_path: Path) -> None:
    bench = load_bench()
    templates = bench.load_templates(bench.FIXTURES)
    first = bench.build_corpus(tmp_path / "a", "json", 5, 0, 12, templates)
    built = (first.parent / "manifest.json").stat().st_mtime_ns
    again = bench.build_corpus(tmp_path / "a", "json", 5, 0, 12, templates)
    other = bench.build_corpus(tmp_path / "b", "json", 5, 0, 12, templates)
    assert first == again
    assert (first.parent / "manifest.json").stat().st_mtime_ns == built  # reused, not rebuilt
    assert [p.read_bytes() for p in sorted(first.iterdir())] == [p.read_bytes() for p in sorted(other.iterdir())]
    assert len(list(first.glob("NCT9*.json"))) == 5
