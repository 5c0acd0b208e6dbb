"""One study -> one FHIR Bundle (collection or transaction) plus its trace sidecar.

Bundle entries use `urn:uuid:<id>` full URLs and every reference points at one, so references resolve inside
the bundle and a server rewrites them on a transaction. In a transaction every entry is a conditional update on
its business identifier (`PUT ResearchStudy?identifier=https://clinicaltrials.gov|NCT...`), so loading the
same study twice creates no duplicates. Resource ids are uuid5 of what identifies the thing, so the same
input gives the same bytes.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import quote

from converters.model import SourceLocation, Study
from converters.model.schedule import derive_schedule
from converters.model.text import plain_text_view
from converters.problems import Problem
from converters.resources import Resources
from converters.targets.fhir.context import BuildContext
from converters.targets.fhir.draft import Draft, ElementPath, minted_id
from converters.targets.fhir.eligibility import CriterionCoder, build_eligibility_group
from converters.targets.fhir.maps import FhirMaps
from converters.targets.fhir.narrative import Row, narrative
from converters.targets.fhir.plan_definition import build_plan_definition
from converters.targets.fhir.research_study import build_research_study, study_business_identifier

BundleType = Literal["collection", "transaction"]
_FIRST_KEYS = ("resourceType", "id", "meta", "text", "extension")


@dataclass
class BuiltBundle:
    bundle: dict[str, Any]
    trace: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    # True when the trace holds no float by construction (see `traced`): `jsonio.dumps_floatless` may
    # write it without looking for floats
    trace_floatless: bool = False

    @property
    def resource_count(self) -> int:
        return len(self.bundle.get("entry", []))


def conditional_url(draft: Draft) -> str:
    """`Type?identifier=system|value`, each part percent-encoded where it must be."""
    system = quote(draft.identifier_system or "", safe=":/")
    value = quote(draft.identifier_value or "", safe="")
    return f"{draft.resource_type}?identifier={system}|{value}"


def _ordered(resource: dict[str, Any]) -> dict[str, Any]:
    """Keys in the customary FHIR order at the top (type, id, text, extension), the rest as built."""
    ordered = {k: resource[k] for k in _FIRST_KEYS if k in resource}
    ordered.update(resource)  # keys already there keep their place
    return ordered


def build_bundle(study: Study, maps: FhirMaps, resources: Resources, bundle_type: BundleType = "collection",
                 coder: CriterionCoder | None = None) -> BuiltBundle:
    """Every resource of one study in one Bundle, with the trace of each element back to the source."""
    key = study_business_identifier(study, maps)
    plain = plain_text_view(study)  # strings and narratives are plain text; `markdown` elements via ctx.markdown
    ctx = BuildContext(study=plain, maps=maps, study_key=f"{key.system}|{key.value}",
                       as_read=None if plain is study else study)
    schedule = derive_schedule(plain, resources)
    plan = build_plan_definition(ctx, schedule)
    group = build_eligibility_group(ctx, coder)
    research_study = build_research_study(ctx, key, group, plan)
    drafts = [research_study] + [d for d in ctx.drafts.values() if d is not research_study]
    entries = []
    for draft in drafts:
        if "text" not in draft.body:
            draft.body["text"] = _party_narrative(draft.body)
        entry: dict[str, Any] = {"fullUrl": draft.full_url, "resource": _ordered(draft.body)}
        if bundle_type == "transaction":
            entry["request"] = {"method": "PUT", "url": conditional_url(draft)}
        entries.append(entry)
    bundle = {
        "resourceType": "Bundle",
        "id": minted_id("Bundle", f"{ctx.study_key}|{maps.version}|{bundle_type}"),
        "type": bundle_type,
        "entry": entries,
    }
    trace, floatless = traced(study, drafts)
    return BuiltBundle(bundle=bundle, trace=trace, problems=ctx.problems, trace_floatless=floatless)


def _texts(items: list[dict[str, Any]], key: str = "text") -> list[str]:
    return [str(i[key]) for i in items if i.get(key)]


def _party_narrative(body: dict[str, Any]) -> dict[str, str]:
    """A short generated narrative for Organization, Location, Practitioner and PractitionerRole (dom-6)."""
    kind = body["resourceType"]
    rows: list[Row] = []
    heading = body.get("name") if isinstance(body.get("name"), str) else None
    if kind == "Practitioner":
        heading = next(iter(_texts(body.get("name", []))), None)
        rows.append(("Contact", _texts(body.get("telecom", []), "value")))
    elif kind == "PractitionerRole":
        heading = body.get("practitioner", {}).get("display")
        rows += [("Role", _texts(body.get("code", []))),
                 ("Organization", _texts([body["organization"]], "display") if "organization" in body else []),
                 ("Site", _texts(body.get("location", []), "display"))]
    elif kind == "Organization":
        rows.append(("Type", _texts(body.get("type", []))))
    elif kind == "Location":
        address = body.get("address", {})
        line = ", ".join(address[k] for k in ("city", "state", "postalCode", "country") if k in address)
        rows.append(("Address", [line] if line else []))
        status = [e["valueCodeableConcept"].get("text", "") for e in body.get("extension", [])
                  if "valueCodeableConcept" in e]
        rows.append(("Registry status", [s for s in status if s]))
    return narrative(heading or kind, rows)


# --- trace -------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _path_suffixes(path: ElementPath) -> tuple[str, str]:
    """An element path inside a resource as a JSON-pointer suffix and a FHIRPath suffix.

    A per-process cache: the same few thousand paths (`("site", 3)`, `("name",)`) recur in every study."""
    return ("".join(f"/{p}" for p in path),
            "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path))


@functools.cache
def _scalar_fields(model: type[SourceLocation]) -> bool:
    """Whether every field of the model holds an int, a str or None (per-process cache of a fact about a class)."""
    allowed = {int, str, type(None)}
    return all(set(get_args(f.annotation) or (f.annotation,)) <= allowed for f in model.model_fields.values())


def _location_json(loc: SourceLocation) -> dict[str, Any]:
    """`loc.model_dump(exclude_none=True)`, read straight from the model's values when they are all plain
    scalars (line numbers and a pointer), which is several times cheaper than pydantic's serializer."""
    if _scalar_fields(type(loc)):
        return {k: v for k, v in loc.__dict__.items() if v is not None}
    return loc.model_dump(exclude_none=True)


class _SourceIndex:
    """One study's provenance, indexed once per trace so that finding a pointer's children is a bisection
    instead of a scan of every entry (a large study has thousands of entries and of traced elements).
    The sorted index is made on the first pointer that needs it (most pointers are entries themselves)."""

    def __init__(self, provenance: dict[str, SourceLocation]) -> None:
        self._provenance = provenance
        self._sorted: list[str] | None = None
        self._order: dict[str, int] = {}
        self._dumped: dict[int, dict[str, Any]] = {}  # id of a location -> its JSON (one dump each)
        self.floatless = True  # False once a location was dumped by pydantic (its fields may hold floats)

    def dump(self, loc: SourceLocation) -> dict[str, Any]:
        dumped = self._dumped.get(id(loc))
        if dumped is None:
            if not _scalar_fields(type(loc)):
                self.floatless = False
            dumped = self._dumped[id(loc)] = _location_json(loc)
        return dumped

    def children(self, prefix: str) -> list[SourceLocation]:
        """Locations of the entries under `prefix`, in provenance order, without repeats."""
        keys = self._sorted
        if keys is None:
            keys = self._sorted = sorted(self._provenance)
            self._order = {key: i for i, key in enumerate(self._provenance)}
        start = end = bisect_left(keys, prefix)
        while end < len(keys) and keys[end].startswith(prefix):
            end += 1
        if start == end:
            return []
        under = sorted(keys[start:end], key=self._order.__getitem__)
        unique: dict[tuple[int | None, int | None, str | None], SourceLocation] = {}
        for key in under:
            loc = self._provenance[key]
            unique.setdefault((loc.line, loc.end_line, loc.pointer), loc)
        return list(unique.values())

    def resolve(self, pointer: str) -> list[dict[str, Any]]:
        """Source locations for a study.json pointer: its own entry, else its children's, else its nearest
        parent's."""
        provenance = self._provenance
        if pointer in provenance:
            return [self.dump(provenance[pointer])]
        children = self.children(pointer + "/")
        if children:
            return [self.dump(loc) for loc in children]
        parent = pointer
        while "/" in parent.strip("/"):
            parent = parent.rsplit("/", 1)[0]
            if parent in provenance:
                return [self.dump(provenance[parent])]
        return []


def traced(study: Study, drafts: list[Draft]) -> tuple[dict[str, Any], bool]:
    """The `--trace` sidecar (each output element, as JSON pointer and FHIRPath -> study pointer -> source), and
    whether it holds no float by construction: its paths and pointers are str, the
    source file's fields are str (validated by pydantic), and every location was read from a model whose fields
    are all int, str or None (validated by pydantic when the reader made it; `_scalar_fields` checks the class)."""
    elements: list[dict[str, Any]] = []
    append = elements.append
    cache: dict[str, list[dict[str, Any]]] = {}
    sources = _SourceIndex(study.provenance)
    resolve, dump, provenance = sources.resolve, sources.dump, study.provenance
    for index, draft in enumerate(drafts):
        json_head, fhirpath_head = f"/entry/{index}/resource", f"Bundle.entry[{index}].resource"
        for path, pointer in draft.trace:
            found = cache.get(pointer)
            if found is None:
                loc = provenance.get(pointer)  # the common case, inline: the pointer is an entry itself
                found = cache[pointer] = [dump(loc)] if loc is not None else resolve(pointer)
            json_suffix, fhirpath_suffix = _path_suffixes(path)
            append({"path": json_head + json_suffix, "fhirpath": fhirpath_head + fhirpath_suffix,
                    "study": pointer, "source": found})
    return {
        "source": {"file": study.source.file, "format": study.source.format, "sha256": study.source.sha256,
                   **({"record": study.source.record} if study.source.record else {})},
        "elements": elements,
    }, sources.floatless
