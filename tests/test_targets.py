"""The output-target protocol: discovery by registration, each target claiming its own outputs and no other's,
write-then-validate in the pipeline, and the import rule (targets never reach back to readers or the pipeline)."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

import pytest

from converters.pipeline import ConvertOptions, convert
from converters.problems import Problem
from converters.resources import Resources
from converters.targets import (
    CANONICAL_TARGET,
    PathProbe,
    Target,
    ValidateConfig,
    WriterFactory,
    claiming_target,
    discover_targets,
    discover_writers,
    find_targets,
    target_names,
)
from converters.validate import validate_path
from tests.conftest import FIXTURES, ROOT, SEEDS

GOOD_PAGE = SEEDS / "003_6601ee6bc5388ce6.txt"
CTGOV_RECORD = FIXTURES / "ctgov" / "v2" / "NCT00576225.json"
TARGETS_DIR = ROOT / "converters" / "targets"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One study converted to every target; returns its folder."""
    out = tmp_path_factory.mktemp("out")
    report = convert([GOOD_PAGE], ConvertOptions(out_dir=out, targets=("fhir-r4", "fhir-r5", "sdtm")), Resources())
    folder = report.files[0].records[0].output_dir
    assert folder is not None
    return out / folder


def test_targets_are_discovered_by_their_registration() -> None:
    targets = discover_targets()
    assert list(targets) == ["fhir", "sdtm", "study"]
    assert {name: sorted(t.writers) for name, t in targets.items()} == {
        "fhir": ["fhir-r4", "fhir-r5"], "sdtm": ["sdtm"], "study": ["study"]}
    assert set(discover_writers()) == {"study", "fhir-r4", "fhir-r5", "sdtm"}
    assert target_names() == [CANONICAL_TARGET, "fhir-r4", "fhir-r5", "sdtm"]


def test_a_run_finds_the_targets_it_writes_as_discovery_does() -> None:
    """`find_targets` (which imports only the packages the names point to) agrees with full discovery, and
    leaves out a name no target offers."""
    every = {name: target for target in discover_targets().values() for name in target.writers}
    assert find_targets(["sdtm", "fhir-r5", "no-such", "study"]) == {
        "sdtm": every["sdtm"], "fhir-r5": every["fhir-r5"], "study": every["study"]}
    assert find_targets([]) == {}


def _claimants(path: Path) -> list[str]:
    probe = PathProbe(path, 100 * 1024 * 1024)
    return [name for name, target in discover_targets().items() if target.claims(probe) > 0]


def test_each_target_claims_its_own_outputs_and_no_other(written: Path) -> None:
    assert _claimants(written / "study.json") == ["study"]
    assert _claimants(written / "fhir-r4" / "bundle.json") == ["fhir"]
    assert _claimants(written / "fhir-r5" / "bundle.json") == ["fhir"]
    assert _claimants(written / "sdtm") == ["sdtm"]
    assert _claimants(written / "sdtm" / "csv") == ["sdtm"]


def test_registry_records_and_other_files_are_claimed_by_no_target(written: Path) -> None:
    for path in (GOOD_PAGE, CTGOV_RECORD, written.parent / "report.json", written / "fhir-r4" / "bundle.trace.json",
                 written / "sdtm" / "define.xml"):
        assert _claimants(path) == [], path


def test_validate_dispatches_to_the_claiming_target_else_to_the_readers(written: Path, resources: Resources) -> None:
    cases = {written / "study.json": "study", written / "fhir-r4" / "bundle.json": "fhir",
             written / "sdtm": "sdtm-tdm", GOOD_PAGE: "registry-page", CTGOV_RECORD: "ctgov-v2-json"}
    for path, kind in cases.items():
        validated_as, problems = validate_path(path, resources)
        assert validated_as == kind, path
        assert not [p for p in problems if p.severity.value in ("error", "fatal")], (path, problems)


class _Claims:
    """A stand-in target that claims everything with a fixed confidence."""

    def __init__(self, name: str, score: float) -> None:
        self.name = name
        self.validated_as = name
        self.writers: Mapping[str, WriterFactory] = {}
        self.score = score

    def usage_errors(self, options: Mapping[str, str]) -> list[str]:
        return []

    def claims(self, probe: PathProbe) -> float:
        return self.score

    def covers(self, probe: PathProbe) -> frozenset[Path]:
        return frozenset()

    def companion(self, probe: PathProbe) -> str | None:
        return None

    def validate(self, probe: PathProbe, config: ValidateConfig) -> list[Problem]:
        return []


def test_the_most_confident_target_wins_ties_go_by_name(tmp_path: Path) -> None:
    probe = PathProbe(tmp_path, 1)
    targets: dict[str, Target] = {"a": _Claims("a", 0.5), "b": _Claims("b", 0.9), "c": _Claims("c", 0.9)}
    chosen = claiming_target(probe, targets)
    assert chosen is not None and chosen.name == "b"
    assert claiming_target(probe, {"z": _Claims("z", 0.0)}) is None


def test_a_fhir_resource_with_study_keys_is_still_fhir(tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    path.write_text('{"resourceType": "Basic", "schema_version": "1", "source": {}}', encoding="utf-8")
    target = claiming_target(PathProbe(path, 10_000), discover_targets())
    assert target is not None and target.name == "fhir"


def test_the_pipeline_writes_then_validates_and_no_validate_skips_only_the_checks(tmp_path: Path) -> None:
    def problems_by_target(validate: bool) -> tuple[list[str], list[str]]:
        out = tmp_path / ("checked" if validate else "unchecked")
        options = ConvertOptions(out_dir=out, targets=("fhir-r4", "sdtm"), validate_outputs=validate)
        report = convert([GOOD_PAGE], options, Resources())
        record = report.files[0].records[0]
        return [p.code for p in record.problems], record.outputs

    checked, checked_outputs = problems_by_target(True)
    unchecked, unchecked_outputs = problems_by_target(False)
    assert checked_outputs == unchecked_outputs, "validation never changes what is written"
    assert "sdtm-core-rules-summary" in checked and "sdtm-core-rules-summary" not in unchecked
    assert [c for c in checked if c in unchecked] == unchecked, "the writers' problems are the same, in order"
    # each target's checks follow its own writer's problems: the FHIR checks come before any SDTM problem
    sdtm_first = min(i for i, c in enumerate(checked) if c.startswith("sdtm-"))
    assert all(not c.startswith("sdtm-") for c in checked[:sdtm_first])


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_targets_never_import_readers_the_pipeline_or_the_validate_dispatch() -> None:
    against_the_flow = ("converters.readers", "converters.pipeline", "converters.validate", "converters.coverage",
                        "converters.cli")
    found = {
        (path.relative_to(TARGETS_DIR).as_posix(), module)
        for path in TARGETS_DIR.rglob("*.py")
        for module in _imports(path)
        if module.startswith(against_the_flow)
    }
    assert not found, sorted(found)


def test_each_target_imports_no_other_target() -> None:
    for package in ("fhir", "sdtm", "study"):
        others = tuple(f"converters.targets.{o}" for o in ("fhir", "sdtm", "study") if o != package)
        for path in (TARGETS_DIR / package).rglob("*.py"):
            assert not [m for m in _imports(path) if m.startswith(others)], path
