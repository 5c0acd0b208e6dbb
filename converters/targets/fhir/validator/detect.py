"""Guess whether a FHIR JSON document is R4 or R5 from what only one of the two versions has.

FHIR JSON does not carry its version. The heuristic, in order:
1. an element that states the version (`fhirVersion` of CapabilityStatement, StructureDefinition,
   ImplementationGuide, ...): 4.0.x -> R4, 5.0.x -> R5;
2. resource types that exist in only one version;
3. top-level elements that exist in only one version's definition of a resource type shared by both
   (R5-only: ResearchStudy.progressStatus, .recruitment, .associatedParty, Bundle.issues,
   Group.membership, ...; R4-only: ResearchStudy.enrollment, .sponsor, .arm, Group.actual, ...).
Every resource of the document is looked at (bundle entries, contained resources, nested bundles). The
first two rules are decisive; for the third the version with more evidence wins. Returns None when the
document gives no evidence or contradicting evidence in equal amounts. The lists of rule 2 and 3 are
computed from the two official packages at build time (`defs/version-markers.json`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from converters.targets.fhir.validator.definitions import DEFS_DIR, MARKERS_FILE


def load_markers(defs_dir: Path = DEFS_DIR) -> dict[str, Any]:
    markers: dict[str, Any] = json.loads((defs_dir / MARKERS_FILE).read_text(encoding="utf-8"))
    return markers


def _resources(obj: Any, depth: int = 0) -> Iterator[Mapping[str, Any]]:
    if not isinstance(obj, Mapping) or depth > 50:
        return
    if isinstance(obj.get("resourceType"), str):
        yield obj
    for key in ("contained", "entry"):
        items = obj.get(key)
        for item in items if isinstance(items, list) else []:
            if key == "entry" and isinstance(item, Mapping):
                yield from _resources(item.get("resource"), depth + 1)
            else:
                yield from _resources(item, depth + 1)


def _stated(resource: Mapping[str, Any]) -> str | None:
    value = resource.get("fhirVersion")
    if isinstance(value, str):
        if value.startswith("4.0"):
            return "R4"
        if value.startswith("5.0"):
            return "R5"
    return None


def detect_version(obj: Any, *, markers: Mapping[str, Any] | None = None) -> str | None:
    """'R4', 'R5' or None (see the module docstring for the heuristic)."""
    table = markers if markers is not None else load_markers()
    only_types = {label: frozenset(m["resourceTypes"]) for label, m in table.items()}
    only_elements = {
        label: {name: frozenset(keys) for name, keys in m["elements"].items()} for label, m in table.items()
    }
    score = dict.fromkeys(table, 0)
    for resource in _resources(obj):
        stated = _stated(resource)
        if stated is not None:
            return stated
        resource_type = resource["resourceType"]
        for label in table:
            if resource_type in only_types[label]:
                return label
            own = only_elements[label].get(resource_type)
            if own:
                score[label] += sum(1 for key in resource if key in own)
    best = max(score.values(), default=0)
    winners = [label for label, value in score.items() if value == best]
    return winners[0] if best > 0 and len(winners) == 1 else None
