"""The input layer sits below the readers, readers do not know each other, and coverage uses public APIs.

Checked on the import statements of the source (module level and inside functions alike), so a function-level
import cannot hide a cycle again."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "converters"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [folder]


@pytest.mark.parametrize("path", _modules(PACKAGE / "loading"), ids=lambda p: p.name)
def test_loading_imports_no_reader_pipeline_or_writer(path: Path) -> None:
    upward = {m for m in _imports(path) if m.startswith(("converters.readers", "converters.pipeline",
                                                          "converters.targets", "converters.coverage",
                                                          "converters.validate"))}
    assert not upward, f"{path.name} imports {sorted(upward)}"


def test_the_api_v2_reader_does_not_know_the_xml_reader() -> None:
    for path in _modules(PACKAGE / "readers" / "ctgov_v2"):
        assert not {m for m in _imports(path) if "ctgov_xml" in m}, path.name


def test_no_reader_handles_zip_archives() -> None:
    for path in [*_modules(PACKAGE / "readers" / "ctgov_v2"), PACKAGE / "readers" / "ctgov_xml.py",
                 PACKAGE / "readers" / "ctgov_v1.py"]:
        assert not {m for m in _imports(path) if m in {"zipfile", "converters.loading.zipstream"}}, path.name


def test_coverage_uses_public_reader_and_loading_apis_only() -> None:
    tree = ast.parse((PACKAGE / "coverage.py").read_text(encoding="utf-8"))
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    internal = {m for m in modules if m.startswith(("converters.readers", "converters.loading"))
                and m not in {"converters.readers", "converters.loading"}}
    assert not internal, sorted(internal)
