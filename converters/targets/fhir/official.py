"""The official HL7 validator engine (validator/official/, HAPI FHIR 8.8.1 on Java 17) from Python.

Start-up of the engine is seconds (loading the core definitions), so one `OfficialEngine` is one JVM for a whole
run: paths are streamed to it one stdin line each (`R4<TAB>path`), and it answers one JSON line each with the
OperationOutcome issues, turned here into `fhir-official-*` Problems with the FHIRPath of the element. The jar is
built with Maven on first use: offline (`mvn -o`) when the local repository already holds the HAPI modules, online
otherwise.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from converters.problem_codes import fhir_validation
from converters.problems import Location, Problem, ProblemKind
from converters.targets.fhir.validator.detect import detect_version

PROJECT_DIR = Path(__file__).resolve().parents[3] / "validator" / "official"
MAIN_CLASS = "dev.trialbridge.validator.OfficialValidator"
JAR = "target/trialbridge-official-validator.jar"
CLASSPATH_FILE = "target/classpath.txt"
HAPI_MARKER = Path("ca/uhn/hapi/fhir/hapi-fhir-validation")
JAVA_17_HOMES = (Path("/usr/lib/jvm/java-17-openjdk-amd64"), Path("/usr/lib/jvm/temurin-17-jdk-amd64"))
_SEVERITY_KINDS: Mapping[str, ProblemKind] = {
    "fatal": fhir_validation.FHIR_OFFICIAL_ERROR,
    "error": fhir_validation.FHIR_OFFICIAL_ERROR,
    "warning": fhir_validation.FHIR_OFFICIAL_WARNING,
    "information": fhir_validation.FHIR_OFFICIAL_INFO,
}
_CONTAINED = re.compile(r"/\*(\w+)/([^*]*)\*/")


class EngineUnavailable(Exception):
    """Java, Maven or the build is missing: the caller reports `fhir-official-unavailable`."""


@dataclass(frozen=True)
class EngineSetup:
    """Where the engine's Maven project and Java 17 are (passed in, so tests and CI can point elsewhere)."""

    project_dir: Path = PROJECT_DIR
    java_home: Path | None = None
    package_dir: Path | None = None

    def java(self) -> Path:
        """The `java` of Java 17: the one given, else a known Java 17 home, else JAVA_HOME (never the Java 25)."""
        homes = [self.java_home] if self.java_home is not None else [*JAVA_17_HOMES]
        if self.java_home is None and os.environ.get("JAVA_HOME"):
            homes.append(Path(os.environ["JAVA_HOME"]))
        for home in homes:
            if home is not None and (home / "bin" / "java").is_file():
                return home / "bin" / "java"
        raise EngineUnavailable("no Java 17 found (set JAVA_HOME to a Java 17)")


def build_engine(setup: EngineSetup, *, m2_repository: Path | None = None) -> str:
    """The engine's classpath, building the jar with Maven when it is missing (offline when ~/.m2 has HAPI)."""
    jar, classpath = setup.project_dir / JAR, setup.project_dir / CLASSPATH_FILE
    if not (setup.project_dir / "pom.xml").is_file():
        raise EngineUnavailable(f"no Maven project in {setup.project_dir} (the engine runs from a checkout of "
                                "trialbridge, not from an installed wheel)")
    if not (jar.is_file() and classpath.is_file()):
        repository = m2_repository or Path.home() / ".m2" / "repository"
        offline = ["-o"] if (repository / HAPI_MARKER).is_dir() else []
        env = {**os.environ, "JAVA_HOME": str(setup.java().parents[1])}
        try:
            done = subprocess.run(["mvn", "-B", "-q", *offline, "package"], cwd=setup.project_dir, env=env,
                                  capture_output=True, text=True, check=False)
        except OSError as exc:
            raise EngineUnavailable(f"cannot run Maven: {exc}") from exc
        if done.returncode != 0 or not jar.is_file():
            raise EngineUnavailable(f"the Maven build failed: {(done.stdout + done.stderr)[-2000:]}")
    return f"{jar}{os.pathsep}{classpath.read_text(encoding='utf-8').strip()}"


def fhirpath(location: str) -> tuple[str, str | None]:
    """HAPI's location (`Bundle.entry[0].resource/*ResearchStudy/x*/.status`) as the project's FHIRPath
    (`Bundle.entry[0].resource.ofType(ResearchStudy).status`) and the innermost resource (`ResearchStudy/x`)."""
    found = _CONTAINED.findall(location)
    record = f"{found[-1][0]}/{found[-1][1]}" if found and found[-1][1] else None
    path = _CONTAINED.sub(lambda m: f".ofType({m.group(1)})", location)
    return path, record


def issue_problem(issue: Mapping[str, Any], file: str) -> Problem:
    """One OperationOutcome issue as a Problem at its FHIRPath (and line of the file)."""
    kind = _SEVERITY_KINDS.get(str(issue.get("severity")), fhir_validation.FHIR_OFFICIAL_ERROR)
    path, record = fhirpath(str(issue.get("location") or ""))
    line = issue.get("line")
    location = Location(file=file, record=record, path=path or None, line=line if isinstance(line, int) else None)
    return kind(location, message=str(issue.get("message", "")), message_id=str(issue.get("code") or "-"))


def detected_version(path: Path) -> str | None:
    """R4 or R5 from what only one version has (`detect.detect_version`; an NDJSON file by its first resource);
    None when unreadable or unclear."""
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ndjson":
            text = next((line for line in text.splitlines() if line.strip()), "null")
        return detect_version(json.loads(text))
    except (OSError, ValueError):
        return None


def answer_problems(answer: Mapping[str, Any], file: str) -> list[Problem]:
    """The engine's answer for one file as Problems: its issues, or why it could not check the file."""
    if "error" in answer:
        return [fhir_validation.FHIR_OFFICIAL_UNAVAILABLE(Location(file=file), reason=str(answer["error"]))]
    return [issue_problem(issue, file) for issue in answer.get("issues", [])]


class OfficialEngine:
    """One JVM running the official engine for a whole run; `validate` one file at a time. Use with `with`."""

    def __init__(self, setup: EngineSetup | None = None) -> None:
        self._setup = setup or EngineSetup()
        classpath = build_engine(self._setup)
        package = self._setup.package_dir or self._setup.project_dir.parents[1] / "fhir-package"
        self._process = subprocess.Popen(
            [str(self._setup.java()), "-cp", classpath, MAIN_CLASS, "--package", str(package)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, encoding="utf-8")

    def __enter__(self) -> OfficialEngine:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """End the JVM: closing its stdin ends its loop."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=60)

    def answer(self, path: Path, version: str | None) -> dict[str, Any]:
        """The engine's raw JSON answer for one file (version None: it validates as both and keeps the better)."""
        stdin, stdout = self._pipes()
        stdin.write(f"{version}\t{path}\n" if version else f"{path}\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            return {"path": str(path), "error": "the engine stopped"}
        answer: dict[str, Any] = json.loads(line)
        return answer

    def validate(self, path: Path, version: str | None) -> list[Problem]:
        """The Problems the official engine finds in one FHIR JSON file (version None: detected as the project's
        own validator does, else the engine tries both)."""
        return answer_problems(self.answer(path, version or detected_version(path)), str(path))

    def validate_all(self, files: Sequence[tuple[Path, str | None]]) -> list[list[Problem]]:
        """Each file's Problems, in order, in this one JVM."""
        return [self.validate(path, version) for path, version in files]

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        if self._process.stdin is None or self._process.stdout is None:
            raise EngineUnavailable("the engine has no pipes")
        return self._process.stdin, self._process.stdout
