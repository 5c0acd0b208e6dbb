"""End-to-end CLI tests through typer's runner: exit codes, every kind of bad input, a mixed folder."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from converters.cli import app
from tests.conftest import SEEDS

runner = CliRunner()
GOOD_PAGE = SEEDS / "003_6601ee6bc5388ce6.txt"


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _make_bad_inputs(folder: Path) -> dict[str, Path]:
    """One file for each kind of bad input the issue names, made at run time."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "empty": folder / "empty.txt",
        "blank": folder / "blank.txt",
        "binary": folder / "binary.txt",
        "pdf": folder / "fake.txt",
        "huge": folder / "huge.txt",
        "undecodable": folder / "mojibake.txt",
    }
    files["empty"].write_bytes(b"")
    files["blank"].write_bytes(b" \n\n\t\n")
    files["binary"].write_bytes(bytes(range(256)) * 40)
    files["pdf"].write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    with files["huge"].open("wb") as handle:  # sparse: 200 MB on paper, nothing on disk
        handle.truncate(200 * 1024 * 1024)
    files["undecodable"].write_bytes(bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D]) * 300 + b"\x00\x01\x02" * 50)
    return files


def test_version_and_help() -> None:
    code, out = _run("--version")
    assert code == 0 and "trialbridge" in out
    code, out = _run("--help")
    assert code == 0 and "convert" in out and "inspect" in out


def test_convert_seed_pages_writes_studies_and_report(tmp_path: Path) -> None:
    code, out = _run("convert", str(SEEDS), "--out", str(tmp_path))
    assert code in (0, 1), out
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["totals"]["files"] == 5
    assert report["totals"]["studies_written"] == 5
    assert len(out.strip().splitlines()) == 6, "one line per file plus the total"
    for entry in report["files"]:
        record = entry["records"][0]
        assert entry["format"] == "registry-page" and entry["layout"]
        assert (tmp_path / record["output_dir"] / "study.json").is_file()


def test_convert_is_deterministic(tmp_path: Path) -> None:
    _run("convert", str(SEEDS), "--out", str(tmp_path / "a"))
    _run("convert", str(SEEDS), "--out", str(tmp_path / "b"))
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


@pytest.mark.parametrize("kind", ["empty", "blank", "binary", "pdf", "huge", "undecodable"])
def test_each_bad_input_is_one_line_and_exit_2(tmp_path: Path, kind: str) -> None:
    path = _make_bad_inputs(tmp_path / "in")[kind]
    code, out = _run("convert", str(path), "--out", str(tmp_path / "out"))
    assert code == 2, out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 2, out  # the file's line and the total
    assert str(path) in lines[0] and "fatal" in lines[0]
    assert "Traceback" not in out


def test_missing_input_is_exit_2(tmp_path: Path) -> None:
    code, out = _run("convert", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "out"))
    assert code == 2 and "input-not-found" in out


def test_mixed_folder_converts_the_good_files(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    bad = _make_bad_inputs(folder)
    shutil.copy(GOOD_PAGE, folder / GOOD_PAGE.name)
    (folder / "truncated.txt").write_text(GOOD_PAGE.read_text(encoding="utf-8")[:1500], encoding="utf-8")
    code, out = _run("convert", str(folder), "--out", str(tmp_path / "out"))
    assert code == 2, out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    by_file = {Path(f["file"]).name: f for f in report["files"]}
    assert by_file[GOOD_PAGE.name]["records"][0]["output_dir"]
    assert by_file["truncated.txt"]["records"][0]["output_dir"], "a truncated page still yields what it states"
    for path in bad.values():
        assert by_file[path.name]["problems"][0]["severity"] == "fatal"
    assert report["totals"]["studies_written"] == 2
    assert "Traceback" not in out


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_other_encodings_are_detected_and_recorded(tmp_path: Path, encoding: str) -> None:
    text = GOOD_PAGE.read_text(encoding="utf-8")
    if encoding == "latin-1":
        text = text.replace("≥", ">=").replace("≤", "<=")  # characters Latin-1 cannot hold
        text += "\nSite: Hôpital Universitaire de Genève, Zürich\n"
    path = tmp_path / f"page-{encoding}.txt"
    path.write_bytes(text.encode(encoding))
    code, out = _run("convert", str(path), "--out", str(tmp_path / "out"), "--problems")
    assert code in (0, 1), out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    entry = report["files"][0]
    assert entry["encoding"] and entry["encoding"].replace("_", "-") != "utf-8"
    codes = [p["code"] for p in entry["records"][0]["problems"]]
    assert "input-not-utf8" in codes
    study = json.loads((tmp_path / "out" / entry["records"][0]["output_dir"] / "study.json").read_text())
    assert study["identifiers"][0]["value"] == "NCT06710717"


def test_unknown_target_is_a_usage_error(tmp_path: Path) -> None:
    code, out = _run("convert", str(GOOD_PAGE), "--out", str(tmp_path), "--to", "pdf")
    assert code == 2 and "unknown target" in out


def test_bad_writer_options_are_refused_whatever_the_targets(tmp_path: Path) -> None:
    """Writer options left at their defaults are checked only by the targets written; any other value by all."""
    code, output = _run("convert", str(GOOD_PAGE), "--out", str(tmp_path / "o"), "--bundle", "batch")
    assert code == 2
    assert "'batch' is not one of 'collection', 'transaction'" in " ".join(output.replace("│", " ").split())
    assert not (tmp_path / "o").exists(), "refused before anything is written"


def test_a_run_to_study_imports_only_what_it_uses(tmp_path: Path) -> None:
    """Start-up cost: a one-core run to study.json imports neither the other targets nor the progress bar, the
    worker pool or logging (a fresh interpreter, as the command runs)."""
    script = (
        "import sys\n"
        "from converters.cli import app\n"
        "try:\n"
        f"    app(['convert', {str(GOOD_PAGE)!r}, '--out', {str(tmp_path / 'o')!r}, '-j', '1', '-q'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('converters.targets.fhir', 'converters.targets.sdtm',"
        " 'rich.progress', 'multiprocessing', 'logging'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "[]"


def test_inspect_shows_fields_with_lines_and_unused_spans() -> None:
    code, out = _run("inspect", str(GOOD_PAGE))
    assert code == 0, out
    assert "/identifiers/0/value" in out and "Not used" in out
    code, out = _run("inspect", str(GOOD_PAGE), "--json")
    data = json.loads(out)
    assert data["provenance"]["/identifiers/0/value"]["line"] == 3
    assert data["unmapped"], "boilerplate and unused lines are listed"


def test_inspect_bad_input_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    code, out = _run("inspect", str(path))
    assert code == 2 and "input-empty" in out and "Traceback" not in out


def test_validate_a_study_json(tmp_path: Path) -> None:
    _run("convert", str(GOOD_PAGE), "--out", str(tmp_path))
    study = next(tmp_path.rglob("study.json"))
    code, out = _run("validate", str(study))
    assert code == 0, out
    data = json.loads(study.read_text())
    data["status"]["overall"] = {"not": "a string"}
    study.write_text(json.dumps(data))
    code, out = _run("validate", str(study))
    assert code == 1 and "study-schema-invalid" in out


def test_problems_command_explains_a_code() -> None:
    code, out = _run("problems", "input-empty")
    assert code == 0 and "empty" in out.lower()
    code, _ = _run("problems", "no-such-code")
    assert code == 2


def test_max_records_stops_a_multi_record_file(tmp_path: Path) -> None:
    records = [json.loads(p.read_text(encoding="utf-8"))
               for p in sorted((SEEDS.parent / "ctgov" / "v2").glob("NCT0*.json"))[:4]]
    path = tmp_path / "studies.ndjson"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    code, out = _run("convert", str(path), "--out", str(tmp_path / "out"), "--max-records", "2", "--problems")
    assert code in (0, 1), out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["totals"]["studies_written"] == 2
    assert "ctgov-too-many-records" in out


# --- the command line's own defects (issue 14): each test failed before the fix ---


def _invoke(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr apart."""
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _words(text: str) -> str:
    """Text without the boxes and line breaks of rich's panels."""
    return " ".join(text.replace("│", " ").split())


def test_fatal_problems_go_to_stderr_and_the_report_to_stdout(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    code, out, err = _invoke("convert", str(empty), str(GOOD_PAGE), "--out", str(tmp_path / "out"))
    assert code == 2
    assert err.splitlines() == [f"✗ {empty}: fatal input-empty: The file is empty (or only whitespace)."]
    assert [line.split("  ")[0] for line in out.splitlines()] == [f"✓ {GOOD_PAGE}", out.splitlines()[1]]
    assert out.splitlines()[1].startswith("Total: 2 files, 1 study written, 1 unusable")
    code, out, err = _invoke("validate", str(tmp_path / "missing.json"))
    assert code == 2 and "fatal input-not-found" in err and "input-not-found" not in out
    code, out, err = _invoke("convert", str(GOOD_PAGE), "--out", str(tmp_path / "o"), "--to", "pdf")
    assert code == 2 and out == "" and err.startswith("error: unknown target pdf;")


def _api_page(path: Path, **paging: object) -> Path:
    records = [json.loads(p.read_text(encoding="utf-8"))
               for p in sorted((SEEDS.parent / "ctgov" / "v2").glob("NCT0*.json"))[:2]]
    path.write_text(json.dumps({"studies": records, **paging}), encoding="utf-8")
    return path


def test_an_api_pages_next_page_token_is_a_note_not_a_refused_record(tmp_path: Path) -> None:
    page = _api_page(tmp_path / "page.json", nextPageToken="NF0g5JKFlQ", totalCount=9)
    code, out, _ = _invoke("convert", str(page), "--out", str(tmp_path / "out"))
    assert code == 0
    assert "  2 studies  " in out and "refused" not in out
    entry = json.loads((tmp_path / "out" / "report.json").read_text())["files"][0]
    assert [r["study_id"] for r in entry["records"]] == ["NCT00576225", "NCT00712335"]
    assert [(p["code"], p["message"]) for p in entry["problems"]] == [
        ("ctgov-page-field", "The API page has nextPageToken = NF0g5JKFlQ; only the studies of this page are in "
                             "the file.")]


def test_a_refused_record_is_still_counted_as_refused(tmp_path: Path) -> None:
    page = _api_page(tmp_path / "page.json")
    data = json.loads(page.read_text())
    data["studies"].append({"protocolSection": "not an object"})
    page.write_text(json.dumps(data))
    _, out, _ = _invoke("convert", str(page), "--out", str(tmp_path / "out"))
    assert "  2 studies, 1 refused  " in out


def test_the_same_study_given_twice_is_a_warning_on_the_second_copy(tmp_path: Path) -> None:
    copy = tmp_path / "again" / GOOD_PAGE.name
    copy.parent.mkdir()
    shutil.copy(GOOD_PAGE, copy)
    code, _, _ = _invoke("convert", str(GOOD_PAGE), str(copy), "--out", str(tmp_path / "out"))
    assert code == 0, "a warning"
    files = json.loads((tmp_path / "out" / "report.json").read_text())["files"]
    first, second = (entry["records"][0] for entry in files)
    assert first["output_dir"] == "NCT06710717" and second["output_dir"] == "NCT06710717--2"
    assert "study-given-twice" not in [p["code"] for p in first["problems"]]
    twice = [p for p in second["problems"] if p["code"] == "study-given-twice"]
    assert twice == [{
        "severity": "warning", "code": "study-given-twice",
        "message": f"The study NCT06710717 was already converted from {GOOD_PAGE}; this copy is written too "
                   "(folder NCT06710717--2).",
        "location": {"file": str(copy), "record": "NCT06710717"},
    }]


def test_an_earlier_runs_outputs_left_in_the_output_folder_are_a_warning(tmp_path: Path) -> None:
    out = tmp_path / "out"
    other = SEEDS / "001_f387f9769c9c7516.txt"
    _invoke("convert", str(GOOD_PAGE), str(other), "--out", str(out), "--to", "fhir-r4")
    code, stdout, _ = _invoke("convert", str(GOOD_PAGE), "--out", str(out))
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    stale = [p["message"] for p in report["problems"] if p["code"] == "output-stale"]
    assert stale == [
        "The output folder holds 1 entry of an earlier run that this run did not write: NCT06420154.",
        "The output folder holds 2 files of an earlier run that this run did not write (inside study folders it "
        "rewrote): NCT06710717/fhir-r4/bundle.json, NCT06710717/fhir-r4/bundle.trace.json.",
    ]
    assert "warning output-stale" in stdout
    _invoke("convert", str(GOOD_PAGE), "--out", str(out))  # said again while they are there
    assert [p["code"] for p in json.loads((out / "report.json").read_text())["problems"]] == ["output-stale"] * 2


def test_a_run_into_a_fresh_or_its_own_folder_has_nothing_stale(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (tmp_path / "notes").mkdir()
    for _ in range(2):
        _invoke("convert", str(GOOD_PAGE), "--out", str(out), "--to", "sdtm")
        assert json.loads((out / "report.json").read_text())["problems"] == []


def test_report_json_records_the_runs_inputs_and_options_the_same_for_any_jobs(tmp_path: Path) -> None:
    other = SEEDS / "001_f387f9769c9c7516.txt"
    for jobs in ("1", "2"):
        _invoke("convert", str(GOOD_PAGE), str(other), "--out", str(tmp_path / jobs), "--to", "sdtm",
                "--sdtm-formats", "csv", "-j", jobs)
    report = (tmp_path / "1" / "report.json").read_bytes()
    assert report == (tmp_path / "2" / "report.json").read_bytes()
    assert json.loads(report)["run"] == {
        "inputs": [str(GOOD_PAGE), str(other)],
        "options": {"targets": ["sdtm"], "forced_format": None, "layout": "per-study",
                    "writer_options": {"bundle": "collection", "sdtm_formats": "csv"},
                    "max_bytes": 104857600, "max_records": None, "validate_outputs": True},
    }


@pytest.mark.parametrize("option", [
    ("--sdtm-layout", "weird"), ("--sdtm-formats", "pdf"), ("--from", "weird"), ("--layout", "flat"),
    ("--engine", "spark"), ("--bundle", "batch"), ("--max-records", "0"), ("--max-bytes", "-1"),
])
def test_bad_option_values_are_refused_before_any_file_is_read(tmp_path: Path, option: tuple[str, str]) -> None:
    code, out, err = _invoke("convert", str(GOOD_PAGE), "--out", str(tmp_path / "out"), "--to", "sdtm", *option)
    assert code == 2
    assert out == "" and option[0] in _words(err) and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_option_values_show_their_choices_in_help() -> None:
    _, out, _ = _invoke("convert", "--help")
    text = _words(out)
    for shown in ("--bundle <collection|transaction>", "--layout <per-study|bulk>", "--engine <local|dask>",
                  "--sdtm-layout <per-study|concatenated>", "--to TARGETS", "--from FORMAT", "--out -o DIR"):
        assert shown in text, shown
    assert "<str>" not in text and "<int>" not in text


def test_counts_are_in_the_singular_for_one(tmp_path: Path) -> None:
    _, out, _ = _invoke("convert", str(GOOD_PAGE), "--out", str(tmp_path / "out"))
    assert out.splitlines()[-1].startswith("Total: 1 file, 1 study written, 0 unusable;")
    study = tmp_path / "out" / "NCT06710717" / "study.json"
    data = json.loads(study.read_text())
    data["status"]["overall"] = {"not": "a string"}
    study.write_text(json.dumps(data))
    _, out, _ = _invoke("validate", str(study))
    assert out.splitlines()[0] == f"✗ {study} (study): 1 problem"
