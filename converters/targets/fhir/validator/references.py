"""Resolving the references of a bundle inside the bundle (FHIR bundle.html#references).

A reference resolves when it points at an entry of the same bundle:
- an absolute URL or a `urn:uuid:` / `urn:oid:` reference matches an entry's `fullUrl`;
- a relative reference `Type/id` is resolved against the base of the referring entry's `fullUrl` when that
  is a RESTful URL; otherwise (a `urn:uuid:` fullUrl, or none) it matches an entry without a RESTful
  fullUrl whose resource has that type and id, as servers do when they process the bundle;
- in a transaction or batch, a conditional reference `Type?query` matches an entry written conditionally
  with the same query (`request.url` = `Type?query`, or `ifNoneExist` = `query`), or, for an
  `identifier=system|value` query, an entry of that type carrying that identifier;
- `#id` points into `contained` and is checked by invariant ref-1, not here.
A version suffix `/_history/n` is ignored for matching. Searchset, history and response bundles are not
checked: their references point at the server that produced them. What a `Type/id` reference may look
like comes from the definition table: the version's resource types and the official regex of `id`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from converters.problem_codes import fhir_validation as codes
from converters.problems import ProblemKind
from converters.targets.fhir.validator.definitions import Definitions
from converters.targets.fhir.validator.scope import Scope

_HISTORY = re.compile(r"/_history/[^/]*$")
_NOT_CHECKED = frozenset({"searchset", "history", "batch-response", "transaction-response"})
_CONDITIONAL_OK = frozenset({"transaction", "batch"})


@dataclass(frozen=True, slots=True)
class ReferenceSyntax:
    """How a literal reference names its target in one FHIR version (references.html#literal)."""

    resource_types: frozenset[str]
    restful: re.Pattern[str]  # `[base/]Type/id`, with the groups base, type and id


def reference_syntax(definitions: Definitions) -> ReferenceSyntax:
    """The reference syntax of a version: its resource types, and `Type/id` with the official `id` regex."""
    id_type = definitions.primitive("id")
    if id_type is None or not id_type.regex:
        raise ValueError(f"the FHIR {definitions.version} definition table has no regex for the id type")
    restful = re.compile(rf"^(?P<base>.*?/)?(?P<type>[A-Z][A-Za-z]+)/(?P<id>{id_type.regex})$", re.ASCII)
    return ReferenceSyntax(definitions.resource_types, restful)


@dataclass(frozen=True, slots=True)
class ReferenceUse:
    """A literal reference met during the walk."""

    path: str  # FHIRPath of the `reference` element
    reference: str
    element: str  # definition path of the Reference element
    allowed: frozenset[str] | None  # allowed target resource types
    literal_type: str | None  # the type the reference names itself (`Organization/1` -> Organization)
    scope: Scope


def _strip_history(reference: str) -> str:
    return _HISTORY.sub("", reference) if "/_history/" in reference else reference


def literal_type(reference: str, syntax: ReferenceSyntax) -> str | None:
    """The resource type a literal reference names (`Type/id`, `.../Type/id`, `Type?query`), if any."""
    if reference.startswith(("#", "urn:")):
        return None
    head = reference.split("?", 1)
    if len(head) == 2:
        name = head[0].rsplit("/", 1)[-1]
        return name if name in syntax.resource_types else None
    match = syntax.restful.match(_strip_history(reference))
    if match is None or match.group("type") not in syntax.resource_types:
        return None
    return match.group("type")


def _query_key(query: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(parse_qsl(query, keep_blank_values=True)))


@dataclass(slots=True)
class _Target:
    resource_type: str | None


@dataclass(slots=True)
class BundleIndex:
    """Where each entry of a bundle can be found: by fullUrl, by Type/id, by conditional query."""

    by_full_url: dict[str, _Target]
    by_type_id: dict[str, _Target]
    by_condition: dict[tuple[str, tuple[tuple[str, str], ...]], _Target]
    by_identifier: dict[tuple[str, str, str], _Target]


def index_bundle(bundle: Mapping[str, Any], conditional: bool = True) -> BundleIndex:
    """The bundle's entries by fullUrl and Type/id, and (`conditional`: some reference is a conditional one)
    by search query and identifier, which only conditional references are resolved through."""
    index = BundleIndex({}, {}, {}, {})
    entries = bundle.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping):
            continue
        resource = entry.get("resource")
        resource_type = resource.get("resourceType") if isinstance(resource, Mapping) else None
        target = _Target(resource_type if isinstance(resource_type, str) else None)
        full_url = entry.get("fullUrl")
        if isinstance(full_url, str):
            index.by_full_url[_strip_history(full_url)] = target
        restful = isinstance(full_url, str) and "://" in full_url
        if isinstance(resource, Mapping) and isinstance(resource_type, str):
            rid = resource.get("id")
            if isinstance(rid, str) and not restful:
                index.by_type_id.setdefault(f"{resource_type}/{rid}", target)
            if not conditional:
                continue  # the rest of the entry serves conditional references only
            identifiers = resource.get("identifier")
            for identifier in identifiers if isinstance(identifiers, list) else []:
                if isinstance(identifier, Mapping):
                    system, value = identifier.get("system"), identifier.get("value")
                    if isinstance(value, str):
                        key = (resource_type, system if isinstance(system, str) else "", value)
                        index.by_identifier.setdefault(key, target)
        request = entry.get("request")
        if isinstance(request, Mapping):
            url = request.get("url")
            if isinstance(url, str) and "?" in url:
                rtype, query = url.split("?", 1)
                index.by_condition.setdefault((rtype.rsplit("/", 1)[-1], _query_key(query)), target)
            if_none_exist = request.get("ifNoneExist")
            if isinstance(url, str) and isinstance(if_none_exist, str):
                rtype = url.split("?", 1)[0].rsplit("/", 1)[-1]
                index.by_condition.setdefault((rtype, _query_key(if_none_exist.lstrip("?"))), target)
    return index


def _resolve_conditional(reference: str, index: BundleIndex) -> _Target | None:
    rtype, query = reference.split("?", 1)
    rtype = rtype.rsplit("/", 1)[-1]
    params = _query_key(query)
    found = index.by_condition.get((rtype, params))
    if found is not None:
        return found
    identifiers = [value for name, value in params if name == "identifier"]
    if identifiers and len(identifiers) == len(params):
        for token in identifiers:
            system, sep, value = token.partition("|")
            hit = index.by_identifier.get((rtype, system, value) if sep else (rtype, "", token))
            if hit is not None:
                return hit
    return None


def resolve(use: ReferenceUse, index: BundleIndex, syntax: ReferenceSyntax) -> _Target | None:
    reference = _strip_history(use.reference)
    if "?" in reference:
        return _resolve_conditional(reference, index)
    if "://" in reference or reference.startswith("urn:"):
        return index.by_full_url.get(reference)
    full_url = use.scope.full_url
    if full_url and "://" in full_url:
        match = syntax.restful.match(_strip_history(full_url))
        base = match.group("base") if match is not None else None
        return index.by_full_url.get(base + reference) if base else None
    return index.by_type_id.get(reference)


def check_bundle(
    bundle: Mapping[str, Any], uses: list[ReferenceUse], syntax: ReferenceSyntax
) -> Iterator[tuple[ProblemKind, ReferenceUse, dict[str, object]]]:
    """Problems for the references of one bundle that do not resolve or resolve to a wrong type."""
    bundle_type = bundle.get("type")
    if bundle_type in _NOT_CHECKED or not uses:
        return
    index = index_bundle(bundle, conditional=any("?" in use.reference for use in uses))
    for use in uses:
        if use.reference.startswith("#"):
            continue
        if "?" in use.reference and bundle_type not in _CONDITIONAL_OK:
            yield codes.FHIR_REFERENCE_UNRESOLVED, use, {
                "element": use.element, "reference": use.reference,
                "why": " (conditional references are only resolved in transaction and batch bundles)",
            }
            continue
        target = resolve(use, index, syntax)
        if target is None:
            yield codes.FHIR_REFERENCE_UNRESOLVED, use, {"element": use.element, "reference": use.reference,
                                                        "why": ""}
            continue
        allowed = use.allowed
        if (
            target.resource_type is not None
            and use.literal_type is None
            and allowed
            and "Resource" not in allowed
            and target.resource_type not in allowed
        ):
            yield codes.FHIR_REFERENCE_TARGET, use, {
                "element": use.element, "target": target.resource_type, "allowed": " or ".join(sorted(allowed)),
            }
