"""The project's own FHIR packages (fhir-package/): every extension and trialbridge code the writers emit, in every
fixture's R4 and R5 bundles (collection and transaction), is defined there, with the value types and codes the
writers use; the packages are what tools/build_fhir_package.py builds from the mappings, carry the project's
version, and each of their resources passes the project's FHIR validator with no error."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from converters import __version__
from converters.problems import Severity
from converters.resources import Resources
from converters.targets.fhir import FhirMaps, build_bundle
from converters.targets.fhir.validator import FhirValidator
from tests.conftest import FIXTURES, ROOT
from tests.fixture_studies import STRUCTURED_SUFFIXES, structured_studies
from tests.writers_fhir.fixture_studies import all_studies

PACKAGES = {"R4": ROOT / "fhir-package" / "dev.trialbridge.fhir.r4" / "package",
            "R5": ROOT / "fhir-package" / "dev.trialbridge.fhir.r5" / "package"}
OWN = "https://trialbridge.dev/fhir/"
UNKNOWN_URL = "https://trialbridge.dev/fhir/StructureDefinition/not-defined-anywhere"


@dataclass
class Usage:
    """What the bundles of one FHIR version use: per extension url, the element paths it sits on, the value
    types of simple ones and, for complex ones, each instance's sub-extensions (url -> value types); per system
    under trialbridge.dev, the (code, display) pairs and whether it appeared as an Identifier.system."""

    contexts: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    values: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    instances: dict[str, list[list[tuple[str, str | None]]]] = field(default_factory=lambda: defaultdict(list))
    codes: dict[str, set[tuple[str, str | None]]] = field(default_factory=lambda: defaultdict(set))
    identifier_systems: set[str] = field(default_factory=set)


def value_key(element: Mapping[str, Any]) -> str | None:
    """The value[x] type suffix of an extension (`valueCodeableConcept` -> `CodeableConcept`), or None."""
    keys = [k for k in element if k.startswith("value")]
    return keys[0].removeprefix("value") if keys else None


def record(usage: Usage, node: Any, path: str) -> None:
    """Walk one resource (or part of one) whose element path is `path`, noting extensions and codes."""
    if isinstance(node, list):
        for item in node:
            record(usage, item, path)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in ("extension", "modifierExtension"):
            for ext in value:
                usage.contexts[ext["url"]].add(path)
                usage.values[ext["url"]].add(value_key(ext) or "")
                usage.instances[ext["url"]].append([(sub["url"], value_key(sub)) for sub in ext.get("extension", [])])
                for sub in ext.get("extension", []):
                    record(usage, {k: v for k, v in sub.items() if k != "url"}, f"{path}.extension")
                record(usage, {k: v for k, v in ext.items() if k.startswith("value")}, f"{path}.extension")
        elif key == "system" and isinstance(value, str) and value.startswith(OWN):
            if "code" in node:
                usage.codes[value].add((node["code"], node.get("display")))
            else:
                usage.identifier_systems.add(value)
        elif key != "resourceType":
            record(usage, value, f"{path}.{key.removeprefix('_')}")


def record_bundle(usage: Usage, bundle: Mapping[str, Any]) -> None:
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        record(usage, resource, resource["resourceType"])


def studies(resources: Resources) -> list[tuple[str, Any]]:
    """Every fixture study: hand-built, seed pages, ct.gov and ICTRP records (every ICTRP export form)."""
    ictrp = structured_studies(resources, FIXTURES / "ictrp", STRUCTURED_SUFFIXES | {".csv"})
    return all_studies(resources) + ictrp


@pytest.fixture(scope="module")
def usage(resources: Resources) -> dict[str, Usage]:
    found = {"R4": Usage(), "R5": Usage()}
    maps = {v: FhirMaps.load(resources, v) for v in found}  # type: ignore[arg-type]
    for _, study in studies(resources):
        for version, seen in found.items():
            for bundle_type in ("collection", "transaction"):
                record_bundle(seen, build_bundle(study, maps[version], resources, bundle_type).bundle)
    return found


def package_resources(version: str) -> dict[str, dict[str, Any]]:
    """The package's resources by canonical url."""
    out = {}
    for path in sorted(PACKAGES[version].glob("*-*.json")):
        resource = json.loads(path.read_text(encoding="utf-8"))
        out[resource["url"]] = resource
    return out


def undefined_extensions(seen: Usage, package: Mapping[str, Any], core: Mapping[str, str]) -> set[str]:
    """Extension urls in use that neither the package nor the HL7 core extensions the writers use define."""
    return {url for url in seen.contexts if url not in package and url not in core.values()}


@dataclass(frozen=True)
class Slice:
    min: int
    max: str
    types: frozenset[str]


def slices(definition: Mapping[str, Any]) -> dict[str, Slice]:
    """Sub-extension name -> its cardinality and value types, from a complex extension's differential."""
    elements = definition["differential"]["element"]
    out = {}
    for element in elements:
        if element["path"] == "Extension.extension" and "sliceName" in element:
            name = element["sliceName"]
            value = next(e for e in elements if e["id"] == f"Extension.extension:{name}.value[x]")
            out[name] = Slice(element["min"], element["max"], json_suffixes(value))
    return out


def json_suffixes(value_element: Mapping[str, Any]) -> frozenset[str]:
    """The JSON suffixes (valueString -> String) of the types a value[x] element allows."""
    return frozenset(t["code"][:1].upper() + t["code"][1:] for t in value_element["type"])


def simple_value_types(definition: Mapping[str, Any]) -> frozenset[str] | None:
    """The allowed value types of a simple extension, or None for a complex one (value[x] max 0)."""
    value = next(e for e in definition["differential"]["element"] if e["id"] == "Extension.value[x]")
    return None if value.get("max") == "0" else json_suffixes(value)


def instance_problems(url: str, instance: list[tuple[str, str | None]], parts: Mapping[str, Slice]) -> list[str]:
    """What one complex extension instance does that its definition does not allow."""
    problems = [f"{url}: sub-extension {name} is not defined" for name, _ in instance if name not in parts]
    problems += [f"{url}#{name}: value{kind} not allowed" for name, kind in instance
                 if name in parts and kind not in parts[name].types]
    for name, part in parts.items():
        count = sum(1 for n, _ in instance if n == name)
        if count < part.min or (part.max != "*" and count > int(part.max)):
            problems.append(f"{url}#{name}: {count} times, allowed {part.min}..{part.max}")
    return problems


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_every_extension_the_writers_emit_is_defined(version: str, usage: dict[str, Usage],
                                                     resources: Resources) -> None:
    core = resources.mapping("fhir/canonical.yaml")["hl7_extensions"]
    seen = usage[version]
    assert undefined_extensions(seen, package_resources(version), core) == set()
    own = {url for url in seen.contexts if url.startswith(OWN)}
    assert len(own) == {"R4": 10, "R5": 5}[version]  # the R4-only ones are R5 elements (versions.yaml)


def test_an_undefined_extension_url_is_caught(usage: dict[str, Usage], resources: Resources) -> None:
    """The check above fails when a writer emits a URL with no definition: a real bundle with one injected."""
    maps = FhirMaps.load(resources, "R4")
    _, study = next(s for s in studies(resources) if s[0].startswith("seed/"))
    bundle = copy.deepcopy(build_bundle(study, maps, resources, "collection").bundle)
    bundle["entry"][0]["resource"]["extension"].append({"url": UNKNOWN_URL, "valueString": "x"})
    seen = Usage()
    record_bundle(seen, bundle)
    core = resources.mapping("fhir/canonical.yaml")["hl7_extensions"]
    assert undefined_extensions(seen, package_resources("R4"), core) == {UNKNOWN_URL}


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_each_extension_sits_where_its_definition_allows(version: str, usage: dict[str, Usage]) -> None:
    package = package_resources(version)
    for url, paths in usage[version].contexts.items():
        if url in package:
            allowed = {c["expression"] for c in package[url]["context"]}
            assert paths <= allowed, (url, paths - allowed)


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_each_extension_value_has_a_type_its_definition_allows(version: str, usage: dict[str, Usage]) -> None:
    package = package_resources(version)
    problems: list[str] = []
    for url, instances in usage[version].instances.items():
        if url not in package:
            continue
        allowed = simple_value_types(package[url])
        if allowed is not None:
            problems += [f"{url}: value{kind} not allowed" for kind in usage[version].values[url] - allowed]
            continue
        parts = slices(package[url])
        problems += [p for instance in instances for p in instance_problems(url, instance, parts)]
    assert problems == []


def test_a_value_of_the_wrong_type_is_caught() -> None:
    """The value check reads the definitions: valueString in enrollment's count (unsignedInt) is reported."""
    definition = package_resources("R4")["https://trialbridge.dev/fhir/StructureDefinition/enrollment"]
    parts = slices(definition)
    assert parts["count"] == Slice(1, "1", frozenset({"UnsignedInt"}))
    instance: list[tuple[str, str | None]] = [("count", "String"), ("count", "UnsignedInt"), ("extra", "Code")]
    assert instance_problems("enrollment", instance, parts) == [
        "enrollment: sub-extension extra is not defined", "enrollment#count: valueString not allowed",
        "enrollment#count: 2 times, allowed 1..1"]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_each_code_under_a_trialbridge_system_is_in_its_code_system(version: str, usage: dict[str, Usage],
                                                                    resources: Resources) -> None:
    package = package_resources(version)
    seen = usage[version]
    assert set(seen.codes) == {"https://trialbridge.dev/fhir/CodeSystem/study-identifier-type",
                               "https://trialbridge.dev/fhir/CodeSystem/eligibility-characteristic",
                               "https://trialbridge.dev/fhir/CodeSystem/study-milestone"}
    for system, codes in seen.codes.items():
        assert package[system]["resourceType"] == "CodeSystem"
        defined = {(c["code"], c["display"]) for c in package[system]["concept"]}
        assert codes <= defined, (system, codes - defined)
    # systems without codes are Identifier systems, listed in canonical.yaml: no CodeSystem is due for them
    assert seen.identifier_systems <= set(resources.mapping("fhir/canonical.yaml")["identifier_systems"].values())


def test_code_systems_hold_every_code_of_their_value_map(resources: Resources) -> None:
    """Content complete: the codes the writers may write, not only those the fixtures show (sponsor-study)."""
    identifier_types = package_resources("R4")["https://trialbridge.dev/fhir/CodeSystem/study-identifier-type"]
    assert [c["code"] for c in identifier_types["concept"]] == [
        "registry", "registry-alias", "sponsor", "secondary", "source-record", "sponsor-study"]
    assert identifier_types["content"] == "complete" and identifier_types["count"] == 6
    milestone = package_resources("R5")["https://trialbridge.dev/fhir/ValueSet/study-milestone"]
    assert milestone["compose"] == {"include": [{"system": "https://trialbridge.dev/fhir/CodeSystem/study-milestone"}]}


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_package_manifest_carries_the_project_version(version: str) -> None:
    manifest = json.loads((PACKAGES[version] / "package.json").read_text(encoding="utf-8"))
    assert manifest["name"] == f"dev.trialbridge.fhir.{version.lower()}"
    assert manifest["version"] == __version__
    assert manifest["fhirVersions"] == [{"R4": "4.0.1", "R5": "5.0.0"}[version]]
    assert manifest["dependencies"] == {f"hl7.fhir.{version.lower()}.core": manifest["fhirVersions"][0]}
    for resource in package_resources(version).values():
        assert resource["version"] == __version__
        if resource["resourceType"] == "StructureDefinition":
            assert resource["fhirVersion"] == manifest["fhirVersions"][0]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_index_lists_every_resource_file(version: str) -> None:
    index = json.loads((PACKAGES[version] / ".index.json").read_text(encoding="utf-8"))
    assert index["index-version"] == 1
    files = sorted(p.name for p in PACKAGES[version].glob("*-*.json"))
    assert sorted(entry["filename"] for entry in index["files"]) == files
    for entry in index["files"]:
        resource = json.loads((PACKAGES[version] / entry["filename"]).read_text(encoding="utf-8"))
        assert (entry["resourceType"], entry["id"], entry["url"]) == (resource["resourceType"], resource["id"],
                                                                      resource["url"])


def package_files() -> Iterator[tuple[str, Path]]:
    for version, folder in PACKAGES.items():
        for path in sorted(folder.glob("*-*.json")):
            yield version, path


@pytest.mark.parametrize(("version", "path"), list(package_files()), ids=lambda p: getattr(p, "name", p))
def test_every_package_resource_validates_without_error(version: str, path: Path,
                                                        validators: dict[str, FhirValidator]) -> None:
    problems = validators[version].validate(json.loads(path.read_text(encoding="utf-8")), file=str(path))
    assert [p for p in problems if p.severity in (Severity.ERROR, Severity.FATAL)] == []


def builder() -> ModuleType:
    """tools/build_fhir_package.py (build time, not part of the package)."""
    spec = importlib.util.spec_from_file_location("build_fhir_package", ROOT / "tools" / "build_fhir_package.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_committed_package_is_what_the_builder_writes_from_the_mappings(resources: Resources) -> None:
    build = builder()
    expected = build.package_files(resources)
    assert build.committed_files(ROOT / "fhir-package") == expected, "stale: run tools/build_fhir_package.py"


def test_resources_find_the_packages(resources: Resources) -> None:
    """Where a validator loading NPM-style packages finds them (in a wheel: converters/_data/fhir-package)."""
    assert resources.fhir_packages_dir == ROOT / "fhir-package"
    assert sorted(p.parent.name for p in resources.fhir_packages_dir.glob("*/package")) == [
        "dev.trialbridge.fhir.r4", "dev.trialbridge.fhir.r5"]
