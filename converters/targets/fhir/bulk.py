"""FHIR Bulk Data output (the NDJSON of `$export`, which servers `$import`): one file per resource type, one
resource per line, for every study of a run.

A study's bundle refers to its own entries by `urn:uuid:` full URLs. Outside the bundle those mean nothing, so
each such reference becomes the literal `Type/id` of the entry it names (every entry's id is its uuid)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from converters.targets.bulk import json_line


@dataclass
class BulkPart:
    """One study's lines: resources by type (types in first-seen order), and its trace line."""

    lines: dict[str, list[bytes]] = field(default_factory=dict)
    trace: bytes = b""


def local_references(bundle: dict[str, Any]) -> dict[str, str]:
    """Each entry's full URL -> `Type/id`, for the entries that have both."""
    out: dict[str, str] = {}
    for entry in bundle.get("entry", []):
        resource = entry.get("resource") or {}
        if entry.get("fullUrl") and resource.get("resourceType") and resource.get("id"):
            out[entry["fullUrl"]] = f"{resource['resourceType']}/{resource['id']}"
    return out


def _relink(value: Any, targets: dict[str, str]) -> Any:
    """A copy of a resource's JSON with every `reference` to a bundle entry made `Type/id`."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "reference" and isinstance(item, str) and item in targets:
                out[key] = targets[item]
            else:
                out[key] = _relink(item, targets)
        return out
    if isinstance(value, list):
        return [_relink(item, targets) for item in value]
    return value


def bulk_part(bundle: dict[str, Any], trace: dict[str, Any], study_id: str | None) -> BulkPart:
    """A study's bundle as NDJSON lines per resource type, with its trace as one line."""
    targets = local_references(bundle)
    part = BulkPart()
    for entry in bundle.get("entry", []):
        resource = entry.get("resource")
        if isinstance(resource, dict) and resource.get("resourceType"):
            part.lines.setdefault(resource["resourceType"], []).append(json_line(_relink(resource, targets)))
    part.trace = json_line({"study": study_id, "bundle": bundle.get("id"), **trace})
    return part
