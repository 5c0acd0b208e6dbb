"""FHIR Bulk Data output (the NDJSON of `$export`, which servers `$import`): one file per resource type, one
resource per line, for every study of a run.

A study's bundle refers to its own entries by `urn:uuid:` full URLs. Outside the bundle those mean nothing, so
each such reference becomes the literal `Type/id` of the entry it names (every entry's id is its uuid)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from converters import jsonio
from converters.targets.bulk import json_line

# A `reference` member with a string value, as orjson writes it in a compact line. An unescaped quote after `{`
# or `,` can only open a key (a string holds no raw quote, and a value's closing quote is followed by `,` `}` `]`
# or `:`), so with that byte before it an occurrence is exactly a member a walk of the JSON would find.
_MEMBER = b'"reference":"'


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


def _encoded(targets: dict[str, str]) -> dict[bytes, bytes]:
    """The targets as their JSON string encodings (one encoding per string, so equal bytes mean equal strings)."""
    return {jsonio.dumps_line(url): jsonio.dumps_line(local) for url, local in targets.items()}


def relinked_line(resource: dict[str, Any], targets: dict[bytes, bytes]) -> bytes:
    """A resource as one NDJSON line with every `reference` to a bundle entry made `Type/id`.

    The same bytes as serialising a relinked copy of the resource, made by rewriting the serialised line (C-speed
    searches) instead of copying the resource's JSON tree in Python. The targets' encodings hold no backslash
    (`_encoded`), so a value equals one only if its text up to the first quote is backslash-free and equals it."""
    line = json_line(resource)
    parts: list[bytes] = []
    done = 0
    at = line.find(_MEMBER)
    while at != -1:
        value = at + len(_MEMBER) - 1  # the value's opening quote
        close = line.find(b'"', value + 1)
        local = targets.get(line[value:close + 1])
        if local is not None and line[at - 1] in b"{," and b"\\" not in line[value:close]:
            parts += (line[done:value], local)
            done = close + 1
        at = line.find(_MEMBER, close + 1)
    if not parts:
        return line
    parts.append(line[done:])
    return b"".join(parts)


def _relink(value: Any, targets: dict[str, str]) -> Any:
    """A copy of a resource's JSON with every `reference` to a bundle entry made `Type/id` (the general walk, for
    full URLs whose encodings hold escapes: never a bundle's `urn:uuid:` URLs)."""
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
    encoded = _encoded(targets)
    plain = not any(b"\\" in url for url in encoded)
    part = BulkPart()
    for entry in bundle.get("entry", []):
        resource = entry.get("resource")
        if isinstance(resource, dict) and resource.get("resourceType"):
            line = relinked_line(resource, encoded) if plain else json_line(_relink(resource, targets))
            part.lines.setdefault(resource["resourceType"], []).append(line)
    part.trace = json_line({"study": study_id, "bundle": bundle.get("id"), **trace})
    return part
