"""The run at scale: any number of jobs gives the same bytes, the bulk layout is valid FHIR Bulk Data, folders
of duplicate studies are named in input order, and report.json streamed is report.json dumped whole."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from converters.cli import app
from converters.pipeline import ConvertOptions, convert
from converters.resources import Resources
from converters.targets.fhir.validator.files import validate_fhir_file

ROOT = Path(__file__).resolve().parents[2]
V2 = ROOT / "fixtures" / "ctgov" / "v2"
SEEDS = ROOT / "fixtures" / "seeds"
V2_SAMPLE = sorted(V2.glob("*.json"))[:12]


def _tree(root: Path) -> dict[str, str]:
    """Every file below root (relative path -> sha256), hidden ones included."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _inputs(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    for path in V2_SAMPLE:
        shutil.copy(path, folder / path.name)
    for path in sorted(SEEDS.iterdir())[:2]:
        shutil.copy(path, folder / path.name)
    return [folder]


@pytest.mark.parametrize("layout", ["per-study", "bulk"])
def test_two_jobs_write_the_same_bytes_as_one(layout: str, tmp_path: Path, resources: Resources) -> None:
    inputs = _inputs(tmp_path)
    trees = []
    for jobs in (1, 2):
        out = tmp_path / f"out-{jobs}"
        options = ConvertOptions(out_dir=out, targets=("fhir-r4", "sdtm"), layout=layout, jobs=jobs,
                                 writer_options={"sdtm_formats": "csv,json,define"})
        report = convert(inputs, options, resources)
        assert report.studies_written() == len(V2_SAMPLE) + 2
        trees.append(_tree(out))
    assert trees[0] == trees[1]
    assert not any(name.startswith(".") for name in trees[0]), "staging and partial files are gone"


def test_bulk_ndjson_is_valid_fhir_with_references_between_files(tmp_path: Path, resources: Resources) -> None:
    out = tmp_path / "out"
    options = ConvertOptions(out_dir=out, targets=("fhir-r4",), layout="bulk", jobs=1)
    report = convert(_inputs(tmp_path), options, resources)
    studies = report.studies_written()
    folder = out / "fhir-r4"
    assert len((out / "study.ndjson").read_text().splitlines()) == studies
    assert len((folder / "ResearchStudy.ndjson").read_text().splitlines()) == studies
    ids: set[str] = set()
    references: list[str] = []
    for path in sorted(folder.glob("*.ndjson")):
        if path.name == "trace.ndjson":
            continue
        for line in path.read_text().splitlines():
            resource = json.loads(line)
            assert resource["resourceType"] == path.stem
            ids.add(f"{resource['resourceType']}/{resource['id']}")
            references += [m for m in _references(resource)]
        errors = [p for p in validate_fhir_file(path, "R4") if p.severity.value in ("error", "fatal")]
        assert errors == [], path.name
    assert references and not any(r.startswith("urn:uuid:") for r in references)
    local = [r for r in references if r.split("/")[0] in {i.split("/")[0] for i in ids}]
    assert local and set(local) <= ids, "every reference between the files names a resource written"


def _references(value: object) -> list[str]:
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [r for item in value.values() for r in _references(item)]
    if isinstance(value, list):
        return [r for item in value for r in _references(item)]
    return []


def test_a_broken_ndjson_line_is_reported_with_its_line(tmp_path: Path, resources: Resources) -> None:
    out = tmp_path / "out"
    convert([V2_SAMPLE[0]], ConvertOptions(out_dir=out, targets=("fhir-r4",), layout="bulk"), resources)
    path = out / "fhir-r4" / "Organization.ndjson"
    lines = path.read_text().splitlines()
    broken = json.loads(lines[0])
    broken["active"] = "yes"  # a boolean in FHIR
    path.write_text("\n".join([lines[0], json.dumps(broken)]) + "\n")
    problems = validate_fhir_file(path, "R4")
    assert [p.location.line for p in problems if p.severity.value == "error"] == [2]


def test_the_same_study_twice_gets_numbered_folders_in_input_order(tmp_path: Path, resources: Resources) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        shutil.copy(V2_SAMPLE[0], tmp_path / name / V2_SAMPLE[0].name)
    out = tmp_path / "out"
    options = ConvertOptions(out_dir=out, targets=("fhir-r4",), jobs=2)
    report = convert([tmp_path / "a", tmp_path / "b"], options, resources)
    dirs = [r.output_dir for f in report.files for r in f.records]
    assert dirs == [V2_SAMPLE[0].stem, f"{V2_SAMPLE[0].stem}--2"]
    second = report.files[1].records[0]
    assert second.outputs[0] == f"{V2_SAMPLE[0].stem}--2/study.json"
    text = (out / "report.json").read_text()
    assert ".trialbridge-staging" not in text


def test_report_json_streamed_is_the_report_dumped_whole(tmp_path: Path, resources: Resources) -> None:
    out = tmp_path / "out"
    missing = tmp_path / "missing.json"
    report = convert([*_inputs(tmp_path), missing], ConvertOptions(out_dir=out), resources)
    whole = json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
    assert (out / "report.json").read_text(encoding="utf-8") == whole
    assert report.exit_code == 2  # the missing file


def test_report_json_of_an_empty_run(tmp_path: Path, resources: Resources) -> None:
    (tmp_path / "empty").mkdir()
    report = convert([tmp_path / "empty"], ConvertOptions(out_dir=tmp_path / "out"), resources)
    assert json.loads((tmp_path / "out" / "report.json").read_text())["files"] == []
    assert report.file_count == 0


@pytest.mark.parametrize("args", [["--layout", "sideways"], ["--layout", "bulk", "--sdtm-layout", "per-study"],
                                  ["--jobs", "0"]])
def test_unusable_layout_and_jobs_options_stop_the_run(args: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["convert", str(V2_SAMPLE[0]), "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2
    assert not (tmp_path / "o").exists()


def _zip_of(paths: list[Path], target: Path, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(target, "w", compression) as archive:
        for path in paths:
            archive.write(path, f"studies/{path.name}")
    return target


@pytest.mark.parametrize("window", [1, 5])
def test_a_large_archive_converted_in_windows_gives_the_bytes_of_one_read(window: int, tmp_path: Path,
                                                                         resources: Resources) -> None:
    archive = _zip_of(V2_SAMPLE, tmp_path / "download.zip")
    whole = convert([archive], ConvertOptions(out_dir=tmp_path / "whole", targets=("fhir-r4",), archive_window=0),
                    resources)
    cut = convert([archive], ConvertOptions(out_dir=tmp_path / "cut", targets=("fhir-r4",), archive_window=window,
                                            jobs=2), resources)
    assert cut.file_count == whole.file_count == 1
    assert cut.studies_written() == len(V2_SAMPLE)
    assert _tree(tmp_path / "cut") == _tree(tmp_path / "whole")


def test_an_archive_larger_than_the_input_limit_is_read_a_window_at_a_time(tmp_path: Path,
                                                                          resources: Resources) -> None:
    archive = _zip_of(V2_SAMPLE[:3], tmp_path / "download.zip", zipfile.ZIP_STORED)
    limit = archive.stat().st_size - 1  # the archive itself is too large to load; each member is not
    refused = convert([archive], ConvertOptions(out_dir=tmp_path / "a", max_bytes=limit, archive_window=0),
                      resources)
    assert refused.studies_written() == 0
    read = convert([archive], ConvertOptions(out_dir=tmp_path / "b", max_bytes=limit), resources)
    assert read.studies_written() == 3


def _ndjson_of(paths: list[Path], target: Path) -> Path:
    """One study per line, with blank lines here and there and a broken line before the last record."""
    lines = []
    for number, path in enumerate(paths):
        lines.append(json.dumps(json.loads(path.read_text(encoding="utf-8")), ensure_ascii=False))
        if number % 4 == 1:
            lines.append("")
    lines.insert(len(lines) - 1, '{"protocolSection": ')
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


@pytest.mark.parametrize("window", [1, 4])
def test_a_large_ndjson_file_converted_in_windows_gives_the_bytes_of_one_read(window: int, tmp_path: Path,
                                                                             resources: Resources) -> None:
    source = _ndjson_of(V2_SAMPLE, tmp_path / "studies.ndjson")
    whole = convert([source], ConvertOptions(out_dir=tmp_path / "whole", targets=("fhir-r4",), ndjson_window=0),
                    resources)
    cut = convert([source], ConvertOptions(out_dir=tmp_path / "cut", targets=("fhir-r4",), ndjson_window=window,
                                           jobs=2), resources)
    assert whole.studies_written() == cut.studies_written() == len(V2_SAMPLE)
    assert whole.exit_code == cut.exit_code == 1  # the broken line, named by its line in the whole file
    assert _tree(tmp_path / "cut") == _tree(tmp_path / "whole")
