"""Build (once) and cache a separate virtual environment holding the real CDISC CORE engine.

`cdisc-rules-engine` 0.9.2 (the newest release that runs on Python 3.11) cannot be installed with one plain
`pip install` and is not a trialbridge dependency; it is only used to cross-check trialbridge's own rule
runner. The recipe is the one measured in shared/standards/measured-costs.md section 1:

1. numpy~=1.23.2 and pandas==1.5.2 (the engine repository's pins for 0.9.2; xport's pandas<1.4 pin has
   no wheel for Python 3.11),
2. the engine and xport 3.6.1 without their dependencies,
3. the dependencies the engine imports (some undeclared in its wheel),

plus a small stub for `cdisc_rules_engine.services.define_xml`, a package the 0.9.2 wheel omits (the engine
imports its reader factory at start-up; the Trial Design rules never read a define.xml). The environment
lives under `<repo>/.cache/core-engine-venv/` and is reused while its recipe is unchanged.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CACHE = REPO / ".cache"
VENV = CACHE / "core-engine-venv"
MARKER = VENV / "trialbridge-install.json"
PYTHON_NEEDED = (3, 11)

INSTALL_STEPS: tuple[tuple[str, ...], ...] = (
    ("numpy~=1.23.2", "pandas==1.5.2"),
    ("--no-deps", "cdisc-rules-engine==0.9.2", "xport==3.6.1"),
    (
        "business_rules_enhanced==1.4.6", "cdisc-library-client==0.1.6", "odmlib==0.1.4", "redis==4.0.2",
        "openpyxl==3.1.5", "importlib-metadata==8.5.0", "python-dotenv==0.20.0", "jsonpath-ng==1.6.1",
        "jsonschema==4.18.5", "pyyaml", "cachetools", "Pympler", "psutil", "dask[dataframe,array]==2024.2.0",
        "pyreadstat==1.2.7", "fastparquet==2024.2.0", "click",
    ),
)

DEFINE_XML_STUB = '''"""Stand-in for cdisc_rules_engine.services.define_xml, which the 0.9.2 wheel does not contain.

Written by trialbridge's test set-up. The rules this environment runs never read a define.xml.
"""


class DefineXMLReaderFactory:
    """Refuses every request: there is no define.xml support in this environment."""

    @classmethod
    def get_define_xml_reader(cls, *args, **kwargs):
        raise RuntimeError("define.xml is not available in trialbridge's CORE cross-check environment")
'''


class EngineUnavailable(Exception):
    """The engine environment could not be built here (the message says which step failed and why)."""


@dataclass(frozen=True)
class EngineVenv:
    python: Path
    install_seconds: float
    reused: bool


def recipe_digest() -> str:
    text = json.dumps({"steps": INSTALL_STEPS, "stub": DEFINE_XML_STUB, "python": PYTHON_NEEDED})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def venv_python() -> Path:
    return VENV / "bin" / "python"


def _run(args: Sequence[str], log: Path, timeout: float) -> None:
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(args)}\n")
        out.flush()
        try:
            done = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineUnavailable(f"{' '.join(args[:4])} ...: {exc}") from exc
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
        raise EngineUnavailable(f"{' '.join(args[:6])} ... exited {done.returncode}; log {log}:\n{tail}")


def _site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60,
    )
    return Path(out.stdout.strip())


def _write_stub(python: Path) -> None:
    package = _site_packages(python) / "cdisc_rules_engine" / "services" / "define_xml"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text('"""Stub package written by trialbridge\'s tests."""\n', encoding="utf-8")
    (package / "define_xml_reader_factory.py").write_text(DEFINE_XML_STUB, encoding="utf-8")


def _ready() -> dict[str, object] | None:
    try:
        marker = json.loads(MARKER.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if marker.get("recipe") != recipe_digest() or not venv_python().exists():
        return None
    return dict(marker)


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "core-engine-venv.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_engine_venv(step_timeout: float = 900.0) -> EngineVenv:
    """The cached engine environment, built first if needed. Raises `EngineUnavailable` if it cannot be."""
    if sys.version_info[:2] != PYTHON_NEEDED:
        raise EngineUnavailable(
            f"cdisc-rules-engine 0.9.2 needs Python {PYTHON_NEEDED[0]}.{PYTHON_NEEDED[1]} "
            f"(numpy 1.23 wheels); this is {sys.version_info[0]}.{sys.version_info[1]}"
        )
    with _lock():
        marker = _ready()
        if marker is not None:
            return EngineVenv(venv_python(), float(str(marker["install_seconds"])), reused=True)
        if VENV.exists():
            shutil.rmtree(VENV)
        log = CACHE / "core-engine-venv-install.log"
        log.write_text("", encoding="utf-8")
        started = time.perf_counter()
        base_python = getattr(sys, "_base_executable", sys.executable)
        _run([base_python, "-m", "venv", str(VENV)], log, step_timeout)
        python = venv_python()
        env_pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
        for step in INSTALL_STEPS:
            _run([*env_pip, *step], log, step_timeout)
        _write_stub(python)
        _run([str(python), "-c", "import cdisc_rules_engine.rules_engine"], log, 300)
        seconds = round(time.perf_counter() - started, 1)
        MARKER.write_text(
            json.dumps({"recipe": recipe_digest(), "install_seconds": seconds, "steps": INSTALL_STEPS}, indent=1),
            encoding="utf-8",
        )
        return EngineVenv(python, seconds, reused=False)


def engine_environment() -> dict[str, str]:
    """The environment for running the harness: no CDISC Library key, so nothing can reach the Library."""
    env = {k: v for k, v in os.environ.items() if k != "CDISC_LIBRARY_API_KEY"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env
