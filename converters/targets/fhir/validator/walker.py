"""One pass over a FHIR JSON resource: structure, cardinality, primitives, bindings, invariants, references.

The walk follows the JSON and the compiled definitions side by side. For every object it looks up each
property in the node's `NodeSpec` (unknown elements), checks the JSON shape (arrays for repeating
elements, objects for complex ones), counts occurrences against min/max, checks primitive values
(`primitives.py`) and required bindings, checks ele-1 directly, and evaluates the node's invariants.
References are collected as it goes; in a bundle they are resolved once the bundle is walked
(`references.py`). Every problem gets the FHIRPath of its element, built while descending.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from converters.problem_codes import fhir_validation as codes
from converters.problems import Location, Problem, ProblemKind, Severity
from converters.targets.fhir.validator import primitives, references
from converters.targets.fhir.validator.definitions import Child, Definitions, Kind, NodeSpec, ValueSetCodes
from converters.targets.fhir.validator.invariants import Engine, Invariant, prepare
from converters.targets.fhir.validator.scope import Scope


@dataclass(slots=True, eq=False)
class Collector:
    """What one `validate` call accumulates: problems, skips already reported, references per bundle."""

    file: str | None
    problems: list[Problem] = field(default_factory=list)
    skipped: set[str] = field(default_factory=set)
    ref_frames: list[list[references.ReferenceUse]] = field(default_factory=list)

    def add(self, kind: ProblemKind, path: str, scope: Scope | None, /, **params: object) -> None:
        record = scope.record if scope is not None else None
        self.problems.append(kind(Location(file=self.file, record=record, path=path), **params))

    def add_at(self, kind: ProblemKind, severity: Severity, path: str, scope: Scope | None, /,
               **params: object) -> None:
        record = scope.record if scope is not None else None
        self.problems.append(kind.at(severity, Location(file=self.file, record=record, path=path), **params))


_CODED_TYPES = frozenset({"Coding", "CodeableConcept", "CodeableReference"})

#: dom-6 (a resource should have narrative) does not apply to contained resources: "Contained resources do
#: not have narrative" (DomainResource.text, comment, R4 and R5).
_NOT_FOR_CONTAINED = frozenset({"dom-6"})


def _choose(chosen: dict[str, list[str]] | None, child: Child) -> dict[str, list[str]]:
    """Record which type of a choice element `x[x]` an object gives (to count them afterwards)."""
    if chosen is None:
        chosen = {}
    given = chosen.setdefault(child.name, [])
    if child.key not in given:
        given.append(child.key)
    return chosen


#: How many passed values of one primitive type the walker remembers (then it starts again).
_FINE_LIMIT = 8192


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bound(max_: int) -> str:
    return "*" if max_ < 0 else str(max_)


class Walker:
    """Walks resources of one FHIR version; holds the prepared invariants and primitive checkers.

    Per validator it also remembers, per primitive type, up to `_FINE_LIMIT` string values its checker already
    passed: codes, system URIs, references and dates repeat across a bundle, and a check depends on the value
    alone. Nodes' specs and checkers are kept on the `Child` that leads to them (looked up once).
    """

    def __init__(self, definitions: Definitions, engine: Engine) -> None:
        self.defs = definitions
        self.engine = engine
        self.label = definitions.label
        self._invariants: dict[str, Invariant] = {}
        self._checkers: dict[str, primitives.Checker] = {}
        self._fine: dict[str, set[str]] = {}
        self._element_spec = definitions.spec("Element")
        self._reference_syntax = references.reference_syntax(definitions)

    # --- cached preparations ---------------------------------------------------------------------

    def invariant(self, constraint_id: str) -> Invariant:
        found = self._invariants.get(constraint_id)
        if found is None:
            found = prepare(constraint_id, self.defs.constraint(constraint_id))
            self._invariants[constraint_id] = found
        return found

    def checker(self, type_code: str) -> primitives.Checker:
        found = self._checkers.get(type_code)
        if found is None:
            found = primitives.make_checker(type_code, self.defs.primitive(type_code))
            self._checkers[type_code] = found
        return found

    def _prepare_primitive(self, child: Child) -> tuple[primitives.Checker, set[str]]:
        """Keep the checker of a primitive child, and the set of its type's values already found fine, on it."""
        child.primitive = (self.checker(child.type_code), self._fine.setdefault(child.type_code, set()))
        return child.primitive

    # --- resources -------------------------------------------------------------------------------

    def resource(
        self,
        obj: Mapping[str, Any],
        prefix: str,
        col: Collector,
        container: Scope | None = None,
        full_url: str | None = None,
    ) -> None:
        """Walk one resource; `prefix` is the path of the element holding it ('' at the top)."""
        resource_type = obj.get("resourceType")
        where = prefix or "$this"
        if not isinstance(resource_type, str):
            severity = Severity.ERROR if prefix else Severity.FATAL
            col.add_at(codes.FHIR_NOT_A_RESOURCE, severity, where, container,
                       what="object" if prefix else "document", reason="it has no resourceType")
            return
        if resource_type not in self.defs.resource_types:
            col.add(codes.FHIR_RESOURCE_TYPE_UNKNOWN, f"{where}.resourceType", container,
                    resource_type=resource_type, version=self.label)
            return
        spec = self.defs.spec(resource_type)
        if spec is None:  # pragma: no cover - every resource type in the table has elements
            return
        path = f"{prefix}.ofType({resource_type})" if prefix else resource_type
        rid = obj.get("id")
        scope = Scope(
            resource=obj,
            root=container.root if container is not None else obj,
            record=f"{resource_type}/{rid}" if isinstance(rid, str) else (container.record if container else None),
            full_url=container.full_url if container is not None else full_url,
            contained=container is not None,
        )
        is_bundle = resource_type == "Bundle"
        if is_bundle:
            col.ref_frames.append([])
        self.object(obj, spec, path, scope, col, None)
        if is_bundle:
            uses = col.ref_frames.pop()
            for kind, at, params in references.check_bundle(obj, uses, self._reference_syntax):
                col.add(kind, at.path, at.scope, **params)

    # --- objects ---------------------------------------------------------------------------------

    def object(
        self,
        node: Mapping[str, Any],
        spec: NodeSpec,
        path: str,
        scope: Scope,
        col: Collector,
        owner: Child | None,
        has_value: bool = False,
    ) -> None:
        """Walk one JSON object; `has_value` is true for the `_name` companion of a primitive that has a value."""
        children = spec.children
        chosen: dict[str, list[str]] | None = None  # choice element name -> the types given
        for key, value in node.items():
            child = children.get(key)
            if child is None:
                if key == "resourceType" and spec.is_resource:
                    continue
                if key[:1] == "_":
                    base = children.get(key[1:])
                    if base is not None and base.kind is Kind.PRIMITIVE:
                        if base.key != base.name:
                            chosen = _choose(chosen, base)
                        self.companion(value, node.get(base.key), base, path, scope, col)
                        continue
                col.add(codes.FHIR_UNKNOWN_ELEMENT, f"{path}.{key}", scope, name=key,
                        context=spec.element, version=self.label)
                continue
            if child.key != child.name:
                chosen = _choose(chosen, child)
            quiet = child.quiet
            if quiet is not None and type(value) is str and value in quiet and not child.many:
                continue  # a value of its type already found fine, and nothing else to check here
            step = f"{path}.{child.step}"
            if type(value) is list:
                count = len(value)
                if count == 0:
                    col.add(codes.FHIR_JSON_SHAPE, step, scope, element=child.element,
                            reason="an empty array is not allowed; leave the element out")
                    continue
                if not child.many or (child.max >= 0 and count > child.max):
                    col.add(codes.FHIR_CARDINALITY, step, scope, element=child.element, count=count,
                            min=child.min, max=_bound(child.max), version=self.label)
                if child.kind is Kind.PRIMITIVE:
                    self.primitive_list(value, node.get("_" + key), child, step, scope, col)
                else:
                    for index, item in enumerate(value):
                        self.value(item, child, f"{step}[{index}]", scope, col, node)
            else:
                if child.many:
                    col.add(codes.FHIR_JSON_SHAPE, step, scope, element=child.element,
                            reason="a repeating element must be a JSON array, even with one item")
                self.value(value, child, step, scope, col, node)
        for name, keys in spec.required:
            for key in keys:
                if key in node:
                    break
            else:
                col.add(codes.FHIR_CARDINALITY, f"{path}.{name}", scope,
                        element=f"{spec.element}.{name}", count=0,
                        min=children[keys[0]].min, max=_bound(children[keys[0]].max), version=self.label)
        if chosen is not None:
            for name, found in chosen.items():
                if len(found) > 1:
                    col.add(codes.FHIR_CARDINALITY, f"{path}.{name}", scope,
                            element=f"{spec.element}.{name}[x] ({', '.join(found)})",
                            count=len(found), min=children[found[0]].min, max=1, version=self.label)
        if not spec.is_resource and not has_value:
            for key in node:
                if key != "id":
                    break
            else:
                self.ele_1(path, spec.element, scope, col)
        prepared = owner.prepared if owner is not None else spec.prepared
        if prepared is None:
            prepared = self.prepare(spec, owner)
        if prepared:
            self.invariants(prepared, node, spec.fhirpath_type, path, spec.element, scope, col)

    def value(
        self,
        item: Any,
        child: Child,
        path: str,
        scope: Scope,
        col: Collector,
        parent: Mapping[str, Any],
    ) -> None:
        kind = child.kind
        if kind is Kind.PRIMITIVE:
            self.primitive(item, child, path, scope, col)
            return
        if type(item) is not dict and not isinstance(item, Mapping):
            col.add(codes.FHIR_JSON_SHAPE, path, scope, element=child.element,
                    reason=f"a {child.type_code} must be a JSON object, not {_show(item)}")
            return
        if kind is Kind.RESOURCE:
            if child.element.endswith(".contained"):
                self.resource(item, path, col, container=scope)
            else:
                full_url = parent.get("fullUrl") if child.element == "Bundle.entry.resource" else None
                self.resource(item, path, col, full_url=full_url if isinstance(full_url, str) else None)
            return
        spec = child.spec
        if spec is None:
            node_key = child.node
            spec = child.spec = self.defs.spec(node_key) if node_key else None
            if spec is None:
                return
        self.object(item, spec, path, scope, col, child)
        type_code = child.type_code
        if child.binding is not None and type_code in _CODED_TYPES:
            self.coded_binding(item, child, path, scope, col)
        elif type_code == "Reference":
            self.reference(item, child, path, scope, col)

    # --- primitives ------------------------------------------------------------------------------

    def primitive(self, item: Any, child: Child, path: str, scope: Scope, col: Collector) -> None:
        if item is None:
            col.add(codes.FHIR_JSON_SHAPE, path, scope, element=child.element,
                    reason="null is only allowed inside the array of a repeating primitive")
            return
        checker, fine = child.primitive or self._prepare_primitive(child)
        if type(item) is not str or item not in fine:  # strings repeat (codes, systems, dates): checked once
            reason = checker(item)
            if reason is not None:
                col.add(codes.FHIR_FORMAT, path, scope, element=child.element, value=_show(item),
                        type=child.type_code, reason=reason)
                return
            if type(item) is str:
                if len(fine) >= _FINE_LIMIT:
                    fine.clear()
                fine.add(item)
        if child.binding is not None:
            self.code_binding(item, child, path, scope, col)
        prepared = child.prepared
        if prepared is None:
            prepared = self.prepare(None, child)
            if not prepared and child.binding is None:
                child.quiet = fine
        if prepared:
            self.invariants(prepared, item, child.type_code, path, child.element, scope, col)

    def primitive_list(
        self, values: list[Any], companion: Any, child: Child, path: str, scope: Scope, col: Collector
    ) -> None:
        extras = companion if isinstance(companion, list) else None
        if companion is not None and (extras is None or len(extras) != len(values)):
            col.add(codes.FHIR_JSON_SHAPE, path, scope, element=child.element,
                    reason=f"_{child.key} must be an array as long as {child.key}")
        for index, item in enumerate(values):
            if item is None and extras is not None and index < len(extras) and extras[index] is not None:
                continue  # the value is absent but the item has an id or extensions
            self.primitive(item, child, f"{path}[{index}]", scope, col)

    def companion(
        self, value: Any, primitive_value: Any, child: Child, path: str, scope: Scope, col: Collector
    ) -> None:
        """`_name`: the id and extensions of a primitive (an array of them for repeating primitives)."""
        step = f"{path}.{child.step}"
        spec = self._element_spec
        if spec is None:  # pragma: no cover - Element is always in the table
            return
        if isinstance(value, list):
            values = primitive_value if isinstance(primitive_value, list) else []
            for index, item in enumerate(value):
                present = index < len(values) and values[index] is not None
                if item is None:
                    if not present:
                        col.add(codes.FHIR_JSON_SHAPE, f"{step}[{index}]", scope, element=child.element,
                                reason="the value and its _companion are both null")
                    continue
                if not isinstance(item, Mapping):
                    col.add(codes.FHIR_JSON_SHAPE, f"{step}[{index}]", scope, element=child.element,
                            reason=f"_{child.key} items must be objects or null")
                    continue
                self.object(item, spec, f"{step}[{index}]", scope, col, None, has_value=present)
            return
        if not isinstance(value, Mapping):
            col.add(codes.FHIR_JSON_SHAPE, step, scope, element=child.element,
                    reason=f"_{child.key} must be an object holding the id and extensions of {child.key}")
            return
        self.object(value, spec, step, scope, col, None, has_value=primitive_value is not None)

    # --- invariants ------------------------------------------------------------------------------

    def ele_1(self, path: str, element: str, scope: Scope, col: Collector) -> None:
        """Report ele-1 on an element that has neither a value nor children (`id` alone does not count)."""
        invariant = self.invariant("ele-1")
        if not invariant.in_walker:
            return  # its official expression is not the one this check implements: the engine evaluates it
        col.add_at(codes.FHIR_INVARIANT, invariant.severity, path, scope, element=element,
                   key="ele-1", human=invariant.human)

    def prepare(self, spec: NodeSpec | None, owner: Child | None) -> tuple[Invariant, ...]:
        """The invariants to evaluate on a node (its element's, then its type's), kept on the spec or child."""
        ids: list[str] = list(owner.constraints) if owner is not None else []
        if spec is not None:
            ids += [c for c in spec.constraints if c not in ids]
        prepared = tuple(inv for inv in (self.invariant(i) for i in ids) if not inv.in_walker)
        if owner is not None:
            owner.prepared = prepared
        elif spec is not None:
            spec.prepared = prepared
        return prepared

    def invariants(
        self,
        prepared: tuple[Invariant, ...],
        data: Any,
        fhirpath_type: str,
        path: str,
        element: str,
        scope: Scope,
        col: Collector,
    ) -> None:
        variables = scope.variables
        if variables is None:
            variables = scope.variables = self.engine.variables(scope.resource, scope.root)
        evaluate, resource, root, contained = self.engine.evaluate, scope.resource, scope.root, scope.contained
        for invariant in prepared:
            if contained and invariant.key in _NOT_FOR_CONTAINED:
                continue
            outcome = evaluate(invariant, data, fhirpath_type, resource, root, variables)
            if outcome is True:
                continue
            if outcome is False:
                col.add_at(codes.FHIR_INVARIANT, invariant.severity, path, scope, element=element,
                           key=invariant.key, human=invariant.human)
            elif invariant.id not in col.skipped:
                col.skipped.add(invariant.id)
                col.add(codes.FHIR_INVARIANT_SKIPPED, path, scope, element=element, key=invariant.key,
                        reason=outcome)

    # --- bindings --------------------------------------------------------------------------------

    def _binding_skipped(self, value_set: ValueSetCodes, child: Child, path: str, scope: Scope,
                         col: Collector) -> None:
        marker = f"binding:{value_set.url}"
        if marker not in col.skipped:
            col.skipped.add(marker)
            col.add(codes.FHIR_BINDING_SKIPPED, path, scope, element=child.element, value_set=value_set.url,
                    reason="; ".join(value_set.gaps))

    def code_binding(self, item: Any, child: Child, path: str, scope: Scope, col: Collector) -> None:
        value_set = child.binding
        if value_set is None or not isinstance(item, str) or item in value_set.all_codes:
            return
        if value_set.gaps:
            self._binding_skipped(value_set, child, path, scope, col)
            return
        col.add(codes.FHIR_BINDING, path, scope, element=child.element, value=repr(item),
                value_set=value_set.url)

    def coded_binding(
        self, item: Mapping[str, Any], child: Child, path: str, scope: Scope, col: Collector
    ) -> None:
        value_set = child.binding
        if value_set is None:
            return
        if child.type_code == "Coding":
            codings: Any = [item]
            base = path
        elif child.type_code == "CodeableReference":
            concept = item.get("concept")
            if not isinstance(concept, Mapping):
                return
            codings = concept.get("coding")
            base = f"{path}.concept.coding"
        else:
            codings = item.get("coding")
            base = f"{path}.coding"
        if not isinstance(codings, list):
            codings = []
        pairs = [(c.get("system"), c.get("code")) for c in codings if isinstance(c, Mapping)]
        for system, code in pairs:
            if isinstance(system, str) and code in value_set.by_system.get(system, frozenset()):
                return
        if value_set.gaps:
            self._binding_skipped(value_set, child, path, scope, col)
            return
        shown = ", ".join(f"{s}|{c}" for s, c in pairs) or "no coding"
        where = base if child.type_code == "Coding" or not pairs else f"{base}[0]"
        col.add(codes.FHIR_BINDING, where, scope, element=child.element, value=f"({shown})",
                value_set=value_set.url)

    # --- references ------------------------------------------------------------------------------

    def reference(
        self, item: Mapping[str, Any], child: Child, path: str, scope: Scope, col: Collector
    ) -> None:
        target = item.get("reference")
        if not isinstance(target, str):
            return
        at = f"{path}.reference"
        allowed = child.targets
        literal_type = references.literal_type(target, self._reference_syntax)
        if (
            literal_type is not None
            and allowed
            and "Resource" not in allowed
            and literal_type not in allowed
        ):
            col.add(codes.FHIR_REFERENCE_TARGET, at, scope, element=child.element, target=literal_type,
                    allowed=" or ".join(sorted(allowed)))
        if col.ref_frames:
            col.ref_frames[-1].append(
                references.ReferenceUse(at, target, child.element, allowed, literal_type, scope)
            )
