"""`trialbridge validate` walks folders and gives the verdict `convert` gives: each file, or set of SDTM tables,
is checked on its own by what it holds (a registry record, a FHIR resource or bundle, a study.json, a set of
Trial Design tables), and one policy (mappings/sdtm/finding-severity.yaml) decides a CORE finding's severity for
both commands, so the README's own command and `validate` of what it wrote both exit 0."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from converters import validate as validate_module
from converters.cli import app
from converters.problems import Problem, Severity, worst_exit_code
from tests.conftest import FIXTURES, ROOT, SEEDS

runner = CliRunner()
V2 = FIXTURES / "ctgov" / "v2"
NOT_STARTED = {"000_c854247f1f7c700a", "NCT06420154"}  # not yet recruiting: SSTDTC NAV
NO_START_DATE = {"002_4eafcaff3cb592d5", "004_0d37fe9dc878cb93"}  # no status / recruiting, no start date: NI
MSG_V2 = FIXTURES / "cdisc" / "tdm-examples" / "msg-v2"


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _validated(*paths: Path) -> dict[Path, tuple[str, list[Problem]]]:
    """What `validate` reports, unit by unit, through the library (the CLI prints the same, see below)."""
    config = validate_module.validation_config(ROOT)
    return {unit.path: validate_module.validate_unit(config, unit) for unit in validate_module.validation_units(paths)}


def _start_date_findings(problems: list[Problem]) -> list[tuple[str, Severity, str | None]]:
    return [(p.code, p.severity, p.location.record) for p in problems if "CORE-000505" in p.message]


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's command on the seed pages: every study with FHIR R4, R5 and SDTM."""
    out = tmp_path_factory.mktemp("readme") / "out"
    code, text = _run("convert", str(SEEDS), "--out", str(out), "--to", "fhir-r4,fhir-r5,sdtm", "-j", "1")
    assert code == 0, text
    return out


def test_validate_of_the_readme_output_gives_the_verdict_convert_gave(converted: Path) -> None:
    code, text = _run("validate", str(converted), "-j", "1")
    assert code == 0, text
    report = json.loads((converted / "report.json").read_text(encoding="utf-8"))
    by_convert = {
        record["output_dir"]: [(p["code"], Severity(p["severity"]), p["location"].get("record"))
                               for p in record["problems"] if "CORE-000505" in p["message"]]
        for entry in report["files"] for record in entry["records"]
    }
    by_validate = {path.parent.name: _start_date_findings(problems)
                   for path, (kind, problems) in _validated(converted).items() if kind == "sdtm-tdm"}
    assert by_validate == by_convert
    for study, findings in by_validate.items():
        if study in NOT_STARTED:  # the study has not started: its actual start date cannot exist yet
            assert [(c, s) for c, s, _ in findings] == [("sdtm-study-not-started", Severity.WARNING)], study
        elif study in NO_START_DATE:  # the source does not give a start date: absent, not invented
            assert [(c, s) for c, s, _ in findings] == [("sdtm-write-required-value-absent", Severity.WARNING)]
        else:
            assert findings == [], study
    assert set(by_validate) == NOT_STARTED | NO_START_DATE | {"NCT06710717"}


def test_validate_of_a_study_folder_checks_every_output(converted: Path) -> None:
    study = converted / "NCT06420154"
    code, text = _run("validate", str(study), "-j", "1")
    assert code == 0
    for shown in ("study.json (study)", "fhir-r4/bundle.json (fhir)", "fhir-r5/bundle.json (fhir)",
                  "NCT06420154/sdtm (sdtm-tdm)"):
        assert shown in text, shown
    results = _validated(study)
    assert {path.relative_to(study).as_posix(): kind for path, (kind, _) in results.items()} == {
        "study.json": "study",
        "fhir-r4/bundle.json": "fhir", "fhir-r4/bundle.trace.json": "fhir-trace",
        "fhir-r5/bundle.json": "fhir", "fhir-r5/bundle.trace.json": "fhir-trace",
        "sdtm": "sdtm-tdm",  # csv/, json/, xpt/ and define.xml: one set of tables
    }
    assert worst_exit_code(p for _, problems in results.values() for p in problems) == 0
    traces = [problems for path, (kind, problems) in results.items() if kind == "fhir-trace"]
    assert [[p.code for p in found] for found in traces] == [["validate-file-not-checked"]] * 2


def test_a_bad_output_in_a_study_folder_fails_the_walk(converted: Path, tmp_path: Path) -> None:
    study = tmp_path / "NCT06420154"
    shutil.copytree(converted / "NCT06420154", study)
    document = json.loads((study / "study.json").read_text(encoding="utf-8"))
    document["status"]["overall"] = 12  # a string in the study schema
    (study / "study.json").write_text(json.dumps(document), encoding="utf-8")
    define = study / "sdtm" / "define.xml"
    define.write_text(define.read_text(encoding="utf-8").replace("<def:Standards>", "<def:Standardz>", 1)
                      .replace("</def:Standards>", "</def:Standardz>", 1), encoding="utf-8")
    code, text = _run("validate", str(study), "-j", "1")
    assert code == 1 and "study.json (study)" in text
    results = _validated(study)
    errors = {path.relative_to(study).as_posix(): sorted({p.code for p in problems if p.severity is Severity.ERROR})
              for path, (_, problems) in results.items()}
    assert errors["study.json"] == ["study-schema-invalid"]
    assert errors["sdtm"] == ["sdtm-tdm-file-invalid"]
    assert errors["fhir-r4/bundle.json"] == []


def test_a_folder_of_records_is_checked_record_by_record() -> None:
    code, text = _run("validate", str(V2), "-j", "1")
    assert code == 0, text
    assert sum(1 for line in text.splitlines() if "(ctgov-v2-json)" in line) == 50
    results = _validated(V2)
    records = sorted(V2.glob("NCT*.json"))
    assert len(records) == 49
    assert list(results) == [*records, V2 / "pages" / "page_condition_query_response.json"]
    assert {kind for kind, _ in results.values()} == {"ctgov-v2-json"}
    assert worst_exit_code(p for _, problems in results.values() for p in problems) == 0


def test_a_folder_of_mixed_kinds_checks_each_file_by_what_it_holds(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed"
    (mixed / "records").mkdir(parents=True)
    shutil.copy(V2 / "NCT00576225.json", mixed / "records" / "a.json")
    shutil.copy(FIXTURES / "ctgov" / "xml" / "NCT00001177.xml", mixed / "records" / "b.xml")
    shutil.copy(SEEDS / "003_6601ee6bc5388ce6.txt", mixed / "page.txt")
    fhir = FIXTURES / "fhir" / "examples" / "r5" / "handwritten"
    shutil.copy(fhir / "Bundle-collection.json", mixed / "bundle.json")
    lines = [json.dumps(json.loads((fhir / name).read_text(encoding="utf-8")))
             for name in ("Organization-sponsor.json", "Location-site.json")]
    (mixed / "resources.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copytree(MSG_V2, mixed / "tables")  # named for nothing: known by the tables it holds
    (mixed / "tables" / "notes.json").write_bytes((V2 / "NCT00712335.json").read_bytes())  # beside the tables
    code, text = _run("validate", str(mixed), "-j", "1")
    assert code == 0 and "records/a.json (ctgov-v2-json)" in text, text
    results = _validated(mixed)
    assert {path.relative_to(mixed).as_posix(): kind for path, (kind, _) in results.items()} == {
        "bundle.json": "fhir", "page.txt": "registry-page", "records/a.json": "ctgov-v2-json",
        "records/b.xml": "ctgov-xml", "resources.ndjson": "fhir", "tables": "sdtm-tdm",
        "tables/notes.json": "ctgov-v2-json",
    }
    assert worst_exit_code(p for _, problems in results.values() for p in problems) == 0


def test_an_unknown_file_is_skipped_in_a_walk_and_unusable_when_named(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the structured-record readers: the page reader takes any text today (i14-not-a-study makes it ask for
    # evidence of a study); this checks the walk's rule, whatever the readers recognise.
    structured = {name: reader for name, reader in validate_module.discover_readers().items()
                  if name != "registry-page"}
    monkeypatch.setattr(validate_module, "discover_readers", lambda: structured)
    folder = tmp_path / "records"
    folder.mkdir()
    shutil.copy(V2 / "NCT00576225.json", folder / "NCT00576225.json")
    readme = folder / "README.md"
    readme.write_text("# Records\n\nDownloaded from ClinicalTrials.gov on 2025-06-01.\n", encoding="utf-8")
    code, text = _run("validate", str(folder), "-j", "1")
    assert code == 0 and "README.md (skipped)" in text, text
    results = _validated(folder)
    kind, problems = results[readme]
    assert kind == "skipped"
    assert [(p.code, p.severity) for p in problems] == [("validate-file-skipped", Severity.WARNING)]
    assert results[folder / "NCT00576225.json"][0] == "ctgov-v2-json"
    named_kind, named = validate_module.validate_unit(validate_module.validation_config(ROOT),
                                                      validate_module.ValidationUnit(readme))
    assert named_kind == "unknown" and [(p.code, p.severity) for p in named] == [
        ("input-format-unknown", Severity.FATAL)]
    assert _run("validate", str(readme), "-j", "1")[0] == 2


def test_the_bulk_layout_validates_as_convert_checked_it(tmp_path: Path) -> None:
    out = tmp_path / "bulk"
    code, text = _run("convert", str(SEEDS), "--out", str(out), "--to", "fhir-r4,sdtm", "--layout", "bulk",
                      "-j", "1")
    assert code == 0, text
    code, text = _run("validate", str(out), "-j", "1")
    assert code == 0, text
    results = _validated(out)
    kinds = {path.relative_to(out).as_posix(): kind for path, (kind, _) in results.items()}
    assert kinds["study.ndjson"] == "study" and kinds["sdtm"] == "sdtm-tdm"
    assert kinds["fhir-r4/ResearchStudy.ndjson"] == "fhir" and kinds["fhir-r4/trace.ndjson"] == "fhir-trace"
    assert kinds["report.json"] == "run-report"
    # the concatenated tables are checked study by study, as the writer checks them: no TSSEQ clash across studies
    _, sdtm = results[out / "sdtm"]
    assert not [p for p in sdtm if p.severity is Severity.ERROR], [p.one_line() for p in sdtm]
    summaries = [p for p in sdtm if p.code == "sdtm-core-rules-summary"]
    assert len(summaries) == 5
    not_started = sorted(p.location.file.rsplit("#", 1)[1] for p in sdtm if p.code == "sdtm-study-not-started")
    assert not_started == ["STUDYID=NCT06420154", "STUDYID=SRC-F4A469782126"]


def test_a_study_ndjson_line_that_fails_the_schema_is_named_by_its_line(converted: Path, tmp_path: Path) -> None:
    good = json.loads((converted / "NCT06420154" / "study.json").read_text(encoding="utf-8"))
    bad = dict(good, status=dict(good["status"], overall=12))
    path = tmp_path / "study.ndjson"
    path.write_text("\n".join([json.dumps(good), json.dumps(bad), "{not json", json.dumps(good)]) + "\n",
                    encoding="utf-8")
    code, text = _run("validate", str(path), "-j", "1")
    assert code == 1 and "(study)" in text, text
    kind, problems = _validated(path)[path]
    assert kind == "study"
    assert [(p.code, p.location.line) for p in problems] == [("study-schema-invalid", 2),
                                                             ("study-schema-invalid", 3)]
    assert problems[0].location.path == "/status/overall"


def test_a_walk_reports_the_same_for_any_job_count(converted: Path) -> None:
    one = _run("validate", str(converted), str(V2), "-j", "1")
    two = _run("validate", str(converted), str(V2), "--jobs", "2")
    assert one == two and one[0] == 0
