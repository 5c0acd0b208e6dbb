"""Build the project's own FHIR packages (fhir-package/) from mapping data (build time only).

    python tools/build_fhir_package.py            # (re)write fhir-package/<name>/package/ for R4 and R5
    python tools/build_fhir_package.py --check    # build in memory and compare with the committed files

Why: the FHIR writers emit extensions and codes under https://trialbridge.dev/fhir; without definitions no strict
validator or server can check them. The definitions are data: the URLs come from mappings/fhir/canonical.yaml,
the codes and displays from mappings/fhir/value-maps.yaml, and everything else (titles, contexts, value types,
sub-extensions) from mappings/fhir/package.yaml. One NPM-style package per FHIR version, because a
StructureDefinition names one fhirVersion and its contexts are element paths of that version. Each package holds
`package.json`, `.index.json` (index-version 1) and one JSON file per resource, as the FHIR NPM package
specification describes; the package version is the project's version (converters.__version__).
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from converters import __version__  # noqa: E402
from converters.resources import Resources  # noqa: E402

PACKAGE_ROOT = ROOT / "fhir-package"
FHIR_VERSIONS = {"R4": "4.0.1", "R5": "5.0.0"}
CORE_PACKAGES = {"R4": "hl7.fhir.r4.core", "R5": "hl7.fhir.r5.core"}
EXTENSION_BASE = "http://hl7.org/fhir/StructureDefinition/Extension"
CORE_SD = "http://hl7.org/fhir/StructureDefinition/"

Resource = dict[str, Any]


def narrative(title: str, description: str) -> dict[str, str]:
    """A generated narrative (title and description): what dom-6 asks of every resource."""
    div = (f'<div xmlns="http://www.w3.org/1999/xhtml"><p><b>{html.escape(title)}</b></p>'
           f"<p>{html.escape(description)}</p></div>")
    return {"status": "generated", "div": div}


def package_name(base: str, version: str) -> str:
    """dev.trialbridge.fhir + .r4 / .r5, the suffix HL7 gives its own per-version packages."""
    return f"{base}.{version.lower()}"


def last_segment(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def pascal_name(resource_id: str) -> str:
    """A computer-friendly name (`study-milestone` -> `StudyMilestone`), as StructureDefinition.name wants."""
    return "".join(part[:1].upper() + part[1:] for part in resource_id.split("-"))


def value_type(type_code: str, targets: list[str] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"code": type_code}
    if targets:
        entry["targetProfile"] = [CORE_SD + target for target in targets]
    return entry


def part_value(slice_id: str, part: Mapping[str, Any], value_sets: Mapping[str, str]) -> dict[str, Any]:
    """The value[x] of one sub-extension: required, of its type, bound (required) where the data says so."""
    element: dict[str, Any] = {"id": f"{slice_id}.value[x]", "path": "Extension.extension.value[x]", "min": 1,
                               "type": [value_type(part["type"], part.get("targets"))]}
    if "binding" in part:
        element["binding"] = {"strength": "required", "valueSet": value_sets[part["binding"]]}
    return element


def simple_differential(url: str, title: str, description: str, types: list[str]) -> list[dict[str, Any]]:
    return [
        {"id": "Extension", "path": "Extension", "short": title, "definition": description},
        {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
        {"id": "Extension.url", "path": "Extension.url", "fixedUri": url},
        {"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1,
         "type": [value_type(t, None) for t in types]},
    ]


def complex_differential(url: str, title: str, description: str, parts: list[Mapping[str, Any]],
                         value_sets: Mapping[str, str]) -> list[dict[str, Any]]:
    """Sub-extensions as closed slices of Extension.extension by url, each with its cardinality and value type."""
    elements: list[dict[str, Any]] = [
        {"id": "Extension", "path": "Extension", "short": title, "definition": description},
        {"id": "Extension.extension", "path": "Extension.extension", "min": 1,
         "slicing": {"discriminator": [{"type": "value", "path": "url"}], "ordered": False, "rules": "closed"}},
    ]
    for part in parts:
        slice_id = f"Extension.extension:{part['url']}"
        elements += [
            {"id": slice_id, "path": "Extension.extension", "sliceName": part["url"], "short": part["description"],
             "definition": part["description"], "min": part["min"], "max": part["max"]},
            {"id": f"{slice_id}.extension", "path": "Extension.extension.extension", "max": "0"},
            {"id": f"{slice_id}.url", "path": "Extension.extension.url", "fixedUri": part["url"]},
            part_value(slice_id, part, value_sets),
        ]
    elements += [
        {"id": "Extension.url", "path": "Extension.url", "fixedUri": url},
        {"id": "Extension.value[x]", "path": "Extension.value[x]", "max": "0"},
    ]
    return elements


def structure_definition(url: str, spec: Mapping[str, Any], version: str, meta: Mapping[str, Any],
                         value_sets: Mapping[str, str]) -> Resource:
    """The StructureDefinition of one extension for one FHIR version (`version` must be in its contexts)."""
    resource_id = last_segment(url)
    if "value" in spec:
        differential = simple_differential(url, spec["title"], spec["description"], list(spec["value"]))
    else:
        differential = complex_differential(url, spec["title"], spec["description"], spec["parts"], value_sets)
    return {
        "resourceType": "StructureDefinition", "id": resource_id,
        "text": narrative(spec["title"], spec["description"]), "url": url, "version": __version__,
        "name": pascal_name(resource_id), "title": spec["title"], "status": "active",
        "publisher": meta["publisher"], "description": spec["description"],
        "fhirVersion": FHIR_VERSIONS[version], "kind": "complex-type", "abstract": False,
        "context": [{"type": "element", "expression": path} for path in spec["contexts"][version]],
        "type": "Extension", "baseDefinition": EXTENSION_BASE, "derivation": "constraint",
        "differential": {"element": differential},
    }


def code_system(url: str, spec: Mapping[str, Any], codes: Mapping[str, Mapping[str, Any]], value_set_url: str,
                meta: Mapping[str, Any]) -> Resource:
    """Every code of the value-maps section (content complete), in the order the section lists them."""
    concepts = [{"code": entry["code"], "display": entry["display"]} for entry in codes.values()]
    return {
        "resourceType": "CodeSystem", "id": spec["id"], "text": narrative(spec["title"], spec["description"]),
        "url": url, "version": __version__,
        "name": pascal_name(spec["id"]), "title": spec["title"], "status": "active", "publisher": meta["publisher"],
        "description": spec["description"], "caseSensitive": True, "valueSet": value_set_url,
        "content": "complete", "count": len(concepts), "concept": concepts,
    }


def value_set(url: str, spec: Mapping[str, Any], system: str, meta: Mapping[str, Any]) -> Resource:
    description = f"Every code of the {spec['title']} code system."
    return {
        "resourceType": "ValueSet", "id": spec["id"], "text": narrative(spec["title"], description), "url": url,
        "version": __version__, "name": pascal_name(spec["id"]), "title": spec["title"], "status": "active",
        "publisher": meta["publisher"], "description": description, "compose": {"include": [{"system": system}]},
    }


def package_resources(resources: Resources, version: str) -> list[Resource]:
    """The resources of one version's package: extensions used in that version, then code systems, value sets."""
    definitions = resources.mapping("fhir/package.yaml")
    canonical = resources.mapping("fhir/canonical.yaml")
    value_maps = resources.mapping("fhir/value-maps.yaml")
    meta = definitions["package"]
    value_sets = {key: f"{meta['canonical']}/ValueSet/{spec['id']}"
                  for key, spec in definitions["code_systems"].items()}
    out: list[Resource] = []
    for key, spec in definitions["extensions"].items():
        if version in spec["contexts"]:
            out.append(structure_definition(canonical["extensions"][key], spec, version, meta, value_sets))
    for key, spec in definitions["code_systems"].items():
        system = canonical["project_code_systems"][key]
        out.append(code_system(system, spec, value_maps[spec["codes_from"]], value_sets[key], meta))
        out.append(value_set(value_sets[key], spec, system, meta))
    return out


def file_name(resource: Mapping[str, Any]) -> str:
    return f"{resource['resourceType']}-{resource['id']}.json"


def index_entry(resource: Mapping[str, Any]) -> dict[str, Any]:
    entry = {"filename": file_name(resource), "resourceType": resource["resourceType"], "id": resource["id"],
             "url": resource["url"], "version": resource["version"]}
    if resource["resourceType"] == "StructureDefinition":
        entry |= {"kind": resource["kind"], "type": resource["type"]}
    return entry


def manifest(meta: Mapping[str, Any], version: str) -> dict[str, Any]:
    """package.json: name, the project's version, the one FHIR version and its core package as dependency."""
    return {
        "name": package_name(meta["name"], version), "version": __version__, "title": meta["title"],
        "description": meta["description"], "canonical": meta["canonical"], "url": meta["canonical"],
        "author": meta["publisher"], "license": meta["license"], "type": "Conformance",
        "fhirVersions": [FHIR_VERSIONS[version]],
        "dependencies": {CORE_PACKAGES[version]: FHIR_VERSIONS[version]},
    }


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def package_files(resources: Resources) -> dict[str, str]:
    """Every file of every package, by its path relative to fhir-package/."""
    meta = resources.mapping("fhir/package.yaml")["package"]
    files: dict[str, str] = {}
    for version in FHIR_VERSIONS:
        folder = f"{package_name(meta['name'], version)}/package"
        content = package_resources(resources, version)
        files[f"{folder}/package.json"] = dumps(manifest(meta, version))
        files[f"{folder}/.index.json"] = dumps({"index-version": 1, "files": [index_entry(r) for r in content]})
        for resource in content:
            files[f"{folder}/{file_name(resource)}"] = dumps(resource)
    return files


def committed_files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != "README.md"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed package, write nothing")
    parser.add_argument("--out", type=Path, default=PACKAGE_ROOT)
    args = parser.parse_args(argv)
    files = package_files(Resources(root=ROOT))
    if args.check:
        stale = sorted(set(files.items()) ^ set(committed_files(args.out).items()))
        for name in sorted({name for name, _ in stale}):
            print(f"stale: {name}")
        return 1 if stale else 0
    for child in args.out.iterdir() if args.out.is_dir() else []:
        if child.is_dir():
            shutil.rmtree(child)
    for name, text in files.items():
        path = args.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} files under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
