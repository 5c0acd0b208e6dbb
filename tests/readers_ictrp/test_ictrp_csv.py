"""The ICTRP CSV reader over 14 real rows (fixtures/ictrp/ictrp-covid19-2020-04-07-cut.csv, cut byte for byte
from shared/data/ictrp/csv/COVID19-927-trials_7Apr2020.csv: the first row of each registry, and rows with an age of
'??', per-group target sizes and cells spanning lines). Expected values are computed here from the cells with the
csv module and the documented cleaning, not with the reader's own functions."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from converters.cli import app
from converters.coverage import coverage
from converters.loading import SourceDocument
from converters.model import Study
from converters.readers import ReaderConfig
from converters.readers.ictrp_csv import READER
from converters.resources import Resources
from tests.conftest import FIXTURES
from tests.readers_ictrp.expected import cleaned as _clean
from tests.readers_ictrp.expected import items as _items

CSV = FIXTURES / "ictrp" / "ictrp-covid19-2020-04-07-cut.csv"
runner = CliRunner()

REGISTRY_IDS = {
    "NCT04246242": ("nct", "NCT04246242"), "ChiCTR2000029949": ("chictr", "ChiCTR2000029949"),
    "EUCTR2015-002340-14-NL": ("eudract", "2015-002340-14"), "IRCT20100228003449N28": ("irct", "IRCT20100228003449N28"),
    "DRKS00021134": ("drks", "DRKS00021134"), "JPRN-jRCTs031190226": ("jrct", "jRCTs031190226"),
    "TCTR20200321001": ("tctr", "TCTR20200321001"), "JPRN-UMIN000039686": ("umin", "UMIN000039686"),
    "ISRCTN50189673": ("isrctn", "ISRCTN50189673"), "NL8483": ("ntr", "NL8483"),
    "ACTRN12620000421932": ("anzctr", "ACTRN12620000421932"), "ChiCTR2000029639": ("chictr", "ChiCTR2000029639"),
    "ChiCTR2000029953": ("chictr", "ChiCTR2000029953"), "IRCT20160625028622N1": ("irct", "IRCT20160625028622N1"),
}


def _rows() -> list[dict[str, str]]:
    with CSV.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))



@pytest.fixture(scope="module")
def pairs(resources: Resources) -> list[tuple[dict[str, str], Study]]:
    data = CSV.read_bytes()
    outcomes = list(READER.read(SourceDocument(CSV.name, data, "0" * 64), ReaderConfig(resources=resources)))
    rows = _rows()
    assert len(outcomes) == len(rows) == len(REGISTRY_IDS)
    out = []
    for row, outcome in zip(rows, outcomes, strict=True):
        assert outcome.study is not None, outcome.problems
        out.append((row, outcome.study))
    return out


def test_every_row_converts_with_its_trial_id_under_its_own_registry(
        pairs: list[tuple[dict[str, str], Study]]) -> None:
    for row, study in pairs:
        registry = [(i.registry, i.value) for i in study.identifiers if i.kind.value == "registry"]
        assert registry == [REGISTRY_IDS[row["TrialID"].strip()]], row["TrialID"]


def test_each_mapped_column_matches_its_cell(pairs: list[tuple[dict[str, str], Study]]) -> None:
    for row, study in pairs:
        tid = row["TrialID"]
        assert study.titles.brief == (_clean(row["Public title"]) or None), tid
        assert study.titles.official == (_clean(row["Scientific title"]) or None), tid
        assert study.titles.acronym == (_clean(row["Acronym"]) or None), tid
        assert study.sponsors.lead is not None and study.sponsors.lead.name == _clean(row["Primary sponsor"])
        assert study.countries == _items(row["Countries"]), tid
        assert study.conditions == _items(row["Condition"]), tid
        assert [(o.kind.value, o.measure) for o in study.outcomes] == [
            ("primary", m) for m in _items(row["Primary outcome"])], tid
        compact = _clean(row["Date registration3"])
        assert study.status.first_submitted is not None, tid
        assert study.status.first_submitted.value == f"{compact[:4]}-{compact[4:6]}-{compact[6:]}", tid
        status = _clean(row["Recruitment Status"])
        if status.casefold() == "recruiting":
            assert study.status.overall == "RECRUITING", tid
        elif status:
            assert (study.status.overall, study.status.overall_text) == (None, status), tid
        words = " ".join((study.eligibility.criteria_text or "").split())
        for line in _clean(row["Inclusion Criteria"]).split("\n") + _clean(row["Exclusion Criteria"]).split("\n"):
            assert " ".join(line.split()) in words, (tid, line)
        assert _clean(row["web address"]) in [link.url for link in study.links], tid
        size = _clean(row["Target size"])
        one_group = re.fullmatch(r"[^:;]+:(\d+);?", size)  # ChiCTR's "Case series:40;": one group is the total
        expected = int(size) if size.isdigit() else int(one_group[1]) if one_group else None
        assert (study.design.enrollment.count if study.design.enrollment else None) == expected, tid


def test_values_as_the_rows_write_them(pairs: list[tuple[dict[str, str], Study]]) -> None:
    by_id = {row["TrialID"].strip(): study for row, study in pairs}
    assert by_id["ChiCTR2000029639"].eligibility.maximum_age is None  # "??" means no limit was given
    assert [a.label for a in by_id["ChiCTR2000029953"].arms]  # ChiCTR's "group:intervention" gives arms
    nct = by_id["NCT04246242"]
    assert [(i.type, i.name) for i in nct.interventions] == [  # "Drug: ..." items: the type and the name
        ("DRUG", "Conventional treatment group"), ("DRUG", "arbidol,200mg,tid"), ("DRUG", "arbidol,400mg,tid")]
    assert nct.eligibility.sex == "ALL" and nct.design.phases == ["PHASE4"]
    assert nct.status.start is not None and nct.status.start.value == "2020-01-25"
    assert [c.name for c in nct.central_contacts] == ["Pinhua Pan, Medical PhD"]
    assert nct.provenance["/titles/brief"].pointer == "/1/Public title"


def test_unused_cells_are_listed_with_their_reason(pairs: list[tuple[dict[str, str], Study]]) -> None:
    for _, study in pairs:
        for entry in study.unmapped:
            assert entry.reason and entry.reason != "no rule in the field map uses it", entry
            assert entry.pointer is not None and re.match(r"^/\d+/", entry.pointer)


def test_coverage_lists_every_column_as_mapped_or_unmapped_with_a_reason(resources: Resources) -> None:
    report = coverage([CSV], resources)
    assert (report.records["ictrp-csv"].converted, report.records["ictrp-csv"].refused) == (len(REGISTRY_IDS), 0)
    rows = {r.path: r for r in report.rows if r.format == "ictrp-csv"}
    assert set(rows) == {f"/{column}" for column in _rows()[0]}
    for path, row in rows.items():
        assert row.mapped_values or set(row.reasons) - {"empty"} or row.reasons["empty"] == row.values, path
        assert "no rule in the field map uses it" not in row.reasons, path


def test_convert_writes_every_target_for_every_row(tmp_path: Path) -> None:
    result = runner.invoke(app, ["convert", str(CSV), "--out", str(tmp_path), "--to", "fhir-r4,fhir-r5,sdtm"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads((tmp_path / "report.json").read_text())
    assert report["totals"]["studies_written"] == len(REGISTRY_IDS)
    assert all(p["severity"] in ("warning", "info") for f in report["files"] for p in f["problems"])


HEADER = "TrialID,Public title,Recruitment Status\r\n"


@pytest.mark.parametrize(("content", "codes"), [
    (HEADER + "NCT04246242,A title,Recruiting\r\nNCT1,too,many,cells\r\n", ["ictrp-csv-row-width"]),
    ("Public title,Recruitment Status\r\nA,Recruiting\r\n", ["ictrp-csv-no-trialid-column"]),
    (HEADER, ["ictrp-no-trials"]),
])
def test_bad_csv_gets_its_problem_and_the_other_rows_convert(resources: Resources, content: str,
                                                              codes: list[str]) -> None:
    outcomes = list(READER.read(SourceDocument("bad.csv", content.encode(), "0" * 64),
                                ReaderConfig(resources=resources)))
    assert [p.code for o in outcomes for p in o.problems] == codes
    good = [o.study for o in outcomes if o.study is not None]
    assert [s.titles.brief for s in good] == (["A title"] if "NCT04246242" in content else [])


def test_a_row_width_problem_names_its_row_and_line(resources: Resources) -> None:
    content = HEADER + '"NCT1","A\r\ntitle on two lines",Recruiting\r\nNCT2,x\r\n'
    outcomes = list(READER.read(SourceDocument("bad.csv", content.encode(), "0" * 64),
                                ReaderConfig(resources=resources)))
    [problem] = [p for o in outcomes for p in o.problems]
    assert (problem.location.record, problem.location.line) == ("#2", 4)
    assert "Row 2 (line 4) has 2 fields where the header has 3" in problem.message


def test_a_zip_of_csv_exports_is_read_member_by_member(tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "ictrp.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("export.csv", CSV.read_bytes())
    result = runner.invoke(app, ["convert", str(archive), "--out", str(tmp_path / "out"), "--to", "study"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["totals"]["studies_written"] == len(REGISTRY_IDS)
