"""Files that are not studies (issue 14): a README, a package manifest, `[1,2,3]` and the XML schema lying beside
the records were each read by the registry-page reader as a study with 0 fields and a made-up STUDYID, exit 0.

Named on the command line, such a file is refused (exit 2, one line with the reason); found walking a folder, it
is skipped and listed (`input-not-a-study-skipped`), and the folder's verdict is that of its studies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from converters.cli import app
from tests.conftest import FIXTURES, SEEDS

runner = CliRunner()
GOOD_PAGE = SEEDS / "003_6601ee6bc5388ce6.txt"
GOOD_ID = "NCT06710717"  # the registry id the good page states (its golden study.json)
SCHEMA = FIXTURES / "ctgov" / "xsd" / "public.xsd"  # NLM's schema of the legacy XML records

README = """# trialbridge-data

Registry downloads for the pipeline. Run `make fetch` to refresh them.

## Layout

- `xml/`: one record per file
- `public.xsd`: the schema of the records
"""

# file name -> (content, what the refusal says the file holds)
NOT_STUDIES: dict[str, tuple[bytes, str]] = {
    "README.md": (README.encode(), "text that is not a study page: no known page layout, 0 labelled registry fields, "
                                   "no registry id, no criteria heading"),
    "package.json": (b'{"name": "x", "version": "1.0"}\n', "a JSON object with keys name, version, not a study record"),
    "numbers.json": (b"[1,2,3]\n", "a JSON array of 3 numbers, not a study record"),
    "public.xsd": (SCHEMA.read_bytes(), "an XML document with root element <xs:schema>, not a study record"),
}


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _study_folders(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_dir()) if out.is_dir() else []


@pytest.mark.parametrize("name", sorted(NOT_STUDIES))
def test_a_file_named_that_is_not_a_study_is_refused_in_one_line(tmp_path: Path, name: str) -> None:
    content, reason = NOT_STUDIES[name]
    path = tmp_path / name
    path.write_bytes(content)
    code, out = _run("convert", str(path), "--out", str(tmp_path / "out"), "--to", "fhir-r4,sdtm")
    assert code == 2, out
    about = [line for line in out.splitlines() if str(path) in line]
    assert len(about) == 1, out
    assert "fatal input-format-unknown" in about[0] and reason in about[0], about[0]
    assert _study_folders(tmp_path / "out") == [], "no study, no FHIR, no SDTM for a file that is not a study"
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["totals"]["studies_written"] == 0 and report["totals"]["files_unusable"] == 1
    assert [p["code"] for p in report["files"][0]["problems"]] == ["input-format-unknown"]
    assert report["files"][0]["format"] is None and report["files"][0]["records"] == []


def test_files_that_are_not_studies_in_a_folder_are_skipped_and_listed(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(GOOD_PAGE, folder / GOOD_PAGE.name)
    for name, (content, _) in NOT_STUDIES.items():
        (folder / name).write_bytes(content)
    code, out = _run("convert", str(folder), "--out", str(tmp_path / "out"))
    assert code == 0, out
    assert _study_folders(tmp_path / "out") == [GOOD_ID]
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["exit_code"] == 0
    assert {k: report["totals"][k] for k in ("files", "files_unusable", "files_skipped", "studies_written")} == {
        "files": 5, "files_unusable": 0, "files_skipped": 4, "studies_written": 1}
    by_name = {Path(entry["file"]).name: entry for entry in report["files"]}
    assert by_name[GOOD_PAGE.name]["records"][0]["study_id"] == GOOD_ID
    for name, (_, reason) in NOT_STUDIES.items():
        entry = by_name[name]
        assert (entry["format"], entry["records"]) == (None, [])
        [problem] = entry["problems"]
        assert (problem["severity"], problem["code"]) == ("info", "input-not-a-study-skipped")
        assert problem["message"].startswith("Not a study; skipped (found in a folder walk).")
        assert reason in problem["message"] and problem["location"]["file"] == str(folder / name)
        [line] = [line for line in out.splitlines() if str(folder / name) in line]
        assert line.startswith("- ") and "input-not-a-study-skipped" in line, line
    total = out.strip().splitlines()[-1]
    assert "1 study written, 0 unusable, 4 skipped (not studies)" in total, total


def test_a_file_named_beside_a_folder_keeps_its_own_verdict(tmp_path: Path) -> None:
    """The same README is skipped where the walk found it and refused where it was named."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(GOOD_PAGE, folder / GOOD_PAGE.name)
    (folder / "README.md").write_text(README, encoding="utf-8")
    named = tmp_path / "NOTES.md"
    named.write_text(README, encoding="utf-8")
    code, out = _run("convert", str(folder), str(named), "--out", str(tmp_path / "out"))
    assert code == 2, out
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    codes = {Path(e["file"]).name: [p["code"] for p in e["problems"]] for e in report["files"]}
    assert codes == {GOOD_PAGE.name: [], "README.md": ["input-not-a-study-skipped"],
                     "NOTES.md": ["input-format-unknown"]}


def test_an_unknown_from_is_never_skipped_in_a_folder(tmp_path: Path) -> None:
    """`--from` with a name no reader has is the user's mistake about every file: the run is refused, nothing
    skipped."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(GOOD_PAGE, folder / GOOD_PAGE.name)
    code, out = _run("convert", str(folder), "--out", str(tmp_path / "out"), "--from", "no-such-format")
    # refused before any file is read (a usage error), so no file of the folder is skipped or converted
    assert code == 2 and "no-such-format" in out, out
    assert not (tmp_path / "out" / GOOD_ID).exists()


def test_a_plain_text_page_with_evidence_of_a_study_still_reads(tmp_path: Path) -> None:
    """No known layout, but a registry id and labelled registry fields: read with the generic rules."""
    path = tmp_path / "notes-on-a-trial.txt"
    path.write_text("A trial of something\nNCT ID: NCT01234567\nRecruitment Status: Recruiting\nPhase: Phase 2\n"
                    "Some prose about it.\n", encoding="utf-8")
    code, out = _run("convert", str(path), "--out", str(tmp_path / "out"))
    assert code == 0, out
    assert _study_folders(tmp_path / "out") == ["NCT01234567"]
    study = json.loads((tmp_path / "out" / "NCT01234567" / "study.json").read_text(encoding="utf-8"))
    assert (study["status"]["overall"], study["design"]["phases"]) == ("RECRUITING", ["PHASE2"])
    assert study["source"]["format"] == "registry-page" and "layout" not in study["source"]


def test_the_seed_pages_still_convert_every_one(tmp_path: Path) -> None:
    code, out = _run("convert", str(SEEDS), "--out", str(tmp_path / "out"))
    assert code == 0, out
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert [(e["format"], bool(e["layout"]), len(e["records"])) for e in report["files"]] == [
        ("registry-page", True, 1)] * 5
    assert report["totals"]["files_skipped"] == 0


def test_coverage_skips_what_convert_skips_and_refuses_what_it_refuses(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "record.json").write_bytes((FIXTURES / "ictrp" / "NCT06360289-constructed-api-v2.json").read_bytes())
    (folder / "public.xsd").write_bytes(SCHEMA.read_bytes())
    code, out = _run("coverage", str(folder))
    assert code == 0, out
    assert "info input-not-a-study-skipped" in out and "1 record read" in out
    code, out = _run("coverage", str(folder / "public.xsd"))
    assert code == 2 and "fatal input-format-unknown" in out
