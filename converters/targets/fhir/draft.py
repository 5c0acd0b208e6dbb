"""A resource under construction that remembers where each of its values came from.

Builders write values through `Draft.set` / `Draft.add` and name the study.json pointers a value was derived
from; the bundle assembler turns those paths into JSON pointers / FHIRPaths of the bundle for the trace
sidecar. Keeping the bookkeeping here keeps the builders to one line per FHIR element.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

PathPart = str | int
ElementPath = tuple[PathPart, ...]

# All ids the writers mint live under this namespace: uuid5(namespace, "<kind>|<identity>").
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://trialbridge.dev/fhir")


_NAMESPACE_BYTES = ID_NAMESPACE.bytes


def minted_id(kind: str, identity: str) -> str:
    """A deterministic resource id from what identifies the thing (never from its position or the clock).

    `str(uuid.uuid5(ID_NAMESPACE, f"{kind}|{identity}"))`, computed without the UUID object: the SHA-1 of the
    namespace and the name, its version and variant bits set, formatted 8-4-4-4-12 (a study mints dozens)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + f"{kind}|{identity}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def normalise_name(text: str) -> str:
    """Case- and spacing-insensitive form of a name, for identity (not for display)."""
    return " ".join(text.casefold().replace(",", " ").replace(".", " ").split())


@dataclass
class Draft:
    """One FHIR resource being built: its JSON body and the trace of its elements."""

    resource_type: str
    id: str
    identifier_system: str | None = None  # the business identifier used for conditional updates
    identifier_value: str | None = None
    body: dict[str, Any] = field(default_factory=dict)
    trace: list[tuple[ElementPath, str]] = field(default_factory=list)
    filled: bool = False  # set by a builder once it has written the body (shared resources are built once)

    def __post_init__(self) -> None:
        self.body = {"resourceType": self.resource_type, "id": self.id, **self.body}

    @property
    def full_url(self) -> str:
        return f"urn:uuid:{self.id}"

    def reference(self, display: str | None = None) -> dict[str, str]:
        ref = {"reference": self.full_url}
        if display:
            ref["display"] = display
        return ref

    def note(self, path: ElementPath, *sources: str) -> None:
        """Record that the element at `path` (inside this resource) came from these study pointers."""
        for source in sources:
            if source:
                self.trace.append((path, source))

    def set(self, key: str, value: Any, *sources: str) -> None:
        self.body[key] = value
        self.note((key,), *sources)

    def add(self, key: str, value: Any, *sources: str, inner: dict[ElementPath, tuple[str, ...]] | None = None) -> int:
        """Append `value` to the list `key`; `sources` trace the whole item, `inner` its sub-elements."""
        items = self.body.setdefault(key, [])
        items.append(value)
        index = len(items) - 1
        self.note((key, index), *sources)
        for sub, pointers in (inner or {}).items():
            self.note((key, index, *sub), *pointers)
        return index
