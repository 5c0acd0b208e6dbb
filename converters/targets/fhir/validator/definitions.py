"""Load the compiled definition tables (`defs/r4.json.gz`, `defs/r5.json.gz`) and index them for the walk.

A `Definitions` object is made once per validator. It turns the table's element lists into `NodeSpec`s
(one per complex type, backbone element or core profile) lazily, the first time an instance needs one,
and keeps them on itself: nothing is cached at module level.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

DEFS_DIR = Path(__file__).resolve().parent / "defs"
#: What `detect_version` reads: the resource types and top-level elements only one version has
#: (written by tools/build_fhir_defs.py beside the tables).
MARKERS_FILE = "version-markers.json"


def table_file_name(label: str) -> str:
    """The committed table of one version in `defs/` (r4.json.gz, r5.json.gz)."""
    return f"{label.lower()}.json.gz"


#: Accepted spellings of the two versions.
_VERSION_ALIASES = {
    "r4": "R4",
    "4.0.1": "R4",
    "4.0": "R4",
    "fhir-r4": "R4",
    "r5": "R5",
    "5.0.0": "R5",
    "5.0": "R5",
    "fhir-r5": "R5",
}


def normalise_version(version: str) -> str | None:
    """'R4' or 'R5' for the accepted spellings (R4, r4, 4.0.1, fhir-r4, ...); None for anything else."""
    return _VERSION_ALIASES.get(version.strip().lower())


def load_table(label: str, defs_dir: Path = DEFS_DIR) -> dict[str, Any]:
    """The compiled table of one version, as committed."""
    raw = gzip.decompress((defs_dir / table_file_name(label)).read_bytes())
    table: dict[str, Any] = json.loads(raw)
    return table


class Kind(IntEnum):
    """How an element is represented in JSON, which decides how the walk treats it."""

    PRIMITIVE = 0
    COMPLEX = 1
    RESOURCE = 2


@dataclass(slots=True, eq=False)
class ValueSetCodes:
    """A required value set, expanded: codes per system; `gaps` says why the expansion is incomplete."""

    url: str
    by_system: dict[str, frozenset[str]]
    all_codes: frozenset[str]
    gaps: tuple[str, ...]


@dataclass(slots=True, eq=False)
class Child:
    """One JSON property allowed in a node: an element, or one type of a choice element."""

    key: str  # JSON property name: "status", "valueQuantity"
    name: str  # element name without [x]: "status", "value"
    step: str  # FHIRPath step: "status", "value.ofType(Quantity)"
    element: str  # definition path, for messages: "ResearchStudy.status", "Extension.value[x]"
    min: int
    max: int  # -1 = unbounded
    many: bool  # a JSON array (max is not "1")
    type_code: str
    kind: Kind
    node: str | None  # key of the NodeSpec for complex values
    binding: ValueSetCodes | None
    constraints: tuple[str, ...]  # invariant ids of the element itself
    targets: frozenset[str] | None  # resource types a Reference may point at (None: not a Reference)
    prepared: tuple[Any, ...] | None = None  # the walker's prepared invariants (element's and type's)
    # The walker's per-validator look-ups, made the first time it meets the child (compiled things only):
    spec: NodeSpec | None = None  # the NodeSpec of `node`
    # the checker of a primitive `type_code`, and the string values it already passed (one set per type)
    primitive: tuple[Callable[[Any], str | None], set[str]] | None = None
    # for a primitive without binding or invariants: that same set of values passed, which then need nothing more
    quiet: set[str] | None = None


@dataclass(slots=True, eq=False)
class NodeSpec:
    """What a JSON object at one place may hold: its children by JSON key, required ones, invariants."""

    name: str  # the spec's key: type or profile name, or `Type|backbone path`
    element: str  # what messages name: "Period", "SimpleQuantity", "ResearchStudy.arm"
    fhirpath_type: str  # the path fhirpathpy types this node with ("Period", "Bundle.entry")
    children: dict[str, Child]
    required: tuple[tuple[str, tuple[str, ...]], ...]  # (element name, its JSON keys incl. `_`) for min >= 1
    constraints: tuple[str, ...]  # invariant ids of the type (root element)
    is_resource: bool
    prepared: tuple[Any, ...] | None = None  # the walker's prepared invariants of the type alone


@dataclass(slots=True, eq=False)
class Primitive:
    """A primitive type: JSON type, and from the official StructureDefinitions its regex, maximum length and
    integer range (positiveInt and unsignedInt take theirs from their base type, integer)."""

    name: str
    json: str  # "string" | "boolean" | "integer" | "number"
    regex: str | None
    max_length: int | None
    min_value: int | None
    max_value: int | None


def _cap(code: str) -> str:
    return code[:1].upper() + code[1:]


def _max(value: str) -> int:
    return -1 if value == "*" else int(value)


@dataclass(eq=False)
class Definitions:
    """The table of one FHIR version plus the specs derived from it on demand."""

    table: dict[str, Any]
    label: str = ""
    version: str = ""
    _types: dict[str, Any] = field(default_factory=dict)
    _specs: dict[str, NodeSpec] = field(default_factory=dict)
    _value_sets: dict[str, ValueSetCodes] = field(default_factory=dict)
    _primitives: dict[str, Primitive] = field(default_factory=dict)
    _children_by_parent: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    _resource_types: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.label = str(self.table["label"])
        self.version = str(self.table["fhirVersion"])
        self._types = self.table["types"]
        self._resource_types = frozenset(
            name
            for name, t in self._types.items()
            if t["kind"] == "resource" and not t["abstract"] and "profileOf" not in t
        )

    # --- lookups -----------------------------------------------------------------------------------

    @property
    def resource_types(self) -> frozenset[str]:
        """The concrete resource types of this version."""
        return self._resource_types

    def constraint(self, constraint_id: str) -> dict[str, Any]:
        return dict(self.table["constraints"][constraint_id])

    def primitive(self, name: str) -> Primitive | None:
        if name not in self._primitives:
            info = self._types.get(name)
            if info is None or info["kind"] != "primitive-type":
                return None
            self._primitives[name] = Primitive(
                name, info.get("json", "string"), info.get("regex"), info.get("maxLength"),
                self._inherited(name, "minValueInteger"), self._inherited(name, "maxValueInteger"),
            )
        return self._primitives[name]

    def _inherited(self, name: str, key: str) -> Any:
        """`key` of a type, or of the nearest base type that has it (None when none has)."""
        info = self._types.get(name)
        while info is not None:
            if key in info:
                return info[key]
            info = self._types.get(info.get("base", ""))
        return None

    def value_set(self, url: str) -> ValueSetCodes | None:
        if url not in self._value_sets:
            entry = self.table["valueSets"].get(url)
            if entry is None:
                return None
            by_system = {system: frozenset(codes) for system, codes in entry["codes"].items()}
            all_codes = frozenset(code for codes in by_system.values() for code in codes)
            self._value_sets[url] = ValueSetCodes(url, by_system, all_codes, tuple(entry.get("incomplete", ())))
        return self._value_sets[url]

    # --- node specs --------------------------------------------------------------------------------

    def spec(self, key: str) -> NodeSpec | None:
        """The spec of a type, profile or resource (`Period`) or of a backbone (`ResearchStudy|ResearchStudy.arm`)."""
        found = self._specs.get(key)
        if found is None:
            found = self._build_spec(key)
            if found is not None:
                self._specs[key] = found
        return found

    def _elements_by_parent(self, type_name: str) -> dict[str, list[dict[str, Any]]]:
        index = self._children_by_parent.get(type_name)
        if index is None:
            index = {}
            for element in self._types[type_name].get("elements", []):
                parent = element["path"].rsplit(".", 1)[0]
                index.setdefault(parent, []).append(element)
            self._children_by_parent[type_name] = index
        return index

    def _build_spec(self, key: str) -> NodeSpec | None:
        type_name, _, path = key.partition("|")
        info = self._types.get(type_name)
        if info is None or info["kind"] == "primitive-type":
            return None
        root = info.get("root", type_name)
        path = path or root
        index = self._elements_by_parent(type_name)
        children: dict[str, Child] = {}
        required: list[tuple[str, tuple[str, ...]]] = []
        for element in index.get(path, []):
            made = self._children_of(type_name, element, index)
            if not made:
                continue
            for child in made:
                children[child.key] = child
            first = made[0]
            keys = tuple(child.key for child in made)
            if first.min > 0:  # present as the value or as the `_name` companion of a primitive
                required.append((first.name, keys + tuple("_" + k for k in keys)))
        is_root = path == root
        return NodeSpec(
            name=key,
            element=key.partition("|")[2] or key,
            fhirpath_type=(info.get("profileOf", type_name) if is_root else path),
            children=children,
            required=tuple(required),
            constraints=tuple(info.get("constraints", ())) if is_root else (),
            is_resource=is_root and info["kind"] == "resource",
        )

    def _children_of(
        self, type_name: str, element: dict[str, Any], index: dict[str, list[dict[str, Any]]]
    ) -> list[Child]:
        path: str = element["path"]
        leaf = path.rsplit(".", 1)[1]
        max_ = _max(element["max"])
        if max_ == 0:
            return []  # prohibited by a profile: any occurrence is an unknown element
        constraints = tuple(element.get("constraints", ()))
        binding_url = element.get("binding")
        binding = self.value_set(binding_url) if binding_url else None
        if "ref" in element:
            backbone = f"{type_name}|{element['ref']}"
            return [self._child(leaf, leaf, leaf, element, max_, "BackboneElement", Kind.COMPLEX, backbone,
                                binding, constraints, None)]
        types = element.get("types", [])
        if path in index:  # a backbone element: its children follow in the same definition
            backbone = f"{type_name}|{path}"
            code = types[0]["code"] if types else "BackboneElement"
            return [self._child(leaf, leaf, leaf, element, max_, code, Kind.COMPLEX, backbone,
                                binding, constraints, None)]
        is_choice = leaf.endswith("[x]")
        name = leaf[:-3] if is_choice else leaf
        made: list[Child] = []
        for type_entry in types:
            code = type_entry["code"]
            key = name + _cap(code) if is_choice else name
            step = f"{name}.ofType({code})" if is_choice else name
            kind, node = self._kind_of(code, type_entry.get("profile"))
            targets = frozenset(type_entry.get("targets", ())) if code == "Reference" else None
            made.append(self._child(key, name, step, element, max_, code, kind, node,
                                    binding, constraints, targets))
        return made

    def _kind_of(self, code: str, profile: str | None) -> tuple[Kind, str | None]:
        info = self._types.get(code)
        if info is None:
            return Kind.COMPLEX, None
        if info["kind"] == "primitive-type":
            return Kind.PRIMITIVE, None
        if info["kind"] == "resource":
            return Kind.RESOURCE, None
        if profile and profile in self._types:
            return Kind.COMPLEX, profile
        return Kind.COMPLEX, code

    @staticmethod
    def _child(
        key: str,
        name: str,
        step: str,
        element: dict[str, Any],
        max_: int,
        code: str,
        kind: Kind,
        node: str | None,
        binding: ValueSetCodes | None,
        constraints: tuple[str, ...],
        targets: frozenset[str] | None,
    ) -> Child:
        return Child(
            key=key,
            name=name,
            step=step,
            element=element["path"],
            min=int(element["min"]),
            max=max_,
            many=element["max"] != "1",
            type_code=code,
            kind=kind,
            node=node,
            binding=binding,
            constraints=constraints,
            targets=targets,
        )

    # --- the FHIRPath model -------------------------------------------------------------------------

    def fhirpath_model(self) -> dict[str, Any]:
        """The type model fhirpathpy needs (same shape as its bundled models), built from this table."""
        path2type: dict[str, str] = {}
        choices: dict[str, list[str]] = {}
        elsewhere: dict[str, str] = {}
        type2parent: dict[str, str] = {}
        for name, info in self._types.items():
            if "profileOf" in info:
                continue
            if info.get("base"):
                type2parent[name] = info["base"]
            elements = info.get("elements", [])
            parents = {e["path"].rsplit(".", 1)[0] for e in elements}
            for element in elements:
                path = element["path"]
                if "ref" in element:
                    elsewhere[path] = element["ref"]
                    continue
                if path in parents:
                    continue  # backbone: typed by its path
                types = [t["code"] for t in element.get("types", [])]
                if path.endswith("[x]"):
                    stem = path[:-3]
                    choices[stem] = [_cap(code) for code in types]
                    for code in types:
                        path2type[stem + _cap(code)] = code
                elif types:
                    path2type[path] = types[0]
        return {
            "path2Type": path2type,
            "choiceTypePaths": choices,
            "pathsDefinedElsewhere": elsewhere,
            "type2Parent": type2parent,
        }
