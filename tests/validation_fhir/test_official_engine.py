"""The official HL7 validator engine (validator/official/, HAPI FHIR 8.8.1 on Java 17) on every FHIR output of the
fixtures, in ONE JVM for the whole module (start-up is seconds). Skipped only where Java 17 or Maven is absent;
CI has both (`.ci/run` builds the jar)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from converters.problems import Problem, Severity
from converters.targets.fhir.official import EngineSetup, EngineUnavailable, OfficialEngine, fhirpath, issue_problem

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
INPUTS = (
    FIXTURES / "seeds",
    *(FIXTURES / "ctgov" / "v2" / name for name in ("NCT00576225.json", "NCT00712335.json", "NCT02513394.json")),
    *(FIXTURES / "ctgov" / "xml" / name for name in ("NCT00001177.xml", "NCT00023673.xml", "NCT00444457.xml")),
    FIXTURES / "ictrp" / "single",
    FIXTURES / "ictrp" / "ChiCTR2000034346.xml",
)
# The one error the engine finds in the fixture outputs today (issue 15: the goal is none; the lead decides):
# an R4 ResearchStudy.status that is absent with a data-absent-reason extension (seed 002): the engine requires a
# code where a required binding applies, the project's own validator accepts the extension in place of the value.
KNOWN_ERRORS = {("Terminology_TX_Code_ValueSet_MISSING", "Bundle.entry[0].resource.ofType(ResearchStudy).status")}


def _java_17() -> bool:
    try:
        EngineSetup().java()
    except EngineUnavailable:
        return False
    return True


pytestmark = pytest.mark.skipif(shutil.which("mvn") is None or not _java_17(),
                                reason="the official engine needs Java 17 and Maven (both on CI machines)")


@pytest.fixture(scope="module")
def engine() -> Iterator[OfficialEngine]:
    with OfficialEngine() as official:
        yield official


@pytest.fixture(scope="module")
def fixture_outputs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, str]]:
    """Every FHIR bundle the fixtures give, R4 and R5, collection and transaction, with its version."""
    outputs: list[tuple[Path, str]] = []
    for bundle_type in ("collection", "transaction"):
        out = tmp_path_factory.mktemp(bundle_type)
        subprocess.run([sys.executable, "-m", "converters", "convert", *map(str, INPUTS), "-o", str(out),
                        "--to", "fhir-r4,fhir-r5", "--bundle", bundle_type, "-j", "1"],
                       capture_output=True, check=False, cwd=ROOT)
        outputs += [(path, path.parent.name[-2:].upper()) for path in sorted(out.rglob("fhir-r*/bundle.json"))]
    return outputs


def test_fixture_outputs_have_no_errors_but_the_known_one(engine: OfficialEngine,
                                                           fixture_outputs: list[tuple[Path, str]]) -> None:
    assert len(fixture_outputs) >= 40  # 10+ studies x R4/R5 x collection/transaction
    problems = [p for path, version in fixture_outputs for p in engine.validate(path, version)]
    errors = {(p.message.rsplit("[", 1)[-1].rstrip("]"), p.location.path)
              for p in problems if p.severity in (Severity.ERROR, Severity.FATAL)}
    assert errors == KNOWN_ERRORS
    warnings = Counter(p.message.rsplit("[", 1)[-1] for p in problems if p.severity is Severity.WARNING)
    assert "fhir-official-unavailable" not in {p.code for p in problems}
    assert warnings  # offline, LOINC/SNOMED and the project's own code systems are warnings, never errors


def _study(tmp_path: Path, resource: dict[str, object]) -> Path:
    path = tmp_path / "study.json"
    path.write_text(json.dumps(resource), encoding="utf-8")
    return path


def test_research_study_without_status_is_an_error_at_its_path(engine: OfficialEngine, tmp_path: Path) -> None:
    problems = engine.validate(_study(tmp_path, {"resourceType": "ResearchStudy", "id": "x"}), "R4")
    errors = [p for p in problems if p.severity is Severity.ERROR]
    assert [(p.code, p.location.path, p.location.line) for p in errors] == [
        ("fhir-official-error", "ResearchStudy", 1)]
    assert "ResearchStudy.status" in errors[0].message


def test_a_good_research_study_has_no_errors(engine: OfficialEngine, tmp_path: Path) -> None:
    problems = engine.validate(_study(tmp_path, {"resourceType": "ResearchStudy", "id": "x", "status": "active"}),
                               "R4")
    assert [p for p in problems if p.severity is Severity.ERROR] == []


def test_an_unreadable_file_is_not_checked_never_passed(engine: OfficialEngine, tmp_path: Path) -> None:
    problems: list[Problem] = engine.validate(tmp_path / "absent.json", "R4")
    assert [p.code for p in problems] == ["fhir-official-unavailable"]


def test_hapi_locations_become_fhirpaths_with_the_resource() -> None:
    assert fhirpath("Bundle.entry[2].resource/*Group/g1*/.characteristic[0]") == (
        "Bundle.entry[2].resource.ofType(Group).characteristic[0]", "Group/g1")
    assert fhirpath("ResearchStudy.status") == ("ResearchStudy.status", None)


def test_an_issue_becomes_a_problem_of_its_severity() -> None:
    problem = issue_problem({"severity": "warning", "code": "X_Y", "message": "m", "location": "Group.code",
                             "line": 3, "col": 4}, "f.json")
    assert (problem.code, problem.severity, problem.message, problem.location.line) == (
        "fhir-official-warning", Severity.WARNING, "m [X_Y]", 3)


def test_validate_engine_official_reports_the_engine_problems(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from converters.cli import app

    path = _study(tmp_path, {"resourceType": "ResearchStudy", "id": "x"})
    result = CliRunner().invoke(app, ["validate", "--engine", "official", "--fhir-version", "R4", "--json", str(path)])
    document = json.loads(result.stdout)
    codes = [p["code"] for p in document["results"][0]["problems"] if p["severity"] == "error"]
    assert (result.exit_code, codes) == (document["exit_code"], ["fhir-official-error"])
    assert result.exit_code != 0


def test_validate_refuses_an_unknown_engine(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from converters.cli import app

    result = CliRunner().invoke(app, ["validate", "--engine", "hapi", str(_study(tmp_path, {}))])
    assert result.exit_code != 0
    assert "--engine 'hapi' is not a validator" in result.output


def _package(folder: Path) -> Path:
    """A one-extension FHIR package (differential only, as the project's own package is written)."""
    folder.mkdir()
    (folder / "package.json").write_text(json.dumps({"name": "test", "version": "0.1.0"}), encoding="utf-8")
    extension = {
        "resourceType": "StructureDefinition", "id": "test-note", "url": NOTE, "name": "TestNote",
        "status": "draft", "fhirVersion": "4.0.1", "kind": "complex-type", "abstract": False,
        "context": [{"type": "element", "expression": "ResearchStudy"}], "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension", "derivation": "constraint",
        "differential": {"element": [
            {"id": "Extension", "path": "Extension", "max": "1"},
            {"id": "Extension.url", "path": "Extension.url", "fixedUri": NOTE},
            {"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1, "type": [{"code": "string"}]},
        ]},
    }
    (folder / "StructureDefinition-test-note.json").write_text(json.dumps(extension), encoding="utf-8")
    return folder


NOTE = "https://trialbridge.dev/fhir/StructureDefinition/test-note"


def test_the_project_package_defines_extensions_for_the_engine(engine: OfficialEngine, tmp_path: Path) -> None:
    def study(value: dict[str, object]) -> Path:
        resource = {"resourceType": "ResearchStudy", "id": "x", "status": "active",
                    "extension": [{"url": NOTE, **value}]}
        path = tmp_path / f"study-{len(list(tmp_path.glob('study-*')))}.json"
        path.write_text(json.dumps(resource), encoding="utf-8")
        return path

    good, bad = study({"valueString": "a"}), study({"valueInteger": 3})
    unknown = [p.message for p in engine.validate(good, "R4") if "Extension_EXT_Unknown" in p.message]
    assert len(unknown) == 1  # the module's engine has no package: the extension is unknown, an information
    with OfficialEngine(EngineSetup(package_dir=_package(tmp_path / "package"))) as packaged:
        found = packaged.validate(good, "R4")
        on_extension = [p.message for p in found if "extension" in (p.location.path or "")]
        assert (on_extension, [p for p in found if p.severity is Severity.ERROR]) == ([], [])
        errors = [p for p in packaged.validate(bad, "R4") if p.severity is Severity.ERROR]
    assert [(p.location.path, "integer" in p.message) for p in errors] == [("ResearchStudy.extension[0]", True)]


def test_no_maven_project_means_unavailable_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="no Maven project in"):
        OfficialEngine(EngineSetup(project_dir=tmp_path))


def test_ndjson_is_validated_line_by_line(engine: OfficialEngine, tmp_path: Path) -> None:
    path = tmp_path / "ResearchStudy.ndjson"
    lines = [{"resourceType": "ResearchStudy", "id": "a", "status": "active"},
             {"resourceType": "ResearchStudy", "id": "b"}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    errors = [p for p in engine.validate(path, "R4") if p.severity is Severity.ERROR]
    assert [(p.location.line, "ResearchStudy.status" in p.message) for p in errors] == [(2, True)]


# --- the project's mutation set through both validators (issue 15) -------------------------------------------

#: Mutations both validators report as warnings, not errors: the specification gives these invariants severity
#: "warning" (agreement).
WARNING_INVARIANTS = {"r4-pdf-0", "r5-pld-4", "r5-cnl-0", "r5-ident-1"}
#: Intended difference: the project's bundles promise to be self-contained (every reference resolves inside the
#: bundle; a transaction's conditional references match an entry's conditional update), which FHIR itself does
#: not require, so the engine passes these (or only warns) while the project's validator reports an error.
PROJECT_BUNDLE_RULES = {
    "r4-collection-sponsor-missing", "r4-collection-site-fullurl", "r4-transaction-urn-missing",
    "r4-transaction-conditional-missing", "r4-collection-conditional", "r5-collection-party-missing",
    "r5-transaction-ifnoneexist-missing",
}
#: Where the two validators disagree on the valid example fixtures the mutations start from, and why. The
#: hand-written PlanDefinitions (and the bundles holding one) code their type `protocol`, which is not a code of
#: http://terminology.hl7.org/CodeSystem/plan-definition-type (`clinical-protocol` is): the engine reports it; the
#: project's validator does not check a code against a known code system under an extensible binding (a bug in
#: ours, to fix; the writers themselves write `clinical-protocol`).
EXAMPLE_DISAGREEMENTS = {
    "r4/handwritten/Bundle-collection.json", "r4/handwritten/Bundle-transaction.json",
    "r4/handwritten/PlanDefinition-protocol.json", "r5/handwritten/Bundle-collection.json",
    "r5/handwritten/Bundle-transaction.json", "r5/handwritten/PlanDefinition-protocol.json",
}


def _findings(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(p.severity.value, p.message) for p in problems if p.severity is not Severity.INFO}


def test_the_mutations_draw_the_same_verdict_from_the_official_engine(engine: OfficialEngine,
                                                                       tmp_path: Path) -> None:
    """The project's 90 mutations (all caught by its own validator, tests/validation_fhir/test_mutations.py)
    through the official engine: 79 are errors for both, 4 warning-level invariants are warnings for both, and
    the 7 breaches of the project's own bundle rules are errors only for the project's validator (documented in
    docs/official-validator.md). Findings the unmutated example already draws do not count."""
    from tests.validation_fhir.mutations import EXAMPLES, MUTATIONS

    examples = {(m.fixture, m.version) for m in MUTATIONS}
    before = {key: _findings(engine.validate(EXAMPLES / key[0], key[1])) for key in examples}
    verdicts: dict[str, str] = {}
    for mutation in MUTATIONS:
        path = tmp_path / f"{mutation.id}.json"
        path.write_text(json.dumps(mutation.apply()), encoding="utf-8")
        new = _findings(engine.validate(path, mutation.version)) - before[(mutation.fixture, mutation.version)]
        severities = {severity for severity, _ in new}
        verdicts[mutation.id] = "error" if severities & {"error", "fatal"} else "warning" if severities else "none"
    assert len(verdicts) == 90
    assert {k for k, v in verdicts.items() if v != "error"} == WARNING_INVARIANTS | PROJECT_BUNDLE_RULES
    assert {verdicts[k] for k in WARNING_INVARIANTS} == {"warning"}


def test_the_valid_examples_disagree_only_where_documented(engine: OfficialEngine) -> None:
    from tests.validation_fhir.mutations import EXAMPLES

    flagged = set()
    for version in ("r4", "r5"):
        for path in sorted((EXAMPLES / version).rglob("*.json")):
            errors = [p for p in engine.validate(path, version.upper()) if p.severity in (Severity.ERROR,
                                                                                          Severity.FATAL)]
            if errors:
                assert all("plan-definition-type#protocol" in p.message for p in errors), (path, errors)
                flagged.add(str(path.relative_to(EXAMPLES)))
    assert flagged == EXAMPLE_DISAGREEMENTS
