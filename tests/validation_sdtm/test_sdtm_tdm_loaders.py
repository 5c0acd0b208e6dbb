"""Reading Trial Design tables from CSV, Dataset-JSON 1.1 (and NDJSON) and SAS XPORT v5, and `validate FOLDER`."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from converters.problems import Severity, worst_exit_code
from converters.targets.sdtm.codecs import read_csv, read_dataset_json, read_dataset_ndjson, read_xpt
from converters.targets.sdtm.core_rules import CoreRuleRunner, RuleStatus
from converters.targets.sdtm.folders import load_tdm_folder, validate_tdm_folder
from converters.targets.sdtm.tables import make_frame

from .rule_cases import FIXTURES, MSG_V2

FORMATS = FIXTURES / "formats"


@pytest.fixture(scope="module")
def runner() -> CoreRuleRunner:
    return CoreRuleRunner()


def canonical(rows: Sequence[Mapping[str, object]]) -> list[dict[str, str]]:
    """Rows with every value as text, missing as "" (CSV carries no types)."""
    frame = make_frame("XX", rows)
    return [{k: ("" if v is None else str(v)) for k, v in row.items()} for row in frame.rows]


@pytest.mark.parametrize("domain", ["ta", "te"])
def test_the_official_xpt_json_and_csv_examples_hold_the_same_table(domain: str) -> None:
    csv_rows = read_csv(MSG_V2 / f"{domain}.csv")
    json_rows = read_dataset_json(FORMATS / f"{domain}.json")
    xpt_rows = read_xpt(FORMATS / f"{domain}.xpt")
    assert canonical(json_rows) == canonical(xpt_rows) == canonical(csv_rows)
    assert json_rows == xpt_rows  # both typed formats give the same values, "" and NaN as None
    assert len(csv_rows) > 3


def test_typed_formats_give_numbers_and_csv_gives_text() -> None:
    assert read_dataset_json(FORMATS / "ta.json")[0]["TAETORD"] == 1
    assert read_xpt(FORMATS / "ta.xpt")[0]["TAETORD"] == 1  # XPT's 1.0, tidied
    assert read_csv(MSG_V2 / "ta.csv")[0]["TAETORD"] == "1"
    assert read_csv(MSG_V2 / "ta.csv")[0]["TATRANS"] is None
    assert read_xpt(FORMATS / "ta.xpt")[0]["TATRANS"] is None


def test_ndjson_reads_like_json() -> None:
    assert read_dataset_ndjson(FORMATS / "ta.ndjson") == read_dataset_json(FORMATS / "ta.json")


def test_a_folder_of_csv_tables_loads_all_five_domains() -> None:
    tables, problems = load_tdm_folder(MSG_V2)
    assert problems == []
    assert {d: len(rows) for d, rows in tables.items()} == {"TS": 51, "TA": 8, "TE": 5, "TV": 14, "TI": 62}


def test_the_same_table_in_three_formats_is_checked_for_agreement(tmp_path: Path) -> None:
    for name in ("ta.json", "ta.xpt"):
        shutil.copy(FORMATS / name, tmp_path / name)
    shutil.copy(MSG_V2 / "ta.csv", tmp_path / "TA.CSV")
    tables, problems = load_tdm_folder(tmp_path)
    assert problems == []
    assert tables["TA"] == read_dataset_json(FORMATS / "ta.json")  # Dataset-JSON is preferred

    text = (tmp_path / "TA.CSV").read_text(encoding="utf-8").replace("Zanomaline 81 mg", "Zanomaline 80 mg")
    (tmp_path / "TA.CSV").write_text(text, encoding="utf-8")
    _, problems = load_tdm_folder(tmp_path)
    assert [p.code for p in problems] == ["sdtm-tdm-table-formats-differ"]
    assert "row 7 ELEMENT" in problems[0].message and problems[0].location.file == str(tmp_path / "TA.CSV")


def test_an_unreadable_table_is_reported_and_the_others_still_load(tmp_path: Path) -> None:
    shutil.copy(MSG_V2 / "te.csv", tmp_path / "te.csv")
    (tmp_path / "ta.xpt").write_bytes(b"not an xport file at all" * 10)
    (tmp_path / "ts.json").write_text('{"columns": [{"name": "A"}], "rows": [[1, 2]]}', encoding="utf-8")
    tables, problems = load_tdm_folder(tmp_path)
    assert sorted(tables) == ["TE"]
    assert sorted((p.code, p.severity) for p in problems) == [
        ("sdtm-tdm-table-unreadable", Severity.FATAL), ("sdtm-tdm-table-unreadable", Severity.FATAL),
    ]


def test_a_domain_value_that_disagrees_with_the_file_name_is_reported(tmp_path: Path) -> None:
    (tmp_path / "te.csv").write_text("STUDYID,DOMAIN,ETCD\nS1,TE,A\nS1,TA,B\n", encoding="utf-8")
    _, problems = load_tdm_folder(tmp_path)
    assert [(p.code, p.location.record) for p in problems] == [("sdtm-tdm-table-domain-mismatch", "TE row 2")]


def test_windows_1252_xpt_files_are_read(tmp_path: Path) -> None:
    frame = pd.DataFrame({"DOMAIN": ["TI"], "IETEST": ["Alzheimer?s disease"]})
    path = tmp_path / "ti.xpt"
    pyreadstat.write_xport(frame, str(path), file_format_version=5, table_name="TI")
    path.write_bytes(path.read_bytes().replace(b"Alzheimer?s", b"Alzheimer\x92s"))
    assert read_xpt(path) == [{"DOMAIN": "TI", "IETEST": "Alzheimer\u2019s disease"}]


def test_tables_from_a_writer_with_python_numbers_run_like_csv_text(runner: CoreRuleRunner) -> None:
    tables, _ = load_tdm_folder(MSG_V2)
    typed = {d: [dict(r) for r in rows] for d, rows in tables.items()}
    for row in typed["TA"]:
        row["TAETORD"] = float(str(row["TAETORD"]))
    for row in typed["TS"]:
        row["TSSEQ"] = int(str(row["TSSEQ"]))
    text_report, typed_report = runner.run(tables), runner.run(typed)
    assert [r.status for r in text_report.results] == [r.status for r in typed_report.results]
    assert typed_report.result("CORE-000534").status is RuleStatus.PASSED  # 1.0 is the integer 1


def test_validate_folder_finds_each_study_below_it(tmp_path: Path) -> None:
    for study in ("study-a", "study-b"):
        shutil.copytree(MSG_V2, tmp_path / "out" / study / "sdtm")
    broken = tmp_path / "out" / "study-b" / "sdtm" / "ts.csv"
    broken.write_text(broken.read_text(encoding="utf-8").replace(",SSTDTC,Study Start Date,2012-10-06,",
                                                                  ",SSTDTC,Study Start Date,2012-10-36,"),
                      encoding="utf-8")
    problems = validate_tdm_folder(tmp_path / "out")
    summaries = [p for p in problems if p.code == "sdtm-core-rules-summary"]
    assert [p.location.file for p in summaries] == [
        str(tmp_path / "out" / "study-a" / "sdtm"), str(tmp_path / "out" / "study-b" / "sdtm"),
    ]
    errors = [p for p in problems if p.severity is Severity.ERROR]
    assert [(p.code, p.location.file, p.location.record) for p in errors] == [
        ("sdtm-core-rule", str(broken), "TS row 40"),
    ]
    assert errors[0].message.startswith("CORE-000505 (")
    assert "TSVAL='2012-10-36'" in errors[0].message
    assert worst_exit_code(problems) == 1


def test_the_writer_layout_of_format_subfolders_is_one_set_of_tables(tmp_path: Path) -> None:
    sdtm = tmp_path / "out" / "NCT00000000" / "sdtm"
    shutil.copytree(MSG_V2, sdtm / "csv")
    for suffix in ("json", "xpt"):
        (sdtm / suffix).mkdir()
        for domain in ("ta", "te"):
            shutil.copy(FORMATS / f"{domain}.{suffix}", sdtm / suffix / f"{domain}.{suffix}")
    problems = validate_tdm_folder(tmp_path / "out")
    assert [p.location.file for p in problems if p.code == "sdtm-core-rules-summary"] == [str(sdtm)]
    assert not [p for p in problems if p.severity is not Severity.INFO]
    tables, problems = load_tdm_folder(sdtm)
    assert problems == [] and sorted(tables) == ["TA", "TE", "TI", "TS", "TV"]

    (sdtm / "csv" / "te.csv").write_text((MSG_V2 / "te.csv").read_text(encoding="utf-8").replace("SCREEN", "SCRN"),
                                         encoding="utf-8")
    _, problems = load_tdm_folder(sdtm)
    assert [(p.code, p.location.file) for p in problems] == [
        ("sdtm-tdm-table-formats-differ", str(sdtm / "csv" / "te.csv")),  # compared with te.json
    ]


def test_validate_folder_without_tables_is_unusable_input(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here", encoding="utf-8")
    problems = validate_tdm_folder(tmp_path)
    assert [(p.code, p.severity) for p in problems] == [("sdtm-tdm-folder-empty", Severity.FATAL)]
    assert worst_exit_code(problems) == 2
