"""The writer contract: discovery, files per study, options, and the validation that comes back as a check."""

from __future__ import annotations

import json
from pathlib import Path

from converters.problems import Location
from converters.resources import Resources
from converters.targets import WriterConfig, discover_writers

from .studies import cell_therapy_study


def test_writers_are_discovered() -> None:
    writers = discover_writers()
    assert {"fhir-r4", "fhir-r5"} <= set(writers)


def test_write_study_writes_bundle_and_trace_twice_identically(resources: Resources, tmp_path: Path) -> None:
    writer = discover_writers()["fhir-r4"](WriterConfig(resources=resources))
    first = writer.write_study(cell_therapy_study(), tmp_path / "a")
    second = writer.write_study(cell_therapy_study(), tmp_path / "b")
    assert [p.relative_to(tmp_path / "a").as_posix() for p in first.files] == [
        "fhir-r4/bundle.json", "fhir-r4/bundle.trace.json"]
    for a, b in zip(first.files, second.files, strict=True):
        assert a.read_bytes() == b.read_bytes()
    assert json.loads(first.files[0].read_text(encoding="utf-8"))["type"] == "collection"
    assert writer.finish(tmp_path).files == []


def test_transaction_option_and_unknown_option(resources: Resources, tmp_path: Path) -> None:
    factory = discover_writers()["fhir-r5"]
    writer = factory(WriterConfig(resources=resources, options={"bundle": "transaction"}))
    result = writer.write_study(cell_therapy_study(), tmp_path / "t")
    assert json.loads(result.files[0].read_text(encoding="utf-8"))["type"] == "transaction"
    odd = factory(WriterConfig(resources=resources, options={"bundle": "batch"}))
    result = odd.write_study(cell_therapy_study(), tmp_path / "o")
    assert "fhir-writer-bundle-option" in [p.code for p in result.problems]
    assert json.loads(result.files[0].read_text(encoding="utf-8"))["type"] == "collection"


def test_each_bundle_comes_with_its_validation_and_its_problems_are_returned(resources: Resources,
                                                                             tmp_path: Path) -> None:
    writer = discover_writers()["fhir-r4"](WriterConfig(resources=resources))
    written = writer.write_study(cell_therapy_study(), tmp_path)
    assert len(written.checks) == 1, "one check per bundle, run by the pipeline after writing"
    result = written.checked()
    codes = {p.code for p in result.problems}
    assert "fhir-writer-validator-unavailable" not in codes
    assert not [p for p in result.problems if p.severity.value in ("error", "fatal")]
    # a bundle broken after writing is caught by the same validator, with the element's FHIRPath
    bundle = json.loads(result.files[0].read_text(encoding="utf-8"))
    bundle["entry"][0]["resource"]["status"] = "recruiting"
    problems = writer.validate(bundle, "x.json", Location())
    assert any(p.location.path and p.location.path.endswith("status") for p in problems)
