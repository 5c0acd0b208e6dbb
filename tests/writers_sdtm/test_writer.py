"""The writer contract: options, the per-study and concatenated layouts, formats, creation date-times."""

from __future__ import annotations

import json
from pathlib import Path

import pyreadstat
from lxml import etree

from converters.problems import Severity
from converters.resources import Resources
from converters.targets import discover_writers
from converters.targets.base import WriterConfig
from converters.targets.sdtm import SdtmWriter
from converters.targets.sdtm.codecs import xpt_stamp

from .studies import bare_study, observational_study, randomized_study, seed_001_study


def make(resources: Resources, **options: str) -> SdtmWriter:
    return SdtmWriter(WriterConfig(resources=resources, options=options))


def test_registered_as_sdtm() -> None:
    assert "sdtm" in discover_writers()


def test_per_study_layout_writes_into_the_study_folder(resources: Resources, tmp_path: Path) -> None:
    writer = make(resources)
    result = writer.write_study(seed_001_study(), tmp_path / "s1")
    assert (tmp_path / "s1" / "sdtm" / "define.xml").is_file()
    assert (tmp_path / "s1" / "sdtm" / "xpt" / "ts.xpt").is_file()
    assert writer.finish(tmp_path).files == []
    assert len(result.files) == 16


def test_concatenated_layout_keys_tables_by_studyid(resources: Resources, tmp_path: Path) -> None:
    writer = make(resources, sdtm_layout="concatenated")
    for i, study in enumerate((randomized_study(), seed_001_study(), observational_study())):
        result = writer.write_study(study, tmp_path / f"s{i}")
        assert result.files == [] and not (tmp_path / f"s{i}").exists()
        assert len(result.shared) == 1, "a study's tables go to the committing process's writer"
        writer.collect(result.shared[0], tmp_path)
    duplicate = writer.write_study(seed_001_study(), tmp_path / "again")
    assert duplicate.files == []
    writer.collect(duplicate.shared[0], tmp_path)
    result = writer.finish(tmp_path).checked()
    errors = [p for p in result.problems if p.severity is Severity.ERROR]
    assert [p.code for p in errors] == ["sdtm-write-duplicate-study"]
    absent = [p for p in result.problems if p.code == "sdtm-study-not-started"]
    # seed 001 has not started: the one documented finding, checked per study, a warning about the source
    assert len(absent) == 1 and absent[0].message.startswith("CORE-000505")
    assert absent[0].location.file == "sdtm/csv/ts.csv#STUDYID=NCT06420154"
    summaries = [p for p in result.problems if p.code == "sdtm-core-rules-summary"]
    assert len(summaries) == 3, "the CORE rules check each study's records of the concatenated tables"
    doc = json.loads((tmp_path / "sdtm" / "json" / "ts.json").read_text(encoding="utf-8"))
    ids = [row[0] for row in doc["rows"]]
    assert ids == sorted(ids) and set(ids) == {"NCT01234567", "NCT06420154", "NCT07654321"}
    assert doc["studyOID"] == "STDY.TRIALBRIDGE.CONCATENATED"
    assert doc["dbLastModifiedDateTime"] == "2024-05-17T00:00:00"  # the latest source update
    frame, _ = pyreadstat.read_xport(str(tmp_path / "sdtm" / "xpt" / "ti.xpt"))
    assert set(frame["STUDYID"]) == {"NCT01234567", "NCT06420154"}
    define = etree.parse(str(tmp_path / "sdtm" / "define.xml"))
    clauses = define.getroot().iter("{http://www.cdisc.org/ns/def/v2.1}WhereClauseDef")
    ietest = [c for c in clauses if "IETEST" in c.get("OID")]
    assert ietest and all(len(c) == 2 for c in ietest), "full-text VLM is keyed by STUDYID and IETESTCD"
    assert writer.finish(tmp_path).files == [], "finish writes the pending studies once"


def test_formats_option_chooses_the_files(resources: Resources, tmp_path: Path) -> None:
    writer = make(resources, sdtm_formats="json, define")
    result = writer.write_study(seed_001_study(), tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in result.files) == [
        "sdtm/define.xml", *(f"sdtm/json/{d}.json" for d in ("ta", "te", "ti", "ts", "tv"))]
    leaf = etree.parse(str(tmp_path / "sdtm" / "define.xml")).getroot().iter(
        "{http://www.cdisc.org/ns/def/v2.1}leaf")
    assert {e.get("{http://www.w3.org/1999/xlink}href") for e in leaf} >= {"json/ts.json"}


def test_invalid_options_stop_the_writer(resources: Resources, tmp_path: Path) -> None:
    for options in ({"sdtm_layout": "stacked"}, {"sdtm_formats": "csv,sas7bdat"},
                    {"sdtm_creation_datetime": "yesterday"}):
        result = make(resources, **options).write_study(seed_001_study(), tmp_path)
        assert [p.code for p in result.problems] == ["sdtm-write-option-invalid"]
        assert result.problems[0].severity is Severity.FATAL and result.files == []
    assert not (tmp_path / "sdtm").exists()


def test_a_creation_datetime_that_is_no_real_time_is_an_invalid_option(resources: Resources, tmp_path: Path) -> None:
    for stamp in ("2024-02-30T10:00:00", "2024-05-17T25:00:00", "2024-5-17T01:02:03"):
        result = make(resources, sdtm_creation_datetime=stamp).write_study(seed_001_study(), tmp_path)
        assert [p.code for p in result.problems] == ["sdtm-write-option-invalid"], stamp
    assert not (tmp_path / "sdtm").exists()


def test_creation_datetime_comes_from_the_source_or_the_option(resources: Resources, tmp_path: Path) -> None:
    make(resources).write_study(randomized_study(), tmp_path / "a")
    doc = json.loads((tmp_path / "a" / "sdtm" / "json" / "ta.json").read_text(encoding="utf-8"))
    assert doc["datasetJSONCreationDateTime"] == "2024-01-15T00:00:00"
    define = etree.parse(str(tmp_path / "a" / "sdtm" / "define.xml")).getroot()
    assert define.get("CreationDateTime") == "2024-01-15T00:00:00"
    assert xpt_stamp("2024-01-15T00:00:00") in (tmp_path / "a" / "sdtm" / "xpt" / "ta.xpt").read_bytes()[:640]

    make(resources).write_study(bare_study(), tmp_path / "b")
    doc = json.loads((tmp_path / "b" / "sdtm" / "json" / "ts.json").read_text(encoding="utf-8"))
    assert doc["datasetJSONCreationDateTime"] == "2000-01-01T00:00:00" and "dbLastModifiedDateTime" not in doc

    make(resources, sdtm_creation_datetime="2026-02-03T04:05:06").write_study(bare_study(), tmp_path / "c")
    doc = json.loads((tmp_path / "c" / "sdtm" / "json" / "ts.json").read_text(encoding="utf-8"))
    assert doc["datasetJSONCreationDateTime"] == "2026-02-03T04:05:06"


def test_study_id_without_any_identifier_is_stable(resources: Resources, tmp_path: Path) -> None:
    make(resources).write_study(bare_study(), tmp_path)
    doc = json.loads((tmp_path / "sdtm" / "json" / "ts.json").read_text(encoding="utf-8"))
    assert {row[0] for row in doc["rows"]} == {"SRC-" + bare_study().source.sha256[:12].upper()}


def test_a_study_id_made_from_the_source_file_is_reported(resources: Resources, tmp_path: Path) -> None:
    bare = make(resources).write_study(bare_study(), tmp_path / "bare")
    derived = [p for p in bare.problems if p.code == "sdtm-write-study-id-derived"]
    assert len(derived) == 1 and derived[0].severity is Severity.WARNING
    assert "SRC-" + bare_study().source.sha256[:12].upper() in derived[0].message
    stated = make(resources).write_study(seed_001_study(), tmp_path / "stated")
    assert not [p for p in stated.problems if p.code == "sdtm-write-study-id-derived"]


def test_validation_is_a_separate_step_that_can_be_left_out(resources: Resources, tmp_path: Path) -> None:
    writer = SdtmWriter(WriterConfig(resources=resources))
    result = writer.write_study(seed_001_study(), tmp_path)
    assert not [p for p in result.problems if p.code.startswith("sdtm-core")], "writing alone checks nothing"
    assert len(result.files) == 16
    # one check per Dataset-JSON file, one for define.xml, one for the CORE rules; run after writing
    assert len(result.checks) == 5 + 1 + 1
    checked = result.checked()
    assert [p.code for p in checked.problems if p.code == "sdtm-core-rules-summary"] == ["sdtm-core-rules-summary"]
    assert checked.problems[:len(result.problems)] == result.problems, "the writer's own problems come first"
