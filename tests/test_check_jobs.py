"""`validate` and `coverage` on several processes (`--jobs`): the console output, the exit code and the JSON
report are the same for one job and for two, a bad file among good ones included, and coverage counts a large
NDJSON or ZIP file a window at a time to the same report as reading it whole."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from converters import coverage as coverage_module
from converters.cli import app
from tests.conftest import FIXTURES

runner = CliRunner()
V2 = FIXTURES / "ctgov" / "v2"
FHIR_EXAMPLES = FIXTURES / "fhir" / "examples"


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _bad_files(folder: Path) -> list[Path]:
    """A bundle with an invalid resource, a file that is not JSON, and a path that does not exist."""
    folder.mkdir(parents=True, exist_ok=True)
    bundle = folder / "bad-bundle.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                  "entry": [{"resource": {"resourceType": "Patient", "bogus": 1}}]}))
    junk = folder / "junk.json"
    junk.write_text("not json")
    return [bundle, junk, folder / "missing.json"]


def _validate_inputs(tmp_path: Path) -> list[str]:
    good = sorted(V2.glob("*.json"))[:3] + sorted(p for p in FHIR_EXAMPLES.iterdir() if p.is_file())[:3]
    bad = _bad_files(tmp_path / "bad")
    return [str(p) for p in (good[:2] + bad[:1] + good[2:4] + bad[1:] + good[4:])]


def test_validate_is_the_same_for_any_job_count(tmp_path: Path) -> None:
    paths = _validate_inputs(tmp_path)
    one = _run("validate", *paths, "-j", "1")
    two = _run("validate", *paths, "--jobs", "2")
    assert one == two
    code, out = one
    assert code == 2  # the missing path is unusable input, as before
    lines = [line for line in out.splitlines() if line[:1] in "✓✗"]
    assert [line.split(" ")[1] for line in lines] == paths  # every path reported, in input order
    assert "(missing)" in out and "Traceback" not in out


def test_validate_json_is_the_same_for_any_job_count(tmp_path: Path) -> None:
    paths = _validate_inputs(tmp_path)
    one = runner.invoke(app, ["validate", "--json", *paths, "-j", "1"])
    two = runner.invoke(app, ["validate", "--json", *paths, "-j", "2"])
    assert (one.exit_code, one.stdout, one.stderr) == (two.exit_code, two.stdout, two.stderr)
    assert [entry["path"] for entry in json.loads(one.stdout)["results"]] == paths


def _coverage(inputs: list[Path], out: Path, jobs: int) -> tuple[int, str, bytes]:
    code, text = _run("coverage", *map(str, inputs), "--json-file", str(out), "-j", str(jobs))
    return code, text, out.read_bytes()


def test_coverage_is_the_same_for_any_job_count(tmp_path: Path) -> None:
    inputs = [V2, *_bad_files(tmp_path / "bad"), FIXTURES / "ctgov" / "xml"]
    one = _coverage(inputs, tmp_path / "one.json", 1)
    two = _coverage(inputs, tmp_path / "two.json", 2)
    assert one == two
    assert one[0] == 2  # the missing path, as before; the files after the bad ones are still counted
    report = json.loads(one[2])
    assert report["records"]["ctgov-xml"]["converted"] > 0 and report["records"]["ctgov-v2-json"]["converted"] > 0


def _large_inputs(folder: Path) -> list[Path]:
    """An NDJSON file and a ZIP of several records each: cut into windows when the window is small."""
    folder.mkdir()
    records = sorted(V2.glob("*.json"))[:7]
    ndjson = folder / "studies.ndjson"
    ndjson.write_text("".join(json.dumps(json.loads(p.read_text())) + "\n" for p in records))
    archive = folder / "studies.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in records:
            zf.write(p, p.name)
    return [ndjson, archive]


@pytest.mark.parametrize("jobs", [1, 2])
def test_coverage_of_windows_adds_up_to_the_whole_file(tmp_path: Path, jobs: int,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = _large_inputs(tmp_path / "in")
    whole = _coverage(inputs, tmp_path / "whole.json", 1)
    monkeypatch.setattr(coverage_module, "WINDOW", 2)
    pieces = list(coverage_module.coverage_inputs((p, None) for p in inputs))
    assert sum(1 for p in pieces if p.window is not None and p.window.lines is not None) == 4
    assert sum(1 for p in pieces if p.window is not None and p.window.members is not None) == 4
    assert [p.first for p in pieces] == [True, False, False, False] * 2
    windowed = _coverage(inputs, tmp_path / "windowed.json", jobs)
    assert windowed == whole
    assert json.loads(whole[2])["files"] == 2
