"""Coverage over the fixtures: every spec-defined protocolSection path is mapped; counts add up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters.coverage import CoverageReport, coverage
from converters.resources import Resources
from tests.readers_ctgov.helpers import CTGOV, V1_FILES, XML_FILES, json_leaves, v2_records


@pytest.fixture(scope="module")
def report(resources: Resources) -> CoverageReport:
    return coverage([CTGOV / "v2", CTGOV / "xml", CTGOV / "v1"], resources)


def test_records_per_form(report: CoverageReport) -> None:
    counts = {fmt: (c.converted, c.refused) for fmt, c in report.records.items()}
    assert counts == {"ctgov-v2-json": (len(v2_records()), 0), "ctgov-xml": (len(XML_FILES), 0),
                      "ctgov-v1-json": (0, len(V1_FILES))}


def test_every_protocol_section_path_of_the_spec_is_mapped(report: CoverageReport) -> None:
    protocol = [r for r in report.rows if r.format == "ctgov-v2-json" and r.path.startswith("/protocolSection/")]
    assert protocol
    for row in protocol:
        if row.status != "mapped":
            assert row.reasons.most_common(1)[0][0] == "not defined by the source format's schema", row.path


def test_counts_match_the_records(report: CoverageReport) -> None:
    expected: dict[str, set[int]] = {}
    values: dict[str, int] = {}
    for index, record in enumerate(v2_records()):
        for pointer, _ in json_leaves(record):
            generic = "/".join("*" if s.isdigit() else s for s in pointer.split("/"))
            expected.setdefault(generic, set()).add(index)
            values[generic] = values.get(generic, 0) + 1
    rows = {r.path: r for r in report.rows if r.format == "ctgov-v2-json"}
    assert set(rows) == set(expected)
    for path, row in rows.items():
        assert (row.records, row.values) == (len(expected[path]), values[path]), path


def test_report_as_data_and_text(report: CoverageReport) -> None:
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    totals = data["totals"]
    assert totals["paths"] == len(data["rows"]) > 0
    assert 0 < totals["mapped_values"] < totals["values"]
    assert totals["protocol_section_mapped_paths"] <= totals["protocol_section_paths"]
    text = report.render_text()
    assert "/protocolSection/statusModule/overallStatus" in text and "records read" in text
    keys = [(r["format"], r["path"]) for r in data["rows"]]
    assert keys == sorted(keys), "deterministic order"


def test_inputs_are_found_loaded_and_refused_as_convert_does(resources: Resources, tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / ".hidden.json").write_bytes(b"{}")
    report = coverage([tmp_path, tmp_path / "missing.json"], resources)
    assert report.files == 1
    assert [(p.code, p.location.file) for p in report.problems] == [
        ("input-binary", str(tmp_path / "blob.bin")), ("input-not-found", str(tmp_path / "missing.json"))]
