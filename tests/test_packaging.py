"""The wheel carries mappings/, schemas/ and fhir-package/ and finds them without the source tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
         str(ROOT)],
        check=True, capture_output=True,
    )
    return next(dist.glob("trialbridge-*.whl"))


def test_wheel_contains_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "converters/_data/schemas/study.schema.json" in names
    assert "converters/_data/mappings/common/vocabulary.yaml" in names
    assert any(n.startswith("converters/_data/mappings/registry_page/") for n in names)
    for version in ("r4", "r5"):  # the project's own FHIR packages (fhir-package/), index included
        package = f"converters/_data/fhir-package/dev.trialbridge.fhir.{version}/package/"
        assert {package + "package.json", package + ".index.json"} <= set(names)


def test_installed_wheel_converts_without_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = subprocess.run(
        [sys.executable, "-c", "import converters, converters.resources as r; "
                               "print(converters.__file__); print(r.default_data_root())"],
        cwd=work, env=env, check=True, capture_output=True, text=True,
    )
    module_file, data_root = probe.stdout.split()
    assert module_file.startswith(str(site)) and data_root.startswith(str(site))
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "converters.cli", "convert", str(SEEDS), "--out", str(out)],
        cwd=work, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["totals"]["studies_written"] == 5
